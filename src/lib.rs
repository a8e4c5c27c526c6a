//! Nimbus: a Rust/WebAssembly single-page client for the Microsoft identity platform that calls
//! a protected weather API with delegated scopes.
//!
//! The pure core (`auth`, `weather`, `config`, `url`, `error`, `wire`) builds and tests on the host.
//! The browser side (`platform`, `state`, `pages`, `components`, `app`) exists only on wasm32.

pub mod auth;
pub mod config;
pub mod error;
pub mod present;
pub mod url;
pub mod weather;
pub mod wire;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod pages;
#[cfg(target_arch = "wasm32")]
pub mod platform;
#[cfg(target_arch = "wasm32")]
pub mod state;
