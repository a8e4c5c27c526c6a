//! The sign-in flow as the app runs it: discovery, the redirect out, the callback, token
//! renewal and sign-out. Protocol decisions come from `crate::auth`; this module only moves
//! values between it, the browser adapters and the reactive state.

use leptos::prelude::*;

use crate::auth::callback::check_callback;
use crate::auth::discovery::{parse_metadata, ProviderMetadata};
use crate::auth::id_token::{self, Account, Expectations};
use crate::auth::request::{begin_sign_in, PendingSignIn, SignInRequest};
use crate::auth::secret::{AccessToken, Secret};
use crate::auth::session::Session;
use crate::auth::token::{code_redemption_body, parse_token_response, refresh_body};
use crate::auth::AuthError;
use crate::config::{Config, CALLBACK_PATH};
use crate::error::{Action, AppError};
use crate::platform::http::{self, FetchError};
use crate::platform::{browser, storage};
use crate::url::{parse_absolute, sanitize_return_path, with_query};

const PENDING_KEY: &str = "pending";
const DISCOVERY_KEY: &str = "discovery";

/// Sessions are kept per client id, so a reconfigured deployment never reuses another's.
fn session_key(config: &Config) -> String {
    format!("session.{}", config.client_id)
}

/// Discovery cached with the authority it describes.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedDiscovery {
    authority: String,
    metadata: ProviderMetadata,
}

/// What every page can reach: the configuration and who is signed in.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub config: StoredValue<Config>,
    /// `Some` while signed in.
    pub account: RwSignal<Option<Account>>,
}

impl AuthContext {
    pub fn new(config: Config) -> Self {
        let account = storage::load::<Session>(&session_key(&config)).map(|s| s.account);
        Self {
            config: StoredValue::new(config),
            account: RwSignal::new(account),
        }
    }

    pub fn use_context() -> Self {
        expect_context::<Self>()
    }

    fn config(&self) -> Config {
        self.config.get_value()
    }

    /// Starts a sign-in by full-page redirect; comes back to `return_to`.
    pub async fn sign_in(&self, return_to: &str, prompt: Option<&str>) -> Result<(), AppError> {
        let config = self.config();
        let metadata = metadata(&config).await?;
        let random = browser::random_bytes::<96>()?;
        let scopes = config.sign_in_scopes();
        let (url, pending) = begin_sign_in(
            &SignInRequest {
                authorization_endpoint: &metadata.authorization_endpoint,
                client_id: &config.client_id,
                redirect_uri: &config.redirect_uri,
                scopes: &scopes,
                return_to,
                prompt,
                login_hint: None,
            },
            &random,
            browser::now_secs(),
        );
        storage::save(PENDING_KEY, &pending)?;
        browser::redirect(&url)
    }

    /// Finishes the sign-in at the redirect URI; returns the path to land on.
    pub async fn complete_sign_in(&self) -> Result<String, AppError> {
        let config = self.config();
        let query = browser::current_query();
        // Single use: gone from storage before anything is checked, whatever the outcome.
        let pending: Option<PendingSignIn> = storage::take(PENDING_KEY);
        // `code` and `state` leave the address bar and this history entry at once.
        browser::replace_url(CALLBACK_PATH);
        let metadata = metadata(&config).await?;
        let now = browser::now_secs();
        let code = check_callback(&query, pending.as_ref(), &metadata, now)?;
        let Some(pending) = pending else {
            return Err(AuthError::NoPendingSignIn.into());
        };
        let return_to = sanitize_return_path(&pending.return_to);
        let nonce = pending.nonce;
        let scopes = pending.scopes;
        let body = code_redemption_body(
            &config.client_id,
            &code,
            &pending.redirect_uri,
            pending.verifier,
            &scopes,
        );
        let reply = http::post_form(&metadata.token_endpoint, &body)
            .await
            .map_err(|e| provider_unreachable(e, &metadata.token_endpoint))?;
        let response = parse_token_response(reply.status, &reply.body, &scopes)?;
        let raw_id_token = response
            .id_token
            .clone()
            .ok_or(AuthError::TokenResponseMalformed("no id_token"))?;
        let decoded = id_token::decode(raw_id_token.expose())?;
        id_token::check_claims(
            &decoded,
            &Expectations {
                issuer: &metadata.issuer,
                client_id: &config.client_id,
                nonce: &nonce,
                now,
            },
        )?;
        let account = Account::from(&decoded.claims);
        let session = Session::new(account.clone(), raw_id_token, response, now);
        storage::save(&session_key(&config), &session)?;
        self.account.set(Some(account));
        Ok(return_to)
    }

