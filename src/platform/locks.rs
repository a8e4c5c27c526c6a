//! The Web Locks API (`navigator.locks.request`): an exclusive lock shared by every tab of this
//! origin, held until the returned guard is dropped. A lock that can't be had — the API is
//! missing, or another holder keeps it past [`WAIT_MS`] — is an error: callers never go ahead
//! unguarded.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    type LockManager;

    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &LockManager, name: &str, options: &JsValue, callback: &Function) -> Promise;
}

/// Longer than the longest section run under the lock: discovery, the token request, and a
/// JWKS fetch plus one refetch (15 s timeout each), and the 1.5 s wait for another tab. A lock
/// not granted by then is given up on (with an error), so a stuck tab can't freeze the others.
pub const WAIT_MS: u32 = 65_000;

/// Why the lock couldn't be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockError {
    /// This browser has no Web Locks.
    Unsupported,
    /// Not granted within [`WAIT_MS`] (or refused).
    TimedOut,
}

/// Releases the lock when dropped.
pub struct LockGuard {
    release: Option<Function>,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Waits for the exclusive lock `name`.
pub async fn acquire(name: &str) -> Result<LockGuard, LockError> {
    let Some(manager) = lock_manager() else {
        return Err(LockError::Unsupported);
    };
    // `held` stays pending until the guard resolves it; the lock lives as long as it does.
    let mut release = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted = None;
    let acquired = Promise::new(&mut |resolve, _| granted = Some(resolve));
    let (Some(release), Some(granted)) = (release, granted) else {
        return Err(LockError::Unsupported);
    };
    let on_grant = granted.clone();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = on_grant.call0(&JsValue::NULL);
        held.into()
    });
    // An AbortController and a timer rather than `AbortSignal.timeout`, which some browsers with
    // Web Locks lack. Aborting after the grant does nothing; a pending request is refused.
    let options = js_sys::Object::new();
    let controller = web_sys::AbortController::new().map_err(|_| LockError::Unsupported)?;
    let _ = Reflect::set(&options, &JsValue::from_str("signal"), &controller.signal());
    if let Some(window) = web_sys::window() {
        let abort = Closure::once_into_js(move || controller.abort());
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            abort.unchecked_ref(),
            WAIT_MS as i32,
        );
    }
    let request = manager.request(name, &options, callback.unchecked_ref());
    // A refused or timed-out request must not leave the caller waiting forever: it learns that
    // it has no lock (`acquired` resolves with `false`).
    let on_refusal = Closure::once(move |_err: JsValue| {
        let _ = granted.call1(&JsValue::NULL, &JsValue::FALSE);
    });
    let _ = request.catch(&on_refusal);
    // Called at most once, possibly after this function returns.
    on_refusal.forget();
    match JsFuture::from(acquired).await {
        Ok(v) if v == JsValue::FALSE => Err(LockError::TimedOut),
        Ok(_) => Ok(LockGuard {
            release: Some(release),
        }),
        Err(_) => Err(LockError::TimedOut),
    }
}
