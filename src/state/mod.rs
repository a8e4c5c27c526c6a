//! Wiring of the pure core to the browser adapters, and the reactive state the pages share.

pub mod api;
pub mod auth;
pub mod config;
pub mod tokens;
