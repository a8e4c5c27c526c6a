//! The token endpoint: request bodies (RFC 6749 §4.1.3, §6; RFC 7636 §4.5) and the checked
//! reading of its responses (RFC 6749 §5.1, §5.2). Sans-I/O: the adapter posts the body and
//! hands back the status and text.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::error::{AuthError, ProviderError};
use super::secret::{AccessToken, AuthCode, IdToken, PkceVerifier, RefreshToken, Secret};
use crate::url::form_encode;
use crate::wire;

/// The longest `expires_in` accepted. Entra's CAE-enabled tokens live up to 28 hours.
pub const MAX_EXPIRES_IN_SECS: u64 = 2 * 24 * 60 * 60;

/// `grant_type=authorization_code` for a public client: no secret, the verifier instead.
/// Takes the verifier by value: it is spent here.
pub fn code_redemption_body(
    client_id: &str,
    code: &AuthCode,
    redirect_uri: &str,
    verifier: PkceVerifier,
    scopes: &[String],
) -> String {
    let scope = scopes.join(" ");
    form_encode([
        ("client_id", client_id),
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.expose()),
        ("scope", scope.as_str()),
    ])
}

/// `grant_type=refresh_token` (RFC 6749 §6), asking for the scopes of one resource plus
/// `openid profile offline_access` (as MSAL does): the answer then carries a fresh ID token,
/// which is checked against the session's (OIDC Core §12.2) and kept for the logout hint.
pub fn refresh_body(client_id: &str, refresh_token: &RefreshToken, scopes: &[String]) -> String {
    let scope = ["openid profile offline_access"]
        .into_iter()
        .chain(scopes.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    form_encode([
        ("client_id", client_id),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("scope", scope.as_str()),
    ])
}

/// A successful, checked token response.
#[derive(Debug)]
pub struct TokenResponse {
    pub access_token: AccessToken,
    pub expires_in: u64,
    /// Granted scopes: the response's `scope`, or the requested ones when it is absent (§5.1).
    pub scopes: Vec<String>,
    pub id_token: Option<IdToken>,
    pub refresh_token: Option<RefreshToken>,
    /// Entra tells SPAs how long the refresh token lives.
    pub refresh_token_expires_in: Option<u64>,
}

/// A 2xx body as sent (RFC 6749 §5.1); other members are ignored. A present `null` reads as
/// absent, like any optional field.
#[derive(Deserialize)]
struct RawSuccess {
    access_token: Option<String>,
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Seconds,
    scope: Option<String>,
    id_token: Option<String>,
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Seconds,
}

/// An error body (RFC 6749 §5.2).
#[derive(Deserialize)]
struct RawError {
    error: String,
    error_description: Option<String>,
}

/// Seconds given as a JSON integer or a numeric string (some providers quote it); `None` for
/// anything else (a fraction, a negative number, another type), which the caller judges.
#[derive(Default)]
struct Seconds(Option<u64>);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;

        impl<'de> Visitor<'de> for SecondsVisitor {
            type Value = Seconds;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_u64<E>(self, n: u64) -> Result<Seconds, E> {
                Ok(Seconds(Some(n)))
            }

            fn visit_str<E>(self, s: &str) -> Result<Seconds, E> {
                Ok(Seconds(s.trim().parse().ok()))
            }

            fn visit_i64<E>(self, _: i64) -> Result<Seconds, E> {
                Ok(Seconds(None))
            }

            fn visit_f64<E>(self, _: f64) -> Result<Seconds, E> {
                Ok(Seconds(None))
            }

            fn visit_bool<E>(self, _: bool) -> Result<Seconds, E> {
                Ok(Seconds(None))
            }

            fn visit_unit<E>(self) -> Result<Seconds, E> {
                Ok(Seconds(None))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seconds, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Seconds(None))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seconds, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Seconds(None))
            }
        }

        d.deserialize_any(SecondsVisitor)
    }
}

