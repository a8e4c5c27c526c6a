//! Every way sign-in, token handling or discovery can fail, each its own variant so that tests
//! can name the check that fired and the page can say exactly what went wrong.

use crate::url::QueryError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    // --- The authorization response (RFC 6749 §4.1.2, RFC 9207) ---
    /// A callback arrived but this tab has no sign-in waiting for one (replay, or another tab).
    NoPendingSignIn,
    /// The callback carries no `state`.
    MissingState,
    /// The callback's `state` is not the one this tab sent.
    StateMismatch,
    /// The sign-in waited too long at the provider.
    PendingExpired,
    /// The callback's query could not be read.
    BadCallbackQuery(QueryError),
    /// The provider answered with an OAuth error (`error`, `error_description`).
    Provider(ProviderError),
    /// Both `code` and `error` are present: the response is not trustworthy.
    CodeAndError,
    /// Neither `code` nor `error`.
    MissingCode,
    /// RFC 9207: `iss` is absent although the provider promised to send it.
    MissingIssParameter,
    /// RFC 9207: `iss` names another issuer (mix-up attack).
    IssParameterMismatch,

    // --- The token endpoint (RFC 6749 §5) ---
    /// The token endpoint answered with an OAuth error.
    TokenEndpoint {
        status: u16,
        error: ProviderError,
    },
    /// The token endpoint answered with something that isn't a usable token response.
    TokenResponseMalformed(&'static str),
    /// `token_type` other than `Bearer`.
    UnsupportedTokenType,
    /// `expires_in` missing, not a number, or outside what a real provider sends.
    BadExpiresIn,
    /// The token response's `scope` lacks these scopes the request needs: its token must not be
    /// used for that request (RFC 6749 §3.3, §5.1).
    ScopesNotGranted(Vec<String>),

    // --- The ID token (OIDC Core §3.1.3.7) ---
    IdTokenMalformed(&'static str),
    IdTokenAlgorithm(String),
    IdTokenIssuer,
    IdTokenAudience,
    IdTokenUntrustedAudience,
    IdTokenAuthorizedParty,
    IdTokenExpired,
    IdTokenIssuedInFuture,
    IdTokenNonce,
    IdTokenMissingSubject,
    IdTokenMissingTenant,
    /// A refreshed ID token names another user, issuer or client (OIDC Core §12.2).
    IdTokenRefreshMismatch,
    /// The signature does not verify with the provider's key.
    IdTokenBadSignature,
    /// No key in the JWKS has the token's `kid`, even after refetching it.
    IdTokenUnknownKey,
    /// No `kid`, and the JWKS holds several keys: which one is not guessed.
    IdTokenAmbiguousKey,
    /// The ID token's tenant is not in `allowed_tenants`.
    TenantNotAllowed,

    // --- Keys (RFC 7517) ---
    JwksMalformed,
    JwksNoUsableKey,

    // --- Discovery (OIDC Discovery §4.3) ---
    DiscoveryMalformed(&'static str),
    DiscoveryIssuerMismatch {
        expected: String,
        found: String,
    },
    DiscoveryEndpoint(&'static str),
}

/// An OAuth error response, with its description made safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub error: String,
    pub description: Option<String>,
}

impl ProviderError {
    /// Keeps only what is safe and useful to show: printable characters, a bounded length.
    /// (Markup is harmless anyway — views render text, never HTML — but length is not.)
    pub fn new(error: &str, description: Option<&str>) -> Self {
        fn clean(s: &str, max: usize) -> String {
            let mut out: String = s
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(max)
                .collect();
            if s.chars().count() > max {
                out.push('…');
            }
            out.trim().to_owned()
        }
        Self {
            error: clean(error, 64),
            description: description.map(|d| clean(d, 300)).filter(|d| !d.is_empty()),
        }
    }

    /// The `AADSTSnnnnn` code in the description, for support (Entra puts it first).
    pub fn aadsts_code(&self) -> Option<String> {
        let d = self.description.as_deref()?;
        let start = d.find("AADSTS")?;
        let digits: String = d[start + 6..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
    }

    /// What the user reads. Act on `error`, never on AADSTS numbers (Microsoft's guidance).
    pub fn message(&self) -> String {
        let base = self.message_base();
        match (&self.description, self.aadsts_code()) {
            (Some(d), None) => format!("{base} The provider said: {d}"),
            _ => self.with_support_code(base),
        }
    }

    /// `base`, then Entra's explanation and the support code when the description has one.
    fn with_support_code(&self, base: String) -> String {
        match self.aadsts_code() {
            Some(code) => match aadsts_explanation(&code) {
                Some(why) => format!("{base} {why} Support code: {code}."),
                None => format!("{base} Support code: {code}."),
            },
            None => base,
        }
    }

    fn message_base(&self) -> String {
        match self.error.as_str() {
            "access_denied" => "Sign-in was cancelled or access was denied.".to_owned(),
            "consent_required" => "The permission this app asked for was not granted.".to_owned(),
            "login_required" => "You need to sign in again.".to_owned(),
            "interaction_required" => {
                "The identity provider needs you to complete sign-in interactively.".to_owned()
            }
            "invalid_grant" => "Your sign-in session is no longer valid.".to_owned(),
            "invalid_request" | "invalid_client" | "unauthorized_client"
            | "unsupported_response_type" | "invalid_scope" => format!(
                "The identity provider rejected this app's request ({}). The app registration or configuration needs fixing.",
                self.error
            ),
            "server_error" | "temporarily_unavailable" => {
                "The identity provider had a problem. Try again in a moment.".to_owned()
            }
            other => format!("Sign-in failed ({other})."),
        }
    }
}

impl ProviderError {
    /// The message without protocol words: the plain sentence, Entra's explanation and the
    /// support code; and the particulars (the OAuth `error`, the provider's own text) apart.
    pub fn explained(&self) -> (String, String) {
        let base = match self.error.as_str() {
            "invalid_request" | "invalid_client" | "unauthorized_client"
            | "unsupported_response_type" | "invalid_scope" => {
                "The sign-in service rejected this app's request. The app registration or configuration needs fixing.".to_owned()
            }
            _ => self.message_base(),
        };
        let message = self.with_support_code(base);
        let details = match &self.description {
            Some(d) => format!("error={}. The provider said: {d}", self.error),
            None => format!("error={}.", self.error),
        };
        (message, details)
    }

    /// Whether the fix is in the app registration or config.json, not in trying again.
    pub fn is_configuration_problem(&self) -> bool {
        matches!(
            self.aadsts_code().as_deref(),
            Some("AADSTS9002326" | "AADSTS9002327" | "AADSTS50011" | "AADSTS700016")
        ) || matches!(
            self.error.as_str(),
            "invalid_client" | "unauthorized_client" | "unsupported_response_type"
        )
    }
}

/// A sentence for the Entra error codes people meet most, to go with the OAuth `error` (which is
/// what the app acts on). Codes from Microsoft's "AADSTS error codes" reference.
pub fn aadsts_explanation(code: &str) -> Option<&'static str> {
    Some(match code.strip_prefix("AADSTS")? {
        "50058" => "Microsoft has no active sign-in for you in this browser (you may have signed out elsewhere, or its cookies were cleared).",
        "65001" => "You, or an administrator of your organization, haven't yet agreed to let this app use the weather API.",
        "700084" => "Single-page apps may stay signed in for at most 24 hours, and that time is up.",
        "70008" => "Your sign-in has expired or was revoked.",
        "9002326" => "The app registration lists this address as a \"Web\" redirect URI; it must be registered under \"Single-page application\".",
        "9002327" => "The token request didn't come from a browser page, which single-page app registrations require.",
        "50011" => "This site's sign-in address (redirect URI) isn't registered for the app: add it under \"Single-page application\" in the app registration.",
        "700016" => "The client id in config.json doesn't match an app registered in this directory.",
        "50076" | "50079" => "Your organization requires multi-factor authentication for this sign-in.",
        "54005" => "This sign-in response was already used.",
        "501481" => "The sign-in couldn't be completed because its security check (PKCE) failed.",
        "50126" => "The username or password is wrong.",
        _ => return None,
    })
}

impl AuthError {
    /// What the page shows: a plain message, and the technical particulars for a "Details"
    /// disclosure where the message would otherwise need protocol words.
    pub fn explained(&self) -> (String, Option<String>) {
        use AuthError::*;
        const CHECK: &str = "Sign-in was stopped because the answer from the sign-in service failed a security check. Please sign in again.";
        match self {
            Provider(e) => {
                let (message, details) = e.explained();
                (message, Some(details))
            }
            TokenEndpoint { status, error } => {
                let (message, details) = error.explained();
                (message, Some(format!("The token endpoint answered HTTP {status}; {details}")))
            }
            IdTokenExpired | IdTokenIssuedInFuture => (
                "Sign-in was stopped because this device's clock seems to be wrong. Check its date and time, then sign in again.".into(),
                Some(self.message()),
            ),
            DiscoveryMalformed(_) | DiscoveryIssuerMismatch { .. } | DiscoveryEndpoint(_) => (
                "This app's sign-in settings don't match what the sign-in service publishes.".into(),
                Some(self.message()),
            ),
            NoPendingSignIn
            | PendingExpired
            | IdTokenRefreshMismatch
            | TenantNotAllowed
            | ScopesNotGranted(_) => (self.message(), None),
            _ => (CHECK.into(), Some(self.message())),
        }
    }

    /// The message a person reads: what happened, in plain words, never a secret.
    pub fn message(&self) -> String {
        use AuthError::*;
        match self {
            NoPendingSignIn => "This sign-in response doesn't belong to a sign-in started in this tab (it may have been used already). Please sign in again.".into(),
            MissingState => "The sign-in response is missing its state parameter, so it can't be trusted. Please sign in again.".into(),
            StateMismatch => "The sign-in response doesn't match the sign-in this tab started (state mismatch). Please sign in again.".into(),
            PendingExpired => "The sign-in took too long to complete. Please sign in again.".into(),
            BadCallbackQuery(QueryError::Duplicate(name)) => format!("The sign-in response repeats the parameter \"{name}\", so it can't be trusted. Please sign in again."),
            BadCallbackQuery(QueryError::BadEncoding(_)) => "The sign-in response is malformed. Please sign in again.".into(),
            BadCallbackQuery(QueryError::TooLong) => "The sign-in response is far longer than any real one, so it wasn't read. Please sign in again.".into(),
            Provider(e) => e.message(),
            CodeAndError => "The sign-in response carries both a code and an error, so it can't be trusted. Please sign in again.".into(),
            MissingCode => "The sign-in response carries no authorization code. Please sign in again.".into(),
            MissingIssParameter => "The sign-in response doesn't name its issuer although the provider promises to (RFC 9207), so it can't be trusted.".into(),
            IssParameterMismatch => "The sign-in response comes from a different issuer than the one this app signs in with, so it was rejected.".into(),
            TokenEndpoint { status, error } => format!("Couldn't complete sign-in: the token endpoint answered HTTP {status}. {}", error.message()),
            TokenResponseMalformed(what) => format!("Couldn't complete sign-in: the token response is unusable ({what})."),
            UnsupportedTokenType => "Couldn't complete sign-in: the token endpoint issued a token type other than Bearer.".into(),
            BadExpiresIn => "Couldn't complete sign-in: the token response has a missing or invalid expires_in.".into(),
            ScopesNotGranted(scopes) => {
                let names: Vec<&str> = scopes
                    .iter()
                    .map(|s| s.rsplit_once('/').map_or(s.as_str(), |(_, name)| name))
                    .collect();
                let (what, it) = match names.len() {
                    1 => ("permission", "it"),
                    _ => ("permissions", "them"),
                };
                format!("The identity provider renewed your sign-in without the {what} this needs ({}), so nothing was sent. An administrator may have withdrawn {it}: ask them to grant {it}, then sign in again.", names.join(", "))
            }
            IdTokenMalformed(what) => format!("The ID token is malformed ({what}), so sign-in was stopped."),
            IdTokenAlgorithm(alg) => format!("The ID token uses a signing algorithm this app doesn't accept ({alg})."),
            IdTokenIssuer => "The ID token was issued by an unexpected issuer, so sign-in was stopped.".into(),
            IdTokenAudience => "The ID token was not issued for this app (audience mismatch), so sign-in was stopped.".into(),
            IdTokenUntrustedAudience => "The ID token is also addressed to other apps (untrusted audience), so sign-in was stopped.".into(),
            IdTokenAuthorizedParty => "The ID token names a different authorized party (azp), so sign-in was stopped.".into(),
            IdTokenExpired => "The ID token has already expired. Check that your device's clock is right, then sign in again.".into(),
            IdTokenIssuedInFuture => "The ID token claims to be issued in the future. Check that your device's clock is right, then sign in again.".into(),
            IdTokenNonce => "The ID token doesn't belong to this sign-in (nonce mismatch), so sign-in was stopped.".into(),
            IdTokenMissingSubject => "The ID token doesn't identify a user (no sub claim), so sign-in was stopped.".into(),
            IdTokenMissingTenant => "The ID token doesn't name its tenant (no tid claim), so its issuer can't be checked.".into(),
            IdTokenRefreshMismatch => "The identity provider renewed the session for a different user or app, so the session was ended.".into(),
            IdTokenBadSignature => "The ID token's signature is not valid, so sign-in was stopped.".into(),
            IdTokenUnknownKey => "The ID token is signed with a key the identity provider doesn't publish, so sign-in was stopped.".into(),
            IdTokenAmbiguousKey => "The ID token doesn't say which of the provider's keys signed it, so sign-in was stopped.".into(),
            TenantNotAllowed => "Your organization isn't allowed to sign in to this app.".into(),
            JwksMalformed => "The identity provider's signing keys are unreadable, so sign-in was stopped.".into(),
            JwksNoUsableKey => "The identity provider publishes no key this app can verify signatures with (RS256), so sign-in was stopped.".into(),
            DiscoveryMalformed(what) => format!("The identity provider's metadata is unusable ({what})."),
            DiscoveryIssuerMismatch { expected, found } => format!("The identity provider's metadata names issuer \"{found}\" but this app is configured for \"{expected}\". Check the authority in config.json."),
            DiscoveryEndpoint(field) => format!("The identity provider's metadata has an unusable {field} (it must be an https URL on the authority's host)."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error body's description as Entra writes it: code, text, trace and correlation ids.
    fn entra(error: &str, code: u32, text: &str) -> ProviderError {
        let description = format!(
            "AADSTS{code}: {text}\r\nTrace ID: 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\r\nCorrelation ID: 9a8b7c6d-5e4f-3a2b-1c0d-ef0123456789\r\nTimestamp: 2026-12-01 22:00:00Z"
        );
        ProviderError::new(error, Some(&description))
    }

    #[test]
    fn finds_the_aadsts_code_in_an_entra_description() {
        let e = entra("invalid_grant", 700084, "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended.");
        assert_eq!(e.aadsts_code().as_deref(), Some("AADSTS700084"));
        assert_eq!(
            ProviderError::new("x", Some("no code here")).aadsts_code(),
            None
        );
        assert_eq!(ProviderError::new("x", Some("AADSTS")).aadsts_code(), None);
    }

    #[test]
    fn common_aadsts_codes_get_a_human_sentence_and_the_support_code() {
        let cases = [
            ("login_required", 50058, "no active sign-in", false),
            ("consent_required", 65001, "haven't yet agreed", false),
            ("invalid_grant", 700084, "at most 24 hours", false),
            (
                "invalid_request",
                9002326,
                "\"Single-page application\"",
                true,
            ),
            (
                "invalid_request",
                50011,
                "isn't registered for the app",
                true,
            ),
        ];
        for (error, code, words, config) in cases {
            let e = entra(error, code, "Entra's own words");
            let message = e.message();
            assert!(message.contains(words), "{code}: {message}");
            assert!(
                message.ends_with(&format!("Support code: AADSTS{code}.")),
                "{message}"
            );
            // The description's ids and Entra's own text stay out of the sentence.
            assert!(!message.contains("Trace ID"), "{message}");
            assert!(!message.contains("Entra's own words"), "{message}");
            assert_eq!(e.is_configuration_problem(), config, "{code}");
        }
    }

    #[test]
    fn unknown_codes_still_show_the_support_code_and_the_action_follows_error() {
        let e = entra("invalid_grant", 123456, "Something new.");
        assert_eq!(
            e.message(),
            "Your sign-in session is no longer valid. Support code: AADSTS123456."
        );
        assert!(!e.is_configuration_problem());
        assert!(ProviderError::new("unauthorized_client", None).is_configuration_problem());
    }

    #[test]
    fn a_configuration_problem_asks_for_a_config_fix_not_a_sign_in() {
        use crate::error::{Action, AppError};
        let wrong_platform = AuthError::TokenEndpoint {
            status: 400,
            error: entra("invalid_request", 9002326, "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type."),
        };
        assert_eq!(AppError::from(wrong_platform).action, Action::FixConfig);
        let expired = AuthError::TokenEndpoint {
            status: 400,
            error: entra("invalid_grant", 700084, "expired"),
        };
        assert_eq!(AppError::from(expired).action, Action::SignIn);
    }

    #[test]
    fn names_the_permissions_a_token_lacks() {
        use crate::error::{Action, AppError};
        let one = AppError::from(AuthError::ScopesNotGranted(vec![
            "api://0b7e/weather.read".into()
        ]));
        assert!(
            one.message
                .contains("without the permission this needs (weather.read)"),
            "{}",
            one.message
        );
        assert!(one.message.contains("nothing was sent"));
        assert_eq!(one.action, Action::SignIn);
        let two = AuthError::ScopesNotGranted(vec!["api://x/a.read".into(), "User.Read".into()]);
        assert!(two
            .message()
            .contains("permissions this needs (a.read, User.Read)"));
    }
}
