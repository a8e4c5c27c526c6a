//! ID-token decoding and claim checks (OIDC Core §2, §3.1.3.7; RFC 7519), each failure its
//! own error, checked in a fixed order. Signature verification is the adapter's job (WebCrypto);
//! this module decides which algorithm is acceptable and what the claims must say.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::wire::{self, Text};

use super::discovery::{is_tenant_id, TENANT_TEMPLATE};
use super::error::AuthError;
use super::secret::{constant_time_eq, Nonce, Secret};

/// Clock skew tolerated on `exp` and `iat`, in seconds.
pub const CLOCK_SKEW_SECS: u64 = 300;

/// The only signing algorithm accepted: the one Entra uses. Never `none`, never HS*,
/// never whatever the token itself asks for.
pub const ALLOWED_ALGORITHMS: &[&str] = &["RS256"];

/// The JOSE header fields that matter (RFC 7515 §4.1); others are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JwtHeader {
    pub alg: String,
    pub kid: Option<String>,
}

/// The claims of an ID token that this client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub azp: Option<String>,
    pub exp: u64,
    pub iat: u64,
    pub nonce: Option<String>,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    pub tid: Option<String>,
    pub oid: Option<String>,
    /// Entra's optional `login_hint` claim: an opaque value that names this account to the
    /// provider (used as `logout_hint` at sign-out, so no token goes into the URL).
    pub login_hint: Option<String>,
}

/// A decoded, not yet trusted, compact JWS.
#[derive(Debug)]
pub struct DecodedJwt {
    pub header: JwtHeader,
    pub claims: IdClaims,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, what the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

fn b64(segment: &str, what: &'static str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthError::IdTokenMalformed(what))
}

/// The payload as sent. Claims of the wrong type read as absent (the checks then say which
/// claim is wrong), except `aud`, `exp` and `iat`, whose wrong type makes the token malformed.
/// Other claims are ignored.
#[derive(Default, Deserialize)]
#[serde(default)]
struct RawClaims {
    iss: Text,
    sub: Text,
    aud: Audience,
    azp: Text,
    exp: NumericDate,
    iat: NumericDate,
    nonce: Text,
    name: Text,
    preferred_username: Text,
    tid: Text,
    oid: Text,
    login_hint: Text,
}

/// `aud` (RFC 7519 §4.1.3): one string or an array of strings. Absent or another type is no
/// audience at all; an array holding anything but strings is malformed.
#[derive(Default)]
enum Audience {
    #[default]
    None,
    Some(Vec<String>),
    Malformed,
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AudienceVisitor;