    /// An access token for `scopes`: the cached one while it is good, else a refreshed one.
    pub async fn access_token(&self, scopes: &[String]) -> Result<AccessToken, AppError> {
        let config = self.config();
        let Some(mut session) = storage::load::<Session>(&session_key(&config)) else {
            self.account.set(None);
            return Err(session_expired());
        };
        let now = browser::now_secs();
        if let Some(cached) = session.token_for(scopes, now) {
            return Ok(cached.token.clone());
        }
        let refresh_token = match &session.refresh_token {
            Some(rt) if session.can_refresh(now) => rt.clone(),
            _ => return Err(session_expired()),
        };
        let metadata = metadata(&config).await?;
        let body = refresh_body(&config.client_id, &refresh_token, scopes);
        let reply = http::post_form(&metadata.token_endpoint, &body)
            .await
            .map_err(|e| provider_unreachable(e, &metadata.token_endpoint))?;
        match parse_token_response(reply.status, &reply.body, scopes) {
            Ok(response) => {
                let token = response.access_token.clone();
                session.store(response, browser::now_secs());
                storage::save(&session_key(&config), &session)?;
                Ok(token)
            }
            Err(AuthError::TokenEndpoint { error, .. }) if error.error == "invalid_grant" => {
                Err(session_expired())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets the cached access token for `scopes` (after the API refused it).
    pub fn drop_access_token(&self, scopes: &[String]) {
        let config = self.config();
        if let Some(mut session) = storage::load::<Session>(&session_key(&config)) {
            session.drop_token_for(scopes);
            let _ = storage::save(&session_key(&config), &session);
        }
    }

    /// Clears this session's tokens and pending state, then ends the provider's session
    /// (OIDC RP-Initiated Logout §2).
    pub async fn sign_out(&self) -> Result<(), AppError> {
        let config = self.config();
        let session = storage::load::<Session>(&session_key(&config));
        let metadata = cached_metadata(&config);
        storage::clear_all();
        self.account.set(None);
        let Some(end_session) = metadata.and_then(|m| m.end_session_endpoint) else {
            return browser::redirect(&config.post_logout_redirect_uri);
        };
        let mut params = vec![
            (
                "post_logout_redirect_uri",
                config.post_logout_redirect_uri.as_str(),
            ),
            ("client_id", config.client_id.as_str()),
        ];
        if let Some(s) = &session {
            params.push(("id_token_hint", s.id_token.expose()));
        }
        browser::redirect(&with_query(&end_session, params))
    }
}

fn session_expired() -> AppError {
    AppError::new(
        "Your session has expired. Sign in again to continue.",
        Action::SignIn,
    )
}

fn provider_unreachable(e: FetchError, url: &str) -> AppError {
    let origin = parse_absolute(url).map(|u| u.origin()).unwrap_or_default();
    AppError::provider_unreachable(
        match e {
            FetchError::Timeout => "no answer in time",
            FetchError::Network => "the request failed",
        },
        &origin,
    )
}

fn cached_metadata(config: &Config) -> Option<ProviderMetadata> {
    storage::load::<CachedDiscovery>(DISCOVERY_KEY)
        .filter(|c| c.authority == config.authority)
        .map(|c| c.metadata)
}

/// The provider's metadata, fetched once per tab session.
pub async fn metadata(config: &Config) -> Result<ProviderMetadata, AppError> {
    if let Some(meta) = cached_metadata(config) {
        return Ok(meta);
    }
    let url = config.discovery_url();
    let reply = http::get(&url, None)
        .await
        .map_err(|e| provider_unreachable(e, &url))?;
    if reply.status != 200 {
        return Err(AppError::new(
            format!("The identity provider's metadata couldn't be loaded (HTTP {}). Check the authority in config.json.", reply.status),
            Action::FixConfig,
        ));
    }
    let meta = parse_metadata(&config.authority, &reply.body)?;
    let _ = storage::save(
        DISCOVERY_KEY,
        &CachedDiscovery {
            authority: config.authority.clone(),
            metadata: meta.clone(),
        },
    );
    Ok(meta)
}
