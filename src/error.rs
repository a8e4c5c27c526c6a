//! The one error type the pages show: a user-facing message and the action it implies.

use crate::auth::AuthError;
use crate::config::ConfigError;
use crate::weather::ApiError;

/// What the user can do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Try the same thing again.
    Retry,
    /// Start a fresh sign-in.
    SignIn,
    /// Fix `config.json`; nothing on the page helps.
    FixConfig,
    /// Nothing to offer.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// What happened and what to do, in plain words: no host names or protocol terms.
    pub message: String,
    pub action: Action,
    /// The technical particulars (addresses, status codes, what a check found), shown behind
    /// a "Details" disclosure for whoever has to fix it.
    pub details: Option<String>,
}

impl AppError {
    pub fn new(message: impl Into<String>, action: Action) -> Self {
        Self {
            message: message.into(),
            action,
            details: None,
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// The identity provider couldn't be reached (network, CORS, timeout).
    pub fn provider_unreachable(what: &str, origin: &str) -> Self {
        Self::new(
            "Couldn't reach the sign-in service. Check your connection and try again.",
            Action::Retry,
        )
        .with_details(format!("No answer from the identity provider at {origin} ({what}). If it persists, the app registration may not be of the \"Single-page application\" platform, which the token endpoint needs to allow this site (CORS)."))
    }

    /// The site's Content-Security-Policy refused a connection that config.json needs: the policy
    /// was made for another configuration (a `Content-Security-Policy` header from before
    /// config.json was replaced). Not a network or CORS problem.
    pub fn blocked_by_policy(role: &str, origin: &str) -> Self {
        Self::new(
            "This site's security settings don't allow a connection this app needs, so the browser blocked it.",
            Action::FixConfig,
        )
        .with_details(format!("This site's Content-Security-Policy doesn't allow connections to {origin}, {role} named in config.json. The policy was made for a different config.json: run `node scripts/csp.mjs dist` and send the new dist/csp-header.txt as the site's Content-Security-Policy header."))
    }

    /// sessionStorage can't be used (blocked, full, or failing).
    pub fn storage(detail: &str) -> Self {
        Self::new(
            format!("This browser won't let the app keep your session ({detail}). Allow site data for this site, or leave private mode, then try again."),
            Action::Retry,
        )
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        use AuthError::*;
        let action = match &e {
            DiscoveryMalformed(_) | DiscoveryIssuerMismatch { .. } | DiscoveryEndpoint(_) => {
                Action::FixConfig
            }
            Provider(error) | TokenEndpoint { error, .. } if error.is_configuration_problem() => {
                Action::FixConfig
            }
            TokenEndpoint { error, .. }
                if error.error == "server_error" || error.error == "temporarily_unavailable" =>
            {
                Action::SignIn
            }
            _ => Action::SignIn,
        };
        let (message, details) = e.explained();
        Self {
            message,
            action,
            details,
        }
    }
}

impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        let action = match e {
            ApiError::SessionExpired => Action::SignIn,
            ApiError::Server(_) | ApiError::Network { .. } | ApiError::Timeout => Action::Retry,
            _ => Action::None,
        };
        Self {
            message: e.message(),
            action,
            details: e.details(),
        }
    }
}

impl From<ConfigError> for AppError {
    fn from(e: ConfigError) -> Self {
        Self::new(e.message(), Action::FixConfig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_words_stay_in_the_details() {
        let e = AppError::from(AuthError::StateMismatch);
        assert!(!e.message.contains("state"), "{}", e.message);
        assert!(e
            .details
            .as_deref()
            .is_some_and(|d| d.contains("state mismatch")));
        let e = AppError::provider_unreachable("token", "https://login.example");
        assert!(!e.message.contains("login.example") && !e.message.contains("CORS"));
        assert!(e
            .details
            .as_deref()
            .is_some_and(|d| d.contains("https://login.example")));
        let e = AppError::from(AuthError::Provider(crate::auth::ProviderError::new(
            "invalid_request",
            Some("AADSTS50011: The redirect URI does not match."),
        )));
        assert!(!e.message.contains("invalid_request"), "{}", e.message);
        assert!(e.message.contains("Support code: AADSTS50011."));
        assert!(e
            .details
            .as_deref()
            .is_some_and(|d| d.contains("error=invalid_request")));
        // Plain messages need no details.
        assert_eq!(AppError::from(AuthError::NoPendingSignIn).details, None);
    }

    #[test]
    fn maps_causes_to_actions() {
        assert_eq!(
            AppError::from(ApiError::SessionExpired).action,
            Action::SignIn
        );
        assert_eq!(AppError::from(ApiError::Timeout).action, Action::Retry);
        assert_eq!(
            AppError::from(ApiError::Validation("x".into())).action,
            Action::None
        );
        assert_eq!(
            AppError::from(AuthError::StateMismatch).action,
            Action::SignIn
        );
        assert_eq!(
            AppError::from(AuthError::DiscoveryEndpoint("jwks_uri")).action,
            Action::FixConfig
        );
    }
}
