//! Checks of the authorization response at the redirect URI (RFC 6749 §4.1.2 and §10.12,
//! RFC 9207 §2.4), in a fixed order: `state` before anything else.

use super::discovery::{issuer_matches, ProviderMetadata};
use super::error::{AuthError, ProviderError};
use super::request::{PendingSignIn, PENDING_MAX_AGE_SECS};
use super::secret::{constant_time_eq, AuthCode, Secret};
use crate::url::parse_query;

/// Validates the callback query against the pending sign-in and returns the code to redeem.
///
/// `pending` is what this tab stored before redirecting (already removed from storage by the
/// caller, so a replayed callback finds nothing). `now` is seconds since the Unix epoch.
pub fn check_callback(
    query: &str,
    pending: Option<&PendingSignIn>,
    metadata: &ProviderMetadata,
    now: u64,
) -> Result<AuthCode, AuthError> {
    let params = parse_query(query).map_err(AuthError::BadCallbackQuery)?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    // 1. state (RFC 6749 §10.12): nothing else in the response is believed before this.
    let pending = pending.ok_or(AuthError::NoPendingSignIn)?;
    let state = get("state")
        .filter(|s| !s.is_empty())
        .ok_or(AuthError::MissingState)?;
    if !constant_time_eq(state, pending.state.expose()) {
        return Err(AuthError::StateMismatch);
    }

    let code = get("code");
    let error = get("error");
    if code.is_some() && error.is_some() {
        return Err(AuthError::CodeAndError);
    }

    // 2. iss (RFC 9207 §2.4) applies to error responses too.
    match get("iss") {
        Some(iss) if !issuer_matches(&metadata.issuer, iss) => {
            return Err(AuthError::IssParameterMismatch)
        }
        None if metadata.authorization_response_iss_parameter_supported => {
            return Err(AuthError::MissingIssParameter)
        }
        _ => {}
    }

    // 3. The provider's own error.
    if let Some(error) = error {
        return Err(AuthError::Provider(ProviderError::new(
            error,
            get("error_description"),
        )));
    }

    // 4. A sign-in left waiting too long is not finished.
    if now.saturating_sub(pending.created_at) > PENDING_MAX_AGE_SECS
        || pending.created_at > now + 300
    {
        return Err(AuthError::PendingExpired);
    }

    match code {
        Some(c) if !c.is_empty() => Ok(AuthCode::new(c)),
        _ => Err(AuthError::MissingCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::secret::{Nonce, PkceVerifier, State};
    use crate::url::QueryError;

    const ISSUER: &str = "https://login.example/tenant/v2.0";

    fn meta(iss_supported: bool) -> ProviderMetadata {
        ProviderMetadata {
            issuer: ISSUER.into(),
            authorization_endpoint: "https://login.example/a".into(),
            token_endpoint: "https://login.example/t".into(),
            end_session_endpoint: None,
            jwks_uri: "https://login.example/k".into(),
            authorization_response_iss_parameter_supported: iss_supported,
        }
    }

    fn pending() -> PendingSignIn {
        PendingSignIn {
            state: State::new("s-123"),
            nonce: Nonce::new("n-456"),
            verifier: PkceVerifier::new("v"),
            return_to: "/".into(),
            created_at: 10_000,
            redirect_uri: "http://localhost:8080/auth/callback".into(),
            scopes: vec![],
            silent: false,
            resume: None,
            resume_for: None,
        }
    }

    fn check(query: &str) -> Result<AuthCode, AuthError> {
        check_callback(query, Some(&pending()), &meta(false), 10_060)
    }

    #[test]
    fn accepts_a_matching_response() {
        assert_eq!(check("?code=abc&state=s-123").unwrap().expose(), "abc");
        let iss = format!(
            "code=abc&state=s-123&iss={}",
            crate::url::encode_component(ISSUER)
        );
        assert!(check_callback(&iss, Some(&pending()), &meta(true), 10_060).is_ok());
    }

    #[test]
    fn rejects_a_state_mismatch() {
        assert_eq!(
            check("code=abc&state=other").unwrap_err(),
            AuthError::StateMismatch
        );
    }

    #[test]
    fn rejects_a_missing_state() {
        assert_eq!(check("code=abc").unwrap_err(), AuthError::MissingState);
        assert_eq!(
            check("code=abc&state=").unwrap_err(),
            AuthError::MissingState
        );
    }

    #[test]
    fn checks_state_before_reporting_a_provider_error() {
        assert_eq!(
            check("error=access_denied&state=forged").unwrap_err(),
            AuthError::StateMismatch
        );
    }

    #[test]
    fn rejects_a_response_without_a_pending_sign_in() {
        assert_eq!(
            check_callback("code=abc&state=s-123", None, &meta(false), 0).unwrap_err(),
            AuthError::NoPendingSignIn
        );
    }

    #[test]
    fn turns_error_responses_into_provider_errors() {
        for code in [
            "access_denied",
            "consent_required",
            "login_required",
            "interaction_required",
            "server_error",
        ] {
            let err = check(&format!(
                "error={code}&error_description=AADSTS65001%3A+The+user+declined&state=s-123"
            ))
            .unwrap_err();
            let AuthError::Provider(p) = err else {
                panic!("{code}: not a provider error")
            };
            assert_eq!(p.error, code);
            assert_eq!(p.aadsts_code().as_deref(), Some("AADSTS65001"));
            assert!(p.message().contains("AADSTS65001"));
        }
    }

    #[test]
    fn rejects_code_together_with_error() {
        assert_eq!(
            check("code=abc&error=access_denied&state=s-123").unwrap_err(),
            AuthError::CodeAndError
        );
    }

    #[test]
    fn rejects_duplicated_parameters() {
        assert_eq!(
            check("code=abc&code=def&state=s-123").unwrap_err(),
            AuthError::BadCallbackQuery(QueryError::Duplicate("code".into()))
        );
    }

    #[test]
    fn rejects_an_iss_mismatch() {
        assert_eq!(
            check("code=abc&state=s-123&iss=https%3A%2F%2Fevil.example").unwrap_err(),
            AuthError::IssParameterMismatch
        );
    }

    #[test]
    fn requires_iss_when_the_provider_advertises_it() {
        assert_eq!(
            check_callback(
                "code=abc&state=s-123",
                Some(&pending()),
                &meta(true),
                10_060
            )
            .unwrap_err(),
            AuthError::MissingIssParameter
        );
    }

    #[test]
    fn rejects_an_expired_pending_sign_in() {
        assert_eq!(
            check_callback(
                "code=abc&state=s-123",
                Some(&pending()),
                &meta(false),
                10_000 + PENDING_MAX_AGE_SECS + 1
            )
            .unwrap_err(),
            AuthError::PendingExpired
        );
    }

    #[test]
    fn rejects_a_missing_code() {
        assert_eq!(check("state=s-123").unwrap_err(), AuthError::MissingCode);
        assert_eq!(
            check("state=s-123&code=").unwrap_err(),
            AuthError::MissingCode
        );
    }

    #[test]
    fn sanitises_hostile_error_descriptions() {
        let long = "x".repeat(5000);
        let err = check(&format!(
            "error=access_denied&error_description=%3Cscript%3E%0A{long}&state=s-123"
        ))
        .unwrap_err();
        let AuthError::Provider(p) = err else {
            panic!()
        };
        let d = p.description.unwrap();
        assert!(d.chars().count() <= 301);
        assert!(!d.contains('\n'));
    }
}
