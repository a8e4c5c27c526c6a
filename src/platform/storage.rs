//! sessionStorage under one key prefix, through gloo-storage (values as JSON, by serde). Tokens
//! live here and nowhere else: never localStorage, never a URL. Every failure (blocked, full,
//! throwing) becomes an error value.

use gloo_storage::errors::StorageError;
use gloo_storage::{SessionStorage, Storage};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::AppError;
use crate::wire;

const PREFIX: &str = "nimbus.";

fn key_of(key: &str) -> String {
    format!("{PREFIX}{key}")
}

/// Whether the browser lets this page use sessionStorage at all. gloo's `SessionStorage::raw()`
/// panics where it doesn't (site data blocked, some private modes), so every use asks first.
fn session() -> Result<(), AppError> {
    web_sys::window()
        .ok_or_else(|| AppError::storage("no window"))?
        .session_storage()
        .map_err(|_| AppError::storage("sessionStorage is blocked"))?
        .ok_or_else(|| AppError::storage("sessionStorage is unavailable"))
        .map(drop)
}

/// Reads and decodes an entry that holds an object, by the same rules as JSON from outside
/// (`wire::read_object`: a repeated name or a bad string anywhere spoils it, and a struct is read
/// only from an object). A corrupt or foreign entry is removed and reads as absent.
pub fn load<T: DeserializeOwned>(key: &str) -> Option<T> {
    read(key, wire::read_object)
}

/// Like [`load`], for an entry that holds a plain value (a number).
pub fn load_plain<T: DeserializeOwned>(key: &str) -> Option<T> {
    read(key, wire::read)
}

fn read<T>(key: &str, parse: fn(&str) -> Result<T, serde_json::Error>) -> Option<T> {
    session().ok()?;
    let value = match SessionStorage::get::<Box<RawValue>>(key_of(key)) {
        Ok(raw) => parse(raw.get()).ok(),
        Err(StorageError::KeyNotFound(_)) => return None,
        Err(_) => None,
    };
    if value.is_none() {
        remove(key);
    }
    value
}

/// Encodes and writes an entry.
pub fn save<T: Serialize>(key: &str, value: &T) -> Result<(), AppError> {
    session()?;
    SessionStorage::set(key_of(key), value)
        .map_err(|_| AppError::storage("writing failed, storage may be full"))
}

/// Whether an entry exists, whatever it holds.
pub fn has(key: &str) -> bool {
    session().is_ok()
        && SessionStorage::raw()
            .get_item(&key_of(key))
            .ok()
            .flatten()
            .is_some()
}

/// Reads and removes an entry in one go: single-use values (the pending sign-in).
pub fn take<T: DeserializeOwned>(key: &str) -> Option<T> {
    let v = load(key);
    remove(key);
    v
}

pub fn remove(key: &str) {
    if session().is_ok() {
        SessionStorage::delete(key_of(key));
    }
}

/// Removes every entry this app wrote.
pub fn clear_all() {
    if session().is_ok() {
        remove_prefixed(&SessionStorage::raw());
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

/// localStorage, for non-secret facts every tab must see (refresh-token generations). Never a
/// token: tokens stay in sessionStorage, and this module stores nothing but `u32` counters.
pub mod shared {
    use gloo_storage::{LocalStorage, Storage};

    use super::key_of;

    /// Like `super::session`: gloo's `LocalStorage::raw()` panics where storage is refused.
    fn available() -> bool {
        web_sys::window().is_some_and(|w| matches!(w.local_storage(), Ok(Some(_))))
    }

    pub fn get_u32(key: &str) -> Option<u32> {
        if !available() {
            return None;
        }
        LocalStorage::get(key_of(key)).ok()
    }

    pub fn set_u32(key: &str, value: u32) {
        if available() {
            let _ = LocalStorage::set(key_of(key), value);
        }
    }

    /// Removes every entry of this app's in localStorage.
    pub fn clear_all() {
        if available() {
            super::remove_prefixed(&LocalStorage::raw());
        }
    }
}