        impl<'de> Visitor<'de> for AudienceVisitor {
            type Value = Audience;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_str<E>(self, s: &str) -> Result<Audience, E> {
                Ok(Audience::Some(vec![s.to_owned()]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut all = Some(Vec::new());
                while let Some(Text(item)) = seq.next_element::<Text>()? {
                    all = all.zip(item).map(|(mut all, item)| {
                        all.push(item);
                        all
                    });
                }
                Ok(all.map_or(Audience::Malformed, Audience::Some))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Audience, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Audience::None)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Audience, E> {
                Ok(Audience::None)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Audience, E> {
                Ok(Audience::None)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Audience, E> {
                Ok(Audience::None)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Audience, E> {
                Ok(Audience::None)
            }

            fn visit_unit<E>(self) -> Result<Audience, E> {
                Ok(Audience::None)
            }
        }

        d.deserialize_any(AudienceVisitor)
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds, fractions dropped, between 0 and
/// 10^12; `None` for anything else.
#[derive(Default)]
struct NumericDate(Option<u64>);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DateVisitor;

        const LIMIT: u64 = 1_000_000_000_000;

        impl<'de> Visitor<'de> for DateVisitor {
            type Value = NumericDate;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_u64<E>(self, n: u64) -> Result<NumericDate, E> {
                Ok(NumericDate((n < LIMIT).then_some(n)))
            }

            fn visit_i64<E>(self, _: i64) -> Result<NumericDate, E> {
                // Only negative integers come this way.
                Ok(NumericDate(None))
            }

            fn visit_f64<E>(self, n: f64) -> Result<NumericDate, E> {
                Ok(NumericDate((0.0..1e12).contains(&n).then_some(n as u64)))
            }

            fn visit_str<E>(self, _: &str) -> Result<NumericDate, E> {
                Ok(NumericDate(None))
            }

            fn visit_bool<E>(self, _: bool) -> Result<NumericDate, E> {
                Ok(NumericDate(None))
            }

            fn visit_unit<E>(self) -> Result<NumericDate, E> {
                Ok(NumericDate(None))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NumericDate, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(NumericDate(None))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NumericDate, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(NumericDate(None))
            }
        }

        d.deserialize_any(DateVisitor)
    }
}

/// A decoded segment as text: JSON is UTF-8 (RFC 8259 §8.1).
fn utf8<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str, AuthError> {
    std::str::from_utf8(bytes).map_err(|_| AuthError::IdTokenMalformed(what))
}

/// Splits and decodes a compact JWS without trusting anything in it.
pub fn decode(token: &str) -> Result<DecodedJwt, AuthError> {
    if token.len() > 16 * 1024 {
        return Err(AuthError::IdTokenMalformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::IdTokenMalformed("not three segments"));
    };
    let header: JwtHeader = utf8(&b64(h, "header encoding")?, "header JSON").and_then(|text| {
        wire::read_object(text).map_err(|_| AuthError::IdTokenMalformed("header JSON"))
    })?;
    let payload = b64(p, "payload encoding")?;
    let payload = utf8(&payload, "payload JSON")?;
    let shape = wire::check(payload).map_err(|_| AuthError::IdTokenMalformed("payload JSON"))?;
    let signature = b64(s, "signature encoding")?;
    if shape != wire::Shape::Object {
        return Err(AuthError::IdTokenMalformed("payload is not an object"));
    }
    let raw: RawClaims =
        serde_json::from_str(payload).map_err(|_| AuthError::IdTokenMalformed("payload JSON"))?;
    let aud = match raw.aud {
        Audience::None => vec![],
        Audience::Some(aud) => aud,
        Audience::Malformed => return Err(AuthError::IdTokenMalformed("aud")),
    };
    let claims = IdClaims {
        iss: raw.iss.0.unwrap_or_default(),
        sub: raw.sub.0.unwrap_or_default(),
        aud,
        azp: raw.azp.0,
        exp: raw.exp.0.ok_or(AuthError::IdTokenMalformed("exp"))?,
        iat: raw.iat.0.ok_or(AuthError::IdTokenMalformed("iat"))?,
        nonce: raw.nonce.0,
        name: raw.name.0,
        preferred_username: raw.preferred_username.0,
        tid: raw.tid.0,
        oid: raw.oid.0,
        login_hint: raw.login_hint.0,
    };
    Ok(DecodedJwt {
        header,
        claims,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

/// The algorithm check alone, done before the signature is verified.
pub fn check_algorithm(jwt: &DecodedJwt) -> Result<(), AuthError> {
    if ALLOWED_ALGORITHMS.contains(&jwt.header.alg.as_str()) {
        Ok(())
    } else {
        Err(AuthError::IdTokenAlgorithm(
            jwt.header.alg.chars().take(20).collect(),
        ))
    }
}

/// What the ID token of this sign-in must say.
pub struct Expectations<'a> {
    /// The metadata's issuer, possibly with the `{tenantid}` template.
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a Nonce,
    /// Seconds since the Unix epoch.
    pub now: u64,
    /// When not empty, the only tenants (`tid`) allowed to sign in.
    pub allowed_tenants: &'a [String],
}

/// OIDC Core §3.1.3.7 steps 2–4, 9–11 (signature, step 6, is checked by the adapter), in order.
pub fn check_claims(jwt: &DecodedJwt, expect: &Expectations<'_>) -> Result<(), AuthError> {
    let c = &jwt.claims;
    check_algorithm(jwt)?;
    // Step 2: the issuer, with Entra's `{tenantid}` filled from `tid`.
    let issuer = if expect.issuer.contains(TENANT_TEMPLATE) {
        let tid = c
            .tid
            .as_deref()
            .filter(|t| is_tenant_id(t))
            .ok_or(AuthError::IdTokenMissingTenant)?;
        expect.issuer.replace(TENANT_TEMPLATE, tid)
    } else {
        expect.issuer.to_owned()
    };
    if c.iss != issuer {
        return Err(AuthError::IdTokenIssuer);
    }
    if !expect.allowed_tenants.is_empty()
        && !c
            .tid
            .as_ref()
            .is_some_and(|t| expect.allowed_tenants.contains(t))
    {
        return Err(AuthError::TenantNotAllowed);
    }
    // Step 3: our client id must be an audience, and no untrusted audience may be.
    if !c.aud.iter().any(|a| a == expect.client_id) {
        return Err(AuthError::IdTokenAudience);
    }
    if c.aud.iter().any(|a| a != expect.client_id) {
        return Err(AuthError::IdTokenUntrustedAudience);
    }
    // Step 4/5: azp, when present, names this client.
    if c.azp.as_deref().is_some_and(|azp| azp != expect.client_id) {
        return Err(AuthError::IdTokenAuthorizedParty);
    }
    // Step 9: not expired.
    if expect.now > c.exp.saturating_add(CLOCK_SKEW_SECS) {
        return Err(AuthError::IdTokenExpired);
    }
    // Step 10: not issued in the future.
    if c.iat > expect.now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(AuthError::IdTokenIssuedInFuture);
    }
    // Step 11: the nonce this tab sent.
    match c.nonce.as_deref() {
        Some(n) if constant_time_eq(n, expect.nonce.expose()) => {}
        _ => return Err(AuthError::IdTokenNonce),
    }
    if c.sub.is_empty() {
        return Err(AuthError::IdTokenMissingSubject);
    }
    Ok(())
}

/// OIDC Core §12.2: an ID token in a refresh response must name the same issuer, subject and
/// client as the one from sign-in (its nonce, if any, is not checked).
pub fn check_refreshed(
    jwt: &DecodedJwt,
    account: &Account,
    client_id: &str,
    now: u64,
) -> Result<(), AuthError> {
    check_algorithm(jwt)?;
    let c = &jwt.claims;
    if c.iss != account.issuer
        || c.sub != account.sub
        || c.aud.is_empty()
        || c.aud.iter().any(|a| a != client_id)
        || c.azp.as_deref().is_some_and(|azp| azp != client_id)
    {
        return Err(AuthError::IdTokenRefreshMismatch);
    }
    if now > c.exp.saturating_add(CLOCK_SKEW_SECS) {
        return Err(AuthError::IdTokenExpired);
    }
    if c.iat > now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(AuthError::IdTokenIssuedInFuture);
    }
    Ok(())
}

/// The signed-in person as the page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub sub: String,
    pub name: String,
    pub username: Option<String>,
    pub tenant_id: Option<String>,
    pub object_id: Option<String>,
    pub issuer: String,
    /// The ID token's `login_hint` claim, when the provider sends it.
    pub login_hint: Option<String>,
}

impl Account {
    /// Who this is, across providers: `iss` and `sub` together identify a user (OIDC Core §2).
    /// Actions kept across a round trip to the provider (a report draft) belong to this key.
    pub fn owner(&self) -> String {
        format!("{} {}", self.issuer, self.sub)
    }
}

impl From<&IdClaims> for Account {
    fn from(c: &IdClaims) -> Self {
        let name = c
            .name
            .clone()
            .or_else(|| c.preferred_username.clone())
            .unwrap_or_else(|| "Signed-in user".to_owned());
        Self {
            sub: c.sub.clone(),
            name: name.chars().take(100).collect(),
            username: c.preferred_username.clone(),
            tenant_id: c.tid.clone(),
            object_id: c.oid.clone(),
            issuer: c.iss.clone(),
            login_hint: c.login_hint.clone().filter(|h| h.len() <= 2048),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #[test]
    fn an_account_is_owned_by_issuer_and_subject_together() {
        let a = |iss: &str, sub: &str| Account {
            sub: sub.into(),
            name: "n".into(),
            username: None,
            tenant_id: None,
            object_id: None,
            issuer: iss.into(),
            login_hint: None,
        };
        assert_eq!(a("https://i/v2.0", "s1").owner(), "https://i/v2.0 s1");
        assert_ne!(
            a("https://i/v2.0", "s1").owner(),
            a("https://j/v2.0", "s1").owner()
        );
        assert_ne!(
            a("https://i/v2.0", "s1").owner(),
            a("https://i/v2.0", "s2").owner()
        );
    }

    use super::*;
    use crate::auth::pkce::b64url;
    use serde_json::Value;

    pub const ISS: &str = "https://login.example/3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90/v2.0";
    pub const TID: &str = "3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90";

    pub fn jwt(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64url(header.as_bytes()),
            b64url(payload.as_bytes()),
            b64url(b"sig")
        )
    }

    pub fn good_payload() -> serde_json::Value {
        serde_json::json!({
            "iss": ISS, "sub": "user-1", "aud": "client-1", "exp": 2000, "iat": 1000,
            "nonce": "n-1", "name": "Alice Example", "preferred_username": "alice@nimbus.test",
            "tid": TID, "oid": "oid-1", "ver": "2.0"
        })
    }

    fn check_with(
        header: &str,
        payload: &serde_json::Value,
        issuer: &str,
    ) -> Result<(), AuthError> {
        check_tenants(header, payload, issuer, &[])
    }

    fn check_tenants(
        header: &str,
        payload: &serde_json::Value,
        issuer: &str,
        allowed: &[String],
    ) -> Result<(), AuthError> {
        let decoded = decode(&jwt(header, &payload.to_string()))?;
        check_claims(
            &decoded,
            &Expectations {
                issuer,
                client_id: "client-1",
                nonce: &Nonce::new("n-1"),
                now: 1500,
                allowed_tenants: allowed,
            },
        )
    }

    #[test]
    fn restricts_tenants_when_asked() {
        let template = "https://login.example/{tenantid}/v2.0";
        let h = r#"{"alg":"RS256"}"#;
        assert_eq!(
            check_tenants(h, &good_payload(), template, &[TID.to_owned()]),
            Ok(())
        );
        let other = ["00000000-0000-0000-0000-000000000000".to_owned()];
        assert_eq!(
            check_tenants(h, &good_payload(), template, &other),
            Err(AuthError::TenantNotAllowed)
        );
    }

    fn check(payload: &serde_json::Value) -> Result<(), AuthError> {
        check_with(r#"{"alg":"RS256","kid":"k1"}"#, payload, ISS)
    }

    fn with(field: &str, value: serde_json::Value) -> serde_json::Value {
        let mut p = good_payload();
        p[field] = value;
        p
    }

    fn without(field: &str) -> serde_json::Value {
        let mut p = good_payload();
        p.as_object_mut().unwrap().remove(field);
        p
    }

    #[test]
    fn accepts_a_good_token() {
        check(&good_payload()).unwrap();
        let d = decode(&jwt(
            r#"{"alg":"RS256","kid":"k1"}"#,
            &good_payload().to_string(),
        ))
        .unwrap();
        assert_eq!(d.header.kid.as_deref(), Some("k1"));
        assert_eq!(d.signature, b"sig");
        let account = Account::from(&d.claims);
        assert_eq!(account.name, "Alice Example");
        assert_eq!(account.username.as_deref(), Some("alice@nimbus.test"));
    }

    #[test]
    fn rejects_alg_none_and_hmac() {
        for alg in ["none", "HS256", "RS512", "ES256"] {
            assert!(matches!(
                check_with(&format!(r#"{{"alg":"{alg}"}}"#), &good_payload(), ISS),
                Err(AuthError::IdTokenAlgorithm(_))
            ));
        }
    }

    #[test]
    fn rejects_a_wrong_issuer() {
        assert_eq!(
            check(&with("iss", "https://evil.example/v2.0".into())),
            Err(AuthError::IdTokenIssuer)
        );
        assert_eq!(check(&without("iss")), Err(AuthError::IdTokenIssuer));
    }

    #[test]
    fn fills_the_tenant_template_from_tid() {
        let template = "https://login.example/{tenantid}/v2.0";
        assert_eq!(
            check_with(r#"{"alg":"RS256"}"#, &good_payload(), template),
            Ok(())
        );
        assert_eq!(
            check_with(r#"{"alg":"RS256"}"#, &without("tid"), template),
            Err(AuthError::IdTokenMissingTenant)
        );
        let other_tid = with("tid", "00000000-0000-0000-0000-000000000000".into());
        assert_eq!(
            check_with(r#"{"alg":"RS256"}"#, &other_tid, template),
            Err(AuthError::IdTokenIssuer)
        );
    }

    #[test]
    fn rejects_a_wrong_audience() {
        assert_eq!(
            check(&with("aud", "other".into())),
            Err(AuthError::IdTokenAudience)
        );
        assert_eq!(check(&without("aud")), Err(AuthError::IdTokenAudience));
    }

    #[test]
    fn rejects_extra_audiences() {
        assert_eq!(
            check(&with("aud", serde_json::json!(["client-1", "other"]))),
            Err(AuthError::IdTokenUntrustedAudience)
        );
        assert_eq!(check(&with("aud", serde_json::json!(["client-1"]))), Ok(()));
    }

    #[test]
    fn rejects_a_foreign_azp() {
        assert_eq!(
            check(&with("azp", "other".into())),
            Err(AuthError::IdTokenAuthorizedParty)
        );
        assert_eq!(check(&with("azp", "client-1".into())), Ok(()));
    }

    #[test]
    fn rejects_an_expired_token_beyond_the_skew() {
        assert_eq!(
            check(&with("exp", (1500 - CLOCK_SKEW_SECS - 1).into())),
            Err(AuthError::IdTokenExpired)
        );
        assert_eq!(check(&with("exp", (1500 - CLOCK_SKEW_SECS).into())), Ok(()));
    }

    #[test]
    fn rejects_a_token_issued_in_the_future() {
        assert_eq!(
            check(&with("iat", (1500 + CLOCK_SKEW_SECS + 1).into())),
            Err(AuthError::IdTokenIssuedInFuture)
        );
    }

    #[test]
    fn rejects_a_wrong_or_missing_nonce() {
        assert_eq!(
            check(&with("nonce", "n-2".into())),
            Err(AuthError::IdTokenNonce)
        );
        assert_eq!(check(&without("nonce")), Err(AuthError::IdTokenNonce));
    }

    #[test]
    fn rejects_a_missing_subject() {
        assert_eq!(
            check(&without("sub")),
            Err(AuthError::IdTokenMissingSubject)
        );
        assert_eq!(
            check(&with("sub", "".into())),
            Err(AuthError::IdTokenMissingSubject)
        );
    }

    #[test]
    fn a_refreshed_id_token_must_name_the_same_user() {
        let original = decode(&jwt(r#"{"alg":"RS256"}"#, &good_payload().to_string())).unwrap();
        let account = Account::from(&original.claims);
        let same = decode(&jwt(r#"{"alg":"RS256"}"#, &without("nonce").to_string())).unwrap();
        assert_eq!(check_refreshed(&same, &account, "client-1", 1500), Ok(()));
        for changed in [
            with("sub", "other".into()),
            with("iss", "https://evil".into()),
            with("aud", serde_json::json!(["client-1", "x"])),
        ] {
            let d = decode(&jwt(r#"{"alg":"RS256"}"#, &changed.to_string())).unwrap();
            assert_eq!(
                check_refreshed(&d, &account, "client-1", 1500),
                Err(AuthError::IdTokenRefreshMismatch)
            );
        }
        assert_eq!(
            check_refreshed(&same, &account, "client-1", 2000 + CLOCK_SKEW_SECS + 1),
            Err(AuthError::IdTokenExpired)
        );
        let azp = decode(&jwt(
            r#"{"alg":"RS256"}"#,
            &with("azp", "other".into()).to_string(),
        ))
        .unwrap();
        assert_eq!(
            check_refreshed(&azp, &account, "client-1", 1500),
            Err(AuthError::IdTokenRefreshMismatch)
        );
        let none = decode(&jwt(r#"{"alg":"none"}"#, &good_payload().to_string())).unwrap();
        assert!(matches!(
            check_refreshed(&none, &account, "client-1", 1500),
            Err(AuthError::IdTokenAlgorithm(_))
        ));
    }

    #[test]
    fn reads_claims_as_the_rules_say() {
        let decode_payload = |payload: &str| decode(&jwt(r#"{"alg":"RS256"}"#, payload));
        // A fractional NumericDate is whole seconds; `-0` is zero.
        let d = decode_payload(&with("exp", serde_json::json!(1999.9)).to_string()).unwrap();
        assert_eq!(d.claims.exp, 1999);
        let d = decode_payload(&good_payload().to_string().replacen("1000", "-0", 1)).unwrap();
        assert_eq!(d.claims.iat, 0);
        // A claim of the wrong type reads as absent, so its own check fails.
        assert_eq!(check(&with("iss", 7.into())), Err(AuthError::IdTokenIssuer));
        assert_eq!(
            check(&with("nonce", serde_json::json!(["n-1"]))),
            Err(AuthError::IdTokenNonce)
        );
        assert_eq!(
            check(&with("aud", 7.into())),
            Err(AuthError::IdTokenAudience)
        );
        assert_eq!(
            check(&with("aud", Value::Null)),
            Err(AuthError::IdTokenAudience)
        );
        for (field, value) in [
            ("exp", serde_json::json!(-1)),
            ("exp", serde_json::json!(1e12)),
            ("exp", serde_json::json!(1_000_000_000_000u64)),
            ("exp", serde_json::json!(null)),
            ("iat", serde_json::json!([1000])),
        ] {
            assert!(
                matches!(
                    decode_payload(&with(field, value.clone()).to_string()),
                    Err(AuthError::IdTokenMalformed(f)) if f == field
                ),
                "{field}: {value}"
            );
        }
        // Unknown claims are ignored, whatever they hold.
        assert_eq!(
            check(&with(
                "xms_extra",
                serde_json::json!({"a": [1, {"b": null}]})
            )),
            Ok(())
        );
    }

    #[test]
    fn refuses_what_two_parsers_could_read_differently() {
        let body = good_payload().to_string();
        let malformed = |payload: &str, what: &str| {
            assert_eq!(
                decode(&jwt(r#"{"alg":"RS256"}"#, payload)).unwrap_err(),
                AuthError::IdTokenMalformed(match what {
                    "payload JSON" => "payload JSON",
                    _ => "payload is not an object",
                }),
                "{payload}"
            );
        };
        // A repeated claim, known or not (RFC 7519 §4).
        malformed(&body.replacen('{', r#"{"sub":"admin","#, 1), "payload JSON");
        malformed(&body.replacen('{', r#"{"x":1,"x":2,"#, 1), "payload JSON");
        // A lone surrogate or an infinite number, even in a claim nobody reads.
        malformed(&body.replacen('{', r#"{"x":"\ud800","#, 1), "payload JSON");
        malformed(&body.replacen('{', r#"{"x":1e999,"#, 1), "payload JSON");
        // Claims by position.
        malformed(
            r#"["iss","sub","client-1",null,2000,1000]"#,
            "not an object",
        );
        assert_eq!(
            decode(&format!(
                "{}.{}.{}",
                b64url(br#"{"alg":"RS256","alg":"none"}"#),
                b64url(body.as_bytes()),
                b64url(b"sig")
            ))
            .unwrap_err(),
            AuthError::IdTokenMalformed("header JSON")
        );
        assert_eq!(
            decode(&format!(
                "{}.{}.{}",
                b64url(br#"["RS256"]"#),
                b64url(body.as_bytes()),
                b64url(b"sig")
            ))
            .unwrap_err(),
            AuthError::IdTokenMalformed("header JSON")
        );
        assert_eq!(
            decode(&format!(
                "{}.{}.{}",
                b64url(br#"{"alg":"RS256"}"#),
                b64url(b"{\"x\":\"\xff\"}"),
                b64url(b"sig")
            ))
            .unwrap_err(),
            AuthError::IdTokenMalformed("payload JSON")
        );
        // The order of the checks: payload JSON before the signature's encoding, which comes
        // before "not an object".
        assert_eq!(
            decode(&format!(
                "{}.{}.!!",
                b64url(br#"{"alg":"RS256"}"#),
                b64url(b"{")
            ))
            .unwrap_err(),
            AuthError::IdTokenMalformed("payload JSON")
        );
        assert_eq!(
            decode(&format!(
                "{}.{}.!!",
                b64url(br#"{"alg":"RS256"}"#),
                b64url(b"[]")
            ))
            .unwrap_err(),
            AuthError::IdTokenMalformed("signature encoding")
        );
    }

    #[test]
    fn rejects_malformed_tokens() {
        let p = good_payload().to_string();
        for token in [
            String::new(),
            "a.b".into(),
            "a.b.c.d".into(),
            "!!.!!.!!".into(),
            jwt("not json", &p),
            jwt(r#"{"alg":"RS256"}"#, "[1,2]"),
            jwt(r#"{"alg":"RS256"}"#, &without("exp").to_string()),
            jwt(
                r#"{"alg":"RS256"}"#,
                &with("iat", "yesterday".into()).to_string(),
            ),
            jwt(
                r#"{"alg":"RS256"}"#,
                &with("aud", serde_json::json!([1])).to_string(),
            ),
            "x".repeat(20_000),
        ] {
            assert!(
                matches!(decode(&token), Err(AuthError::IdTokenMalformed(_))),
                "{token:.40}"
            );
        }
    }
}
