//! The OAuth 2.0 / OpenID Connect core, pure Rust: no browser, no UI, no I/O. Randomness and
//! the clock are passed in, so every rule here is tested on the host.

pub mod callback;
pub mod challenge;
pub mod discovery;
pub mod error;
pub mod guard;
pub mod id_token;
pub mod jwks;
pub mod pkce;
pub mod request;
pub mod secret;
pub mod session;
pub mod tabs;
pub mod token;

pub use error::{AuthError, ProviderError};