/// Why a refresh (RFC 6749 §6) failed, as far as what to do next is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshFailure {
    /// The refresh token is no longer accepted (`invalid_grant`, e.g. AADSTS700084 after 24 h):
    /// a new sign-in is needed, silently if the provider's session allows.
    SessionEnded,
    /// The scopes asked for were never granted: the user must consent (AADSTS65001).
    NeedsConsent,
    /// The provider is having trouble; the refresh token is still good.
    Transient,
    /// Anything else: the app or the provider is misconfigured.
    Other,
}

/// Decides what a failed refresh means. `new_scopes` is true when the request asked for a
/// scope this session never had (incremental consent).
pub fn classify_refresh_error(error: &AuthError, new_scopes: bool) -> RefreshFailure {
    let AuthError::TokenEndpoint { status, error } = error else {
        return RefreshFailure::Other;
    };
    let code = error.aadsts_code();
    let consent = code.as_deref() == Some("AADSTS65001")
        || error.error == "consent_required"
        || error.error == "interaction_required";
    match error.error.as_str() {
        _ if consent => RefreshFailure::NeedsConsent,
        // The SPA refresh token's 24 hours are over, whatever scope was asked for.
        "invalid_grant" if code.as_deref() == Some("AADSTS700084") => RefreshFailure::SessionEnded,
        "invalid_grant" | "invalid_scope" if new_scopes => RefreshFailure::NeedsConsent,
        "invalid_grant" => RefreshFailure::SessionEnded,
        "server_error" | "temporarily_unavailable" => RefreshFailure::Transient,
        _ if *status == 429 || *status >= 500 => RefreshFailure::Transient,
        _ => RefreshFailure::Other,
    }
}

