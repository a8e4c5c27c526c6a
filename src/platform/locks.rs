//! The Web Locks API (`navigator.locks.request`): an exclusive lock shared by every tab of this
//! origin, held until the returned guard is dropped. Where the API is missing, callers proceed
//! unguarded (within one tab the single-threaded event loop and re-reads still apply).

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    type LockManager;

    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &LockManager, name: &str, options: &JsValue, callback: &Function) -> Promise;
}

/// Longer than any request (15 s): a lock not granted by then is given up on, so a stuck tab
/// can't freeze the others.
const WAIT_MS: u32 = 20_000;

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
pub async fn acquire(name: &str) -> LockGuard {
    let Some(manager) = lock_manager() else {
        return LockGuard { release: None };
    };
    // `held` stays pending until the guard resolves it; the lock lives as long as it does.
    let mut release = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted = None;
    let acquired = Promise::new(&mut |resolve, _| granted = Some(resolve));
    let (Some(release), Some(granted)) = (release, granted) else {
        return LockGuard { release: None };
    };
    let on_grant = granted.clone();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = on_grant.call0(&JsValue::NULL);
        held.into()
    });
    let options = js_sys::Object::new();
    let signal = web_sys::AbortSignal::timeout_with_u32(WAIT_MS);
    let _ = Reflect::set(&options, &JsValue::from_str("signal"), &signal);
    let request = manager.request(name, &options, callback.unchecked_ref());
    // A refused or timed-out request must not leave the caller waiting forever: it proceeds,
    // re-reading storage as it always does.
    let on_refusal = Closure::once(move |_err: JsValue| {
        let _ = granted.call0(&JsValue::NULL);
    });
    let _ = request.catch(&on_refusal);
    // Called at most once, possibly after this function returns.
    on_refusal.forget();
    let _ = JsFuture::from(acquired).await;
    LockGuard {
        release: Some(release),
    }
}
