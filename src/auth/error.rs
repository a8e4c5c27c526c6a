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
        let base = match self.error.as_str() {
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
        };
        match (&self.description, self.aadsts_code()) {
            (_, Some(code)) => format!("{base} Support code: {code}."),
            (Some(d), None) => format!("{base} The provider said: {d}"),
            (None, None) => base,
        }
    }
}

impl AuthError {
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
            Provider(e) => e.message(),
            CodeAndError => "The sign-in response carries both a code and an error, so it can't be trusted. Please sign in again.".into(),
            MissingCode => "The sign-in response carries no authorization code. Please sign in again.".into(),
            MissingIssParameter => "The sign-in response doesn't name its issuer although the provider promises to (RFC 9207), so it can't be trusted.".into(),
            IssParameterMismatch => "The sign-in response comes from a different issuer than the one this app signs in with, so it was rejected.".into(),
            TokenEndpoint { status, error } => format!("Couldn't complete sign-in: the token endpoint answered HTTP {status}. {}", error.message()),
            TokenResponseMalformed(what) => format!("Couldn't complete sign-in: the token response is unusable ({what})."),
            UnsupportedTokenType => "Couldn't complete sign-in: the token endpoint issued a token type other than Bearer.".into(),
            BadExpiresIn => "Couldn't complete sign-in: the token response has a missing or invalid expires_in.".into(),
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