/// Reads the token endpoint's answer.
pub fn parse_token_response(
    status: u16,
    body: &str,
    requested_scopes: &[String],
) -> Result<TokenResponse, AuthError> {
    let too_large = wire::too_large(body);
    if !(200..300).contains(&status) {
        let raw = (!too_large)
            .then(|| wire::read_object::<RawError>(body).ok())
            .flatten();
        let error = match raw {
            Some(e) => ProviderError::new(&e.error, e.error_description.as_deref()),
            None => ProviderError::new(
                match status {
                    429 => "temporarily_unavailable",
                    500..=599 => "server_error",
                    _ => "invalid_response",
                },
                None,
            ),
        };
        return Err(AuthError::TokenEndpoint { status, error });
    }
    if too_large {
        return Err(AuthError::TokenResponseMalformed("the body is too large"));
    }
    let raw: RawSuccess = wire::read_object(body)
        .map_err(|_| AuthError::TokenResponseMalformed("the body is not a JSON object"))?;
    let access_token = raw
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::TokenResponseMalformed("no access_token"))?;
    match raw.token_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => return Err(AuthError::UnsupportedTokenType),
        None => return Err(AuthError::TokenResponseMalformed("no token_type")),
    }
    let expires_in = raw
        .expires_in
        .0
        .filter(|s| (1..=MAX_EXPIRES_IN_SECS).contains(s))
        .ok_or(AuthError::BadExpiresIn)?;
    // RFC 6749 §3.3: space-delimited; an absent or empty scope means what was asked for (§5.1).
    let granted: Vec<String> = raw
        .scope
        .as_deref()
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    let scopes = if granted.is_empty() {
        requested_scopes.to_vec()
    } else {
        granted
    };
    Ok(TokenResponse {
        access_token: AccessToken::new(access_token),
        expires_in,
        scopes,
        id_token: raw.id_token.filter(|t| !t.is_empty()).map(IdToken::new),
        refresh_token: raw
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(RefreshToken::new),
        refresh_token_expires_in: raw.refresh_token_expires_in.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::parse_query;

    fn scopes() -> Vec<String> {
        vec!["api://x/weather.read".to_owned()]
    }

    #[test]
    fn builds_a_code_redemption_without_a_secret() {
        let body = code_redemption_body(
            "client",
            &AuthCode::new("the code"),
            "http://localhost:8080/auth/callback",
            PkceVerifier::new("verifier"),
            &scopes(),
        );
        let q = parse_query(&body).unwrap();
        let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "client_id",
                "grant_type",
                "code",
                "redirect_uri",
                "code_verifier",
                "scope"
            ]
        );
        assert!(body.contains("code=the%20code"));
        assert!(!body.contains("client_secret"));
    }

    #[test]
    fn builds_a_refresh_request() {
        let body = refresh_body("c", &RefreshToken::new("r/1"), &scopes());
        assert_eq!(
            body,
            "client_id=c&grant_type=refresh_token&refresh_token=r%2F1&scope=openid%20profile%20offline_access%20api%3A%2F%2Fx%2Fweather.read"
        );
    }

    #[test]
    fn parses_a_full_response() {
        let r = parse_token_response(
            200,
            r#"{"token_type":"Bearer","scope":"api://x/weather.read openid","expires_in":3599,
               "access_token":"at","refresh_token":"rt","id_token":"a.b.c","refresh_token_expires_in":86399}"#,
            &scopes(),
        )
        .unwrap();
        assert_eq!(r.access_token.expose(), "at");
        assert_eq!(r.expires_in, 3599);
        assert_eq!(r.scopes, ["api://x/weather.read", "openid"]);
        assert_eq!(r.refresh_token.unwrap().expose(), "rt");
        assert_eq!(r.id_token.unwrap().expose(), "a.b.c");
        assert_eq!(r.refresh_token_expires_in, Some(86399));
    }

    #[test]
    fn scope_is_split_on_ascii_spaces_only() {
        let r = parse_token_response(
            200,
            r#"{"token_type":"Bearer","expires_in":60,"access_token":"at","scope":" \u200aofe  b "}"#,
            &scopes(),
        )
        .unwrap();
        assert_eq!(r.scopes, ["\u{200a}ofe", "b"]);
        let blank = parse_token_response(
            200,
            r#"{"token_type":"Bearer","expires_in":60,"access_token":"at","scope":"  "}"#,
            &scopes(),
        )
        .unwrap();
        assert_eq!(blank.scopes, scopes());
    }

    #[test]
    fn token_type_is_case_insensitive_and_expires_in_may_be_quoted() {
        let r = parse_token_response(
            200,
            r#"{"token_type":"bearer","expires_in":"60","access_token":"at"}"#,
            &scopes(),
        )
        .unwrap();
        assert_eq!(r.expires_in, 60);
        assert_eq!(r.scopes, scopes(), "absent scope means the requested scope");
        assert!(r.refresh_token.is_none());
    }

    #[test]
    fn rejects_unusable_success_bodies() {
        let cases: &[(&str, AuthError)] = &[
            (
                "<html>oops</html>",
                AuthError::TokenResponseMalformed("the body is not a JSON object"),
            ),
            (
                r#"{"token_type":"Bearer","expires_in":60"#,
                AuthError::TokenResponseMalformed("the body is not a JSON object"),
            ),
            (
                r#"{"token_type":"Bearer","expires_in":60}"#,
                AuthError::TokenResponseMalformed("no access_token"),
            ),
            (
                r#"{"token_type":"Bearer","expires_in":60,"access_token":""}"#,
                AuthError::TokenResponseMalformed("no access_token"),
            ),
            (
                r#"{"token_type":"DPoP","expires_in":60,"access_token":"a"}"#,
                AuthError::UnsupportedTokenType,
            ),
            (
                r#"{"expires_in":60,"access_token":"a"}"#,
                AuthError::TokenResponseMalformed("no token_type"),
            ),
            (
                r#"{"token_type":"Bearer","access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":0,"access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":-5,"access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":1e300,"access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":99999999,"access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":"soon","access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":60.0,"access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":1e3,"access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":[60],"access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":null,"access_token":"a"}"#,
                AuthError::BadExpiresIn,
            ),
            (
                r#"{"token_type":"Bearer","expires_in":60,"access_token":7}"#,
                AuthError::TokenResponseMalformed("the body is not a JSON object"),
            ),
            (
                r#"["a","Bearer",60]"#,
                AuthError::TokenResponseMalformed("the body is not a JSON object"),
            ),
            (
                r#"{"token_type":"Bearer","expires_in":60,"access_token":"a","access_token":"b"}"#,
                AuthError::TokenResponseMalformed("the body is not a JSON object"),
            ),
            (
                r#"{"token_type":"Bearer","expires_in":60,"access_token":"a","x":1,"x":1}"#,
                AuthError::TokenResponseMalformed("the body is not a JSON object"),
            ),
            (
                r#"{"token_type":"Bearer","expires_in":60,"access_token":"a","x":"\udc00"}"#,
                AuthError::TokenResponseMalformed("the body is not a JSON object"),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                parse_token_response(200, body, &scopes()).unwrap_err(),
                *expected,
                "{body}"
            );
        }
    }

    #[test]
    fn caps_the_body_before_reading_it() {
        let padded = format!(
            r#"{{"token_type":"Bearer","expires_in":60,"access_token":"a"}}{}"#,
            " ".repeat(wire::MAX_BODY_BYTES)
        );
        assert_eq!(
            parse_token_response(200, &padded, &scopes()).unwrap_err(),
            AuthError::TokenResponseMalformed("the body is too large")
        );
        let padded_error = format!(
            r#"{{"error":"invalid_grant"}}{}"#,
            " ".repeat(wire::MAX_BODY_BYTES)
        );
        let AuthError::TokenEndpoint { error, .. } =
            parse_token_response(400, &padded_error, &scopes()).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(error.error, "invalid_response");
    }

    #[test]
    fn reads_oauth_error_bodies() {
        let err = parse_token_response(
            400,
            r#"{"error":"invalid_grant","error_description":"AADSTS700084: The refresh token has expired"}"#,
            &scopes(),
        )
        .unwrap_err();
        let AuthError::TokenEndpoint { status, error } = err else {
            panic!()
        };
        assert_eq!(status, 400);
        assert_eq!(error.error, "invalid_grant");
        assert_eq!(error.aadsts_code().as_deref(), Some("AADSTS700084"));
    }

    fn endpoint_error(status: u16, error: &str, description: Option<&str>) -> AuthError {
        AuthError::TokenEndpoint {
            status,
            error: ProviderError::new(error, description),
        }
    }

    #[test]
    fn classifies_refresh_failures() {
        let expired = endpoint_error(400, "invalid_grant", Some("AADSTS700084: The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended."));
        assert_eq!(
            classify_refresh_error(&expired, false),
            RefreshFailure::SessionEnded
        );
        let consent = endpoint_error(
            400,
            "invalid_grant",
            Some("AADSTS65001: The user or administrator has not consented"),
        );
        assert_eq!(
            classify_refresh_error(&consent, true),
            RefreshFailure::NeedsConsent
        );
        assert_eq!(
            classify_refresh_error(&consent, false),
            RefreshFailure::NeedsConsent
        );
        let scope = endpoint_error(400, "invalid_scope", None);
        assert_eq!(
            classify_refresh_error(&scope, true),
            RefreshFailure::NeedsConsent
        );
        assert_eq!(classify_refresh_error(&scope, false), RefreshFailure::Other);
        assert_eq!(
            classify_refresh_error(&endpoint_error(400, "interaction_required", None), false),
            RefreshFailure::NeedsConsent
        );
        assert_eq!(
            classify_refresh_error(&endpoint_error(503, "server_error", None), false),
            RefreshFailure::Transient
        );
        assert_eq!(
            classify_refresh_error(&endpoint_error(429, "invalid_response", None), false),
            RefreshFailure::Transient
        );
        assert_eq!(
            classify_refresh_error(&endpoint_error(401, "invalid_client", None), false),
            RefreshFailure::Other
        );
        assert_eq!(
            classify_refresh_error(&AuthError::BadExpiresIn, false),
            RefreshFailure::Other
        );
    }

    #[test]
    fn maps_non_json_errors_by_status() {
        for (status, code) in [
            (500, "server_error"),
            (503, "server_error"),
            (429, "temporarily_unavailable"),
            (404, "invalid_response"),
        ] {
            let AuthError::TokenEndpoint { error, .. } =
                parse_token_response(status, "<html>", &scopes()).unwrap_err()
            else {
                panic!()
            };
            assert_eq!(error.error, code);
        }
    }
}
