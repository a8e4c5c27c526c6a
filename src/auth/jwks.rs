//! The provider's signing keys (RFC 7517) and the choice of key for an ID token. The signature
//! itself is verified by the browser (WebCrypto, RSASSA-PKCS1-v1_5 with SHA-256), so no RSA code
//! ships in the bundle; this module decides *which* key may verify it.

use crate::json::{FromJson, ToJson, Value};

use super::error::AuthError;
use super::id_token::JwtHeader;

/// One RSA public key from the JWKS, as WebCrypto imports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaKey {
    pub kid: Option<String>,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
}

impl ToJson for RsaKey {
    fn to_json(&self) -> Value {
        Value::object([
            ("kid", Some(self.kid.to_json())),
            ("n", Some(self.n.to_json())),
            ("e", Some(self.e.to_json())),
        ])
    }
}

impl FromJson for RsaKey {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            kid: v.opt_field("kid")?,
            n: v.field("n")?,
            e: v.field("e")?,
        })
    }
}

/// Reads a JWKS, keeping only keys usable to verify RS256 signatures: `kty` RSA, `use` absent
/// or `sig`, `alg` absent or RS256, `n` and `e` present, a modulus of at least 2048 bits.
pub fn parse_jwks(body: &str) -> Result<Vec<RsaKey>, AuthError> {
    let raw = crate::json::parse(body).map_err(|_| AuthError::JwksMalformed)?;
    let keys: Vec<RsaKey> = raw
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(AuthError::JwksMalformed)?
        .iter()
        .filter_map(|k| {
            let field = |name: &str| k.get(name).and_then(|v| v.as_str());
            let usable = field("kty") == Some("RSA")
                && field("use").is_none_or(|u| u == "sig")
                && field("alg").is_none_or(|a| a == "RS256");
            let (n, e) = (field("n")?, field("e")?);
            // 2048 bits of modulus is 342 base64url characters.
            (usable && n.len() >= 342 && !e.is_empty()).then(|| RsaKey {
                kid: field("kid").map(str::to_owned),
                n: n.to_owned(),
                e: e.to_owned(),
            })
        })
        .collect();
    if keys.is_empty() {
        return Err(AuthError::JwksNoUsableKey);
    }
    Ok(keys)
}

/// The key to verify a token with `header` (OIDC Core §10.1): the key named by `kid`; without
/// a `kid`, the only key there is. `Err(IdTokenUnknownKey)` tells the caller to refetch the
/// JWKS once (the provider may have rotated its keys).
pub fn select_key<'a>(keys: &'a [RsaKey], header: &JwtHeader) -> Result<&'a RsaKey, AuthError> {
    match &header.kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid.as_str()))
            .ok_or(AuthError::IdTokenUnknownKey),
        None if keys.len() == 1 => Ok(&keys[0]),
        None => Err(AuthError::IdTokenAmbiguousKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n() -> String {
        "q".repeat(342)
    }

    fn header(kid: Option<&str>) -> JwtHeader {
        JwtHeader {
            alg: "RS256".into(),
            kid: kid.map(str::to_owned),
        }
    }

    #[test]
    fn keeps_only_rsa_signing_keys() {
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "a", "use": "sig", "n": n(), "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": n(), "e": "AQAB"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "x", "y": "y"},
            {"kty": "RSA", "kid": "small", "n": "q".repeat(100), "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": n(), "e": "AQAB"},
            {"kty": "RSA", "kid": "b", "n": n(), "e": "AQAB"}
        ]})
        .to_string();
        let keys = parse_jwks(&body).unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
        assert_eq!(kids, ["a", "b"]);
    }

    #[test]
    fn a_jwks_without_a_usable_key_is_an_error() {
        let body =
            serde_json::json!({"keys": [{"kty": "RSA", "use": "enc", "n": n(), "e": "AQAB"}]})
                .to_string();
        assert_eq!(parse_jwks(&body), Err(AuthError::JwksNoUsableKey));
        assert_eq!(
            parse_jwks(r#"{"keys":[]}"#),
            Err(AuthError::JwksNoUsableKey)
        );
        for bad in ["", "{}", "<html>", r#"{"keys":{}}"#] {
            assert_eq!(parse_jwks(bad), Err(AuthError::JwksMalformed), "{bad}");
        }
    }

    #[test]
    fn selects_by_kid_and_refuses_guesses() {
        let keys = vec![
            RsaKey {
                kid: Some("a".into()),
                n: n(),
                e: "AQAB".into(),
            },
            RsaKey {
                kid: Some("b".into()),
                n: n(),
                e: "AQAB".into(),
            },
        ];
        assert_eq!(
            select_key(&keys, &header(Some("b")))
                .unwrap()
                .kid
                .as_deref(),
            Some("b")
        );
        assert_eq!(
            select_key(&keys, &header(Some("zzz"))),
            Err(AuthError::IdTokenUnknownKey)
        );
        assert_eq!(
            select_key(&keys, &header(None)),
            Err(AuthError::IdTokenAmbiguousKey)
        );
        assert!(select_key(&keys[..1], &header(None)).is_ok());
    }
}
