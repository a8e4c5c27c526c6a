//! ID-token decoding and claim checks (OIDC Core §2, §3.1.3.7; RFC 7519), each failure its
//! own error, checked in a fixed order. Signature verification is the adapter's job (WebCrypto);
//! this module decides which algorithm is acceptable and what the claims must say.

use crate::json::{FromJson, ToJson, Value};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::discovery::{is_tenant_id, TENANT_TEMPLATE};
use super::error::AuthError;
use super::secret::{constant_time_eq, Nonce, Secret};

/// Clock skew tolerated on `exp` and `iat`, in seconds.
pub const CLOCK_SKEW_SECS: u64 = 300;

/// The only signing algorithm accepted: the one Entra uses. Never `none`, never HS*,
/// never whatever the token itself asks for.
pub const ALLOWED_ALGORITHMS: &[&str] = &["RS256"];

/// The JOSE header fields that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtHeader {
    pub alg: String,
    pub kid: Option<String>,
}

impl FromJson for JwtHeader {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            alg: v.field("alg")?,
            kid: v.opt_field("kid")?,
        })
    }
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

fn numeric_date(v: Option<&Value>) -> Option<u64> {
    let n = v?.as_f64()?;
    (0.0..1e12).contains(&n).then_some(n as u64)
}

fn opt_string(v: Option<&Value>) -> Option<String> {
    v?.as_str().map(str::to_owned)
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
    let header = crate::json::parse_bytes(&b64(h, "header encoding")?)
        .ok()
        .and_then(|v| JwtHeader::from_json(&v))
        .ok_or(AuthError::IdTokenMalformed("header JSON"))?;
    let obj = crate::json::parse_bytes(&b64(p, "payload encoding")?)
        .map_err(|_| AuthError::IdTokenMalformed("payload JSON"))?;
    let signature = b64(s, "signature encoding")?;
    if !obj.is_object() {
        return Err(AuthError::IdTokenMalformed("payload is not an object"));
    }
    let aud = match obj.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| a.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(AuthError::IdTokenMalformed("aud"))?,
        _ => vec![],
    };
    let claims = IdClaims {
        iss: opt_string(obj.get("iss")).unwrap_or_default(),
        sub: opt_string(obj.get("sub")).unwrap_or_default(),
        aud,
        azp: opt_string(obj.get("azp")),
        exp: numeric_date(obj.get("exp")).ok_or(AuthError::IdTokenMalformed("exp"))?,
        iat: numeric_date(obj.get("iat")).ok_or(AuthError::IdTokenMalformed("iat"))?,
        nonce: opt_string(obj.get("nonce")),
        name: opt_string(obj.get("name")),
        preferred_username: opt_string(obj.get("preferred_username")),
        tid: opt_string(obj.get("tid")),
        oid: opt_string(obj.get("oid")),
        login_hint: opt_string(obj.get("login_hint")),
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl ToJson for Account {
    fn to_json(&self) -> Value {
        Value::object([
            ("sub", Some(self.sub.to_json())),
            ("name", Some(self.name.to_json())),
            ("username", Some(self.username.to_json())),
            ("tenant_id", Some(self.tenant_id.to_json())),
            ("object_id", Some(self.object_id.to_json())),
            ("issuer", Some(self.issuer.to_json())),
            ("login_hint", Some(self.login_hint.to_json())),
        ])
    }
}

impl FromJson for Account {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            sub: v.field("sub")?,
            name: v.field("name")?,
            username: v.opt_field("username")?,
            tenant_id: v.opt_field("tenant_id")?,
            object_id: v.opt_field("object_id")?,
            issuer: v.field("issuer")?,
            login_hint: v.opt_field("login_hint")?,
        })
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
    use super::*;
    use crate::auth::pkce::b64url;

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
