//! sessionStorage under one key prefix. Tokens live here and nowhere else: never
//! localStorage, never a URL. Every failure (blocked, full, throwing) becomes an error value.

use crate::json::{FromJson, ToJson};

use crate::error::AppError;

const PREFIX: &str = "nimbus.";

fn storage() -> Result<web_sys::Storage, AppError> {
    web_sys::window()
        .ok_or_else(|| AppError::storage("no window"))?
        .session_storage()
        .map_err(|_| AppError::storage("sessionStorage is blocked"))?
        .ok_or_else(|| AppError::storage("sessionStorage is unavailable"))
}

/// Reads and decodes an entry. A corrupt or foreign entry is removed and reads as absent.
pub fn load<T: FromJson>(key: &str) -> Option<T> {
    let s = storage().ok()?;
    let raw = s.get_item(&format!("{PREFIX}{key}")).ok()??;
    match crate::json::from_str(&raw) {
        Some(v) => Some(v),
        None => {
            remove(key);
            None
        }
    }
}

/// Encodes and writes an entry.
pub fn save<T: ToJson>(key: &str, value: &T) -> Result<(), AppError> {
    let raw = crate::json::to_string(value);
    storage()?
        .set_item(&format!("{PREFIX}{key}"), &raw)
        .map_err(|_| AppError::storage("writing failed, storage may be full"))
}

/// Raw string entries (already-serialised values).
pub fn load_raw(key: &str) -> Option<String> {
    storage().ok()?.get_item(&format!("{PREFIX}{key}")).ok()?
}

pub fn save_raw(key: &str, value: &str) -> Result<(), AppError> {
    storage()?
        .set_item(&format!("{PREFIX}{key}"), value)
        .map_err(|_| AppError::storage("writing failed, storage may be full"))
}

/// Reads and removes an entry in one go: single-use values (the pending sign-in).
pub fn take<T: FromJson>(key: &str) -> Option<T> {
    let v = load(key);
    remove(key);
    v
}

pub fn remove(key: &str) {
    if let Ok(s) = storage() {
        let _ = s.remove_item(&format!("{PREFIX}{key}"));
    }
}

/// localStorage, for non-secret facts every tab must see (refresh-token generations). Never a
/// token: tokens stay in sessionStorage.
pub mod shared {
    use super::PREFIX;

    fn local() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    pub fn get_u32(key: &str) -> Option<u32> {
        local()?
            .get_item(&format!("{PREFIX}{key}"))
            .ok()??
            .parse()
            .ok()
    }

    pub fn set_u32(key: &str, value: u32) {
        if let Some(s) = local() {
            let _ = s.set_item(&format!("{PREFIX}{key}"), &value.to_string());
        }
    }

    /// Removes every entry of this app's in localStorage.
    pub fn clear_all() {
        if let Some(s) = local() {
            super::remove_prefixed(&s);
        }
    }
}

fn remove_prefixed(s: &web_sys::Storage) {
    let len = s.length().unwrap_or(0);
    let keys: Vec<String> = (0..len)
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with(PREFIX))
        .collect();
    for k in keys {
        let _ = s.remove_item(&k);
    }
}

/// Removes every entry this app wrote.
pub fn clear_all() {
    if let Ok(s) = storage() {
        remove_prefixed(&s);
    }
}
