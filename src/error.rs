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
    pub message: String,
    pub action: Action,
}

impl AppError {
    pub fn new(message: impl Into<String>, action: Action) -> Self {
        Self {
            message: message.into(),
            action,
        }
    }

    /// The identity provider couldn't be reached (network, CORS, timeout).
    pub fn provider_unreachable(what: &str, origin: &str) -> Self {
        Self::new(
            format!("Couldn't reach the identity provider at {origin} ({what}). Check your connection and try again. If it persists, the app registration may not be of the \"Single-page application\" platform, which the token endpoint needs to allow this site (CORS)."),
            Action::Retry,
        )
    }

    /// The site's Content-Security-Policy refused a connection that config.json needs: the policy
    /// was made for another configuration (a `Content-Security-Policy` header from before
    /// config.json was replaced). Not a network or CORS problem.
    pub fn blocked_by_policy(role: &str, origin: &str) -> Self {
        Self::new(
            format!("This site's Content-Security-Policy doesn't allow connections to {origin}, {role} named in config.json, so the browser blocked the request. The policy was made for a different config.json: run `node scripts/csp.mjs dist` and send the new dist/csp-header.txt as the site's Content-Security-Policy header."),
            Action::FixConfig,
        )
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
        Self::new(e.message(), action)
    }
}

impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        let action = match e {
            ApiError::SessionExpired => Action::SignIn,
            ApiError::Server(_) | ApiError::Network { .. } | ApiError::Timeout => Action::Retry,
            _ => Action::None,
        };
        Self::new(e.message(), action)
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
