//! The provider's signing keys (RFC 7517) and the choice of key for an ID token. The signature
//! itself is verified by the browser (WebCrypto, RSASSA-PKCS1-v1_5 with SHA-256), so no RSA code
//! ships in the bundle; this module decides *which* key may verify it.

use serde::{Deserialize, Serialize};

use crate::wire::{self, Member, Text};

use super::error::AuthError;
use super::id_token::JwtHeader;

/// One RSA public key from the JWKS, as WebCrypto imports it (and as the app caches it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsaKey {
    pub kid: Option<String>,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
}

/// A JWKS as published (RFC 7517 §5): its keys, each read loosely so that one odd key (another
/// type, a parameter of the wrong type) is skipped rather than spoiling the set.
#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<Member<RawJwk>>,
}

/// The parameters of one JWK (RFC 7517 §4, RFC 7518 §6.3.1) that decide whether it is used.
#[derive(Default, Deserialize)]
#[serde(default)]
struct RawJwk {
    kty: Text,
    #[serde(rename = "use")]
    use_: Text,
    alg: Text,
    kid: Text,
    n: Text,
    e: Text,
}

/// Reads a JWKS, keeping only keys usable to verify RS256 signatures: `kty` RSA, `use` absent
/// or `sig`, `alg` absent or RS256, `n` and `e` present, a modulus of at least 2048 bits.
pub fn parse_jwks(body: &str) -> Result<Vec<RsaKey>, AuthError> {
    if wire::too_large(body) {
        return Err(AuthError::JwksMalformed);
    }
    let raw: RawJwks = wire::read_object(body).map_err(|_| AuthError::JwksMalformed)?;
    let keys: Vec<RsaKey> = raw
        .keys
        .into_iter()
        .filter_map(|k| {
            let Member::Object(k) = k else {
                return None;
            };
            let usable = k.kty.0.as_deref() == Some("RSA")
                && k.use_.0.as_deref().is_none_or(|u| u == "sig")
                && k.alg.0.as_deref().is_none_or(|a| a == "RS256");
            let (n, e) = (k.n.0?, k.e.0?);
            // 2048 bits of modulus is 342 base64url characters.
            (usable && n.len() >= 342 && !e.is_empty()).then_some(RsaKey { kid: k.kid.0, n, e })
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
        for bad in [
            "",
            "{}",
            "<html>",
            r#"{"keys":{}}"#,
            r#"{"keys":null}"#,
            "[[]]",
        ] {
            assert_eq!(parse_jwks(bad), Err(AuthError::JwksMalformed), "{bad}");
        }
    }

    #[test]
    fn odd_keys_are_skipped_but_a_repeated_name_spoils_the_set() {
        let good = serde_json::json!({"kty": "RSA", "kid": "a", "n": n(), "e": "AQAB"});
        let body = serde_json::json!({"keys": [
            7, "x", null, [good.clone()],
            {"kty": 1, "kid": "t", "n": n(), "e": "AQAB"},
            {"kty": "RSA", "kid": "u", "use": ["sig"], "n": n(), "e": "AQAB"},
            {"kty": "RSA", "kid": "v", "n": 5, "e": "AQAB"},
            good
        ]})
        .to_string();
        let keys = parse_jwks(&body).unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
        assert_eq!(
            kids,
            ["u", "a"],
            "a `use` that is not a string counts as absent"
        );

        let one = serde_json::json!({"keys": [{"kty": "RSA", "n": n(), "e": "AQAB"}]}).to_string();
        assert_eq!(parse_jwks(&one).unwrap()[0].kid, None);
        for twice in [
            one.replacen(r#""kty""#, r#""kty":"RSA","kty""#, 1),
            one.replacen(r#""kty""#, r#""x5c":[],"x5c":[],"kty""#, 1),
            one.replacen(r#"{"keys""#, r#"{"keys":[],"keys""#, 1),
        ] {
            assert_eq!(parse_jwks(&twice), Err(AuthError::JwksMalformed), "{twice}");
        }
        let padded = format!("{one}{}", " ".repeat(wire::MAX_BODY_BYTES));
        assert_eq!(parse_jwks(&padded), Err(AuthError::JwksMalformed));
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
