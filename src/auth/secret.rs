//! Secret newtypes: tokens, codes, verifiers, `state` and `nonce` values.
//!
//! Each prints as `[redacted]` in `Debug`, has no `Display`, and gives its value only through
//! [`Secret::expose`] — the one audited way out. Grep for `expose(` to see every use: their
//! `Serialize` impls (the one place a value leaves for storage or another tab) call it too.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

        /// Written as the bare string, through [`Secret::expose`].
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.expose())
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

/// The PKCE code verifier (RFC 7636 §4.1). Not `Clone`: it is spent once, at the token endpoint.
#[derive(PartialEq, Eq)]
pub struct PkceVerifier(String);

impl PkceVerifier {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
}

/// Written as the bare string, through [`Secret::expose`] (into the pending sign-in).
impl Serialize for PkceVerifier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
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

    #[test]
    fn serde_writes_the_bare_value_and_reads_it_back() {
        let t = AccessToken::new("at\"1");
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(text, r#""at\"1""#);
        let back: AccessToken = serde_json::from_str(&text).unwrap();
        assert_eq!(back.expose(), "at\"1");
        let v: PkceVerifier = serde_json::from_str(r#""v-1""#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#""v-1""#);
        assert!(serde_json::from_str::<State>("1").is_err());
        assert!(serde_json::from_str::<Nonce>("null").is_err());
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(constant_time_eq("", ""));
    }
}
