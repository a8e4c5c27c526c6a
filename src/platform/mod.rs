//! Thin browser adapters: storage, fetch, location/history, randomness, clock, config loading.
//! No protocol decisions here — only the mechanics of talking to the browser.

pub mod browser;
pub mod channel;
pub mod crypto;
pub mod http;
pub mod locks;
pub mod storage;
