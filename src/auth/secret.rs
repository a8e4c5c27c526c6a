//! Secret newtypes: tokens, codes, verifiers, `state` and `nonce` values.
//!
//! Each prints as `[redacted]` in `Debug`, has no `Display`, and gives its value only through
//! [`Secret::expose`] — the one audited way out. Grep for `expose(` to see every use.
//!
//! None of them implements `Serialize`: a struct holding a secret can't be written by serde
//! unless the field itself opts in with `#[serde(serialize_with = "…secret::exposed")]` (or
//! [`exposed_opt`]), which goes through `expose`. Grep for `secret::exposed` to see every
//! field that is written out: all belong to what this tab keeps in sessionStorage, which is
//! also what `auth::tabs::plaintext` seals (encrypts) for the family's other tabs. So no
//! message, log line or error can carry a secret by serialising a type that happens to
//! contain one:
//!
//! ```compile_fail
//! #[derive(serde::Serialize)]
//! struct Leaky {
//!     token: nimbus::auth::secret::AccessToken,
//! }
//! ```

use serde::{Deserialize, Deserializer, Serializer};

/// Writes a secret field as its bare value, through [`Secret::expose`]. Use only on fields of
/// what this tab keeps in its own sessionStorage (never on a message type).
pub fn exposed<T: Secret, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.expose())
}

/// [`exposed`] for an optional secret (`null` when absent).
pub fn exposed_opt<T: Secret, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_some(v.expose()),
        None => s.serialize_none(),
    }
}

/// Something that must never reach a log, an error message or the console.
pub trait Secret {
    /// The raw value. Call it only where the value goes on the wire or into storage.
    fn expose(&self) -> &str;
}

macro_rules! secret {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self)
            }
        }

        impl Secret for $name {
            fn expose(&self) -> &str {
                &self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret!(
    /// An OAuth 2.0 access token (RFC 6749 §1.4): opaque to this client.
    AccessToken
);
secret!(
    /// A refresh token (RFC 6749 §1.5). Rotated on every use by Entra for SPAs.
    RefreshToken
);
secret!(
    /// A compact-serialised ID token (OIDC Core §2).
    IdToken
);
secret!(
    /// An authorization code (RFC 6749 §4.1.2). Single use.
    AuthCode
);
secret!(
    /// The `state` value binding an authorization response to this tab's request (RFC 6749 §10.12).
    State
);
secret!(
    /// The `nonce` binding an ID token to this sign-in (OIDC Core §3.1.2.1).
    Nonce
);
secret!(
    /// The AES-256-GCM key of a session family (32 random bytes, base64url): what lets tabs of
    /// one sign-in share its rotated tokens over the BroadcastChannel sealed, so that a
    /// listener without this family's sessionStorage gets only ciphertext (`auth::tabs`).
    ChannelKey
);

impl ChannelKey {
    /// A key from 32 random bytes.
    pub fn from_random(random: &[u8; 32]) -> Self {
        Self::new(super::pkce::b64url(random))
    }

    /// The raw key, or `None` when the stored value isn't 32 bytes of base64url.
    pub fn bytes(&self) -> Option<[u8; 32]> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        URL_SAFE_NO_PAD.decode(self.expose()).ok()?.try_into().ok()
    }
}

/// The PKCE code verifier (RFC 7636 §4.1). Not `Clone`: it is spent once, at the token endpoint.
#[derive(PartialEq, Eq)]
pub struct PkceVerifier(String);

impl PkceVerifier {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
}

impl<'de> Deserialize<'de> for PkceVerifier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

impl Secret for PkceVerifier {
    fn expose(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// Compares two secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let t = AccessToken::new("eyJ-very-secret");
        assert_eq!(format!("{t:?}"), "AccessToken([redacted])");
        let v = PkceVerifier::new("verifier-value");
        assert!(!format!("{v:?}").contains("verifier-value"));
        assert!(!format!("{:?}", Some(State::new("abc"))).contains("abc"));
    }

    #[derive(serde::Serialize, Deserialize)]
    struct Stored {
        #[serde(serialize_with = "exposed")]
        token: AccessToken,
        #[serde(serialize_with = "exposed_opt")]
        refresh: Option<RefreshToken>,
    }

    #[test]
    fn only_fields_that_opt_in_are_written_and_read_back() {
        let stored = Stored {
            token: AccessToken::new("at\"1"),
            refresh: None,
        };
        let text = serde_json::to_string(&stored).unwrap();
        assert_eq!(text, r#"{"token":"at\"1","refresh":null}"#);
        let back: Stored = serde_json::from_str(&text).unwrap();
        assert_eq!(back.token.expose(), "at\"1");
        assert!(back.refresh.is_none());
        let with = serde_json::to_string(&Stored {
            token: AccessToken::new("a"),
            refresh: Some(RefreshToken::new("r")),
        })
        .unwrap();
        assert_eq!(with, r#"{"token":"a","refresh":"r"}"#);
        let v: PkceVerifier = serde_json::from_str(r#""v-1""#).unwrap();
        assert_eq!(v.expose(), "v-1");
        assert!(serde_json::from_str::<State>("1").is_err());
        assert!(serde_json::from_str::<Nonce>("null").is_err());
    }

    #[test]
    fn a_channel_key_is_32_bytes() {
        let key = ChannelKey::from_random(&[7; 32]);
        assert_eq!(key.bytes(), Some([7; 32]));
        assert_eq!(key.expose().len(), 43);
        assert!(!format!("{key:?}").contains(key.expose()));
        assert_eq!(ChannelKey::new("short").bytes(), None);
        assert_eq!(ChannelKey::new("not base64!").bytes(), None);
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(constant_time_eq("", ""));
    }
}
