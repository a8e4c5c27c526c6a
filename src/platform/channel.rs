//! A BroadcastChannel between this app's tabs (same origin only): string messages out, a
//! handler for messages in.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

thread_local! {
    static CHANNEL: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
}

/// Opens the channel `name` and calls `on_message` with every message another tab posts.
pub fn open(name: &str, mut on_message: impl FnMut(String) + 'static) {
    let Ok(channel) = BroadcastChannel::new(name) else {
        return;
    };
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(text) = event.data().as_string() {
            on_message(text);
        }
    });
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the page.
    handler.forget();
    CHANNEL.with(|c| *c.borrow_mut() = Some(channel));
}

/// Posts `message` to every other tab listening on the channel.
pub fn post(message: &str) {
    CHANNEL.with(|c| {
        if let Some(channel) = c.borrow().as_ref() {
            let _ = channel.post_message(&JsValue::from_str(message));
        }
    });
}
