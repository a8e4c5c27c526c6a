//! The sign-in flow as the app runs it: discovery, the redirect out, the callback, sign-out and
//! the tabs' shared view of the session. Protocol decisions come from `crate::auth`; this module
//! only moves values between it, the browser adapters and the reactive state.

use std::cell::Cell;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::callback::check_callback;
use crate::auth::discovery::{parse_metadata, ProviderMetadata};
use crate::auth::guard::may_auto_redirect;
use crate::auth::id_token::{self, Account, Expectations};
use crate::auth::jwks::{parse_jwks, select_key, RsaKey};
use crate::auth::pkce::b64url;
use crate::auth::request::{
    begin_sign_in, claims_request, end_session_url, PendingSignIn, SignInRequest,
};
use crate::auth::secret::{ChannelKey, Secret};
use crate::auth::session::Session;
use crate::auth::tabs::{
    accept_opened, associated_data, family_key, plaintext, react, Reaction, Sealed, TabMessage,
    NONCE_BYTES,
};
use crate::auth::token::{code_redemption_body, parse_token_response};
use crate::auth::{AuthError, ProviderError};
use crate::config::{callback_path_in, Config};
use crate::error::{Action, AppError};
use crate::platform::http::{self, FetchError};
use crate::platform::{browser, channel, crypto, storage};
use crate::url::{parse_absolute, return_path_on};

const PENDING_KEY: &str = "pending";
const DISCOVERY_KEY: &str = "discovery";
const JWKS_KEY: &str = "jwks";
const AUTO_REDIRECT_KEY: &str = "auto-redirect-at";
/// Where a page finds the action to finish after a round trip to the provider.
pub const RESUME_KEY: &str = "resume";

thread_local! {
    /// Whether this page load already left for the provider on its own.
    static AUTO_REDIRECTED: Cell<bool> = const { Cell::new(false) };
    /// Set by sign-out (here or in another tab): nothing may store a session in this page load
    /// any more, not even a refresh that was already under way.
    static SIGNED_OUT: Cell<bool> = const { Cell::new(false) };
}

/// Whether the user signed out during this page load.
pub fn signed_out() -> bool {
    SIGNED_OUT.with(Cell::get)
}

/// Signing keys cached with the URL they came from.
#[derive(Serialize, Deserialize)]
struct CachedJwks {
    jwks_uri: String,
    #[serde(deserialize_with = "crate::wire::objects")]
    keys: Vec<RsaKey>,
}

/// Discovery cached with the authority it describes.
#[derive(Serialize, Deserialize)]
struct CachedDiscovery {
    authority: String,
    #[serde(deserialize_with = "crate::wire::object")]
    metadata: ProviderMetadata,
}

/// An action to finish after coming back, as the page that started it described it, and how
/// the round trip went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResumeEntry {
    pub data: String,
    /// Set when the provider refused (e.g. consent declined): the page restores the user's input
    /// and shows this instead of submitting.
    pub declined: Option<String>,
    /// Whose action it is ([`Account::owner`]): it is finished only while they are signed in.
    #[serde(default)]
    pub owner: Option<String>,
}

impl ResumeEntry {
    /// Whether the action may be finished for the account now signed in: only for its owner.
    pub fn belongs_to(&self, account: Option<&Account>) -> bool {
        matches!((&self.owner, account), (Some(owner), Some(a)) if *owner == a.owner())
    }
}

/// How to leave for the provider.
#[derive(Default)]
pub struct SignInOptions<'a> {
    /// Where to come back to: a path as the address bar shows it (base path included) or an
    /// absolute URL on this origin; kept inside the app's base path.
    pub return_to: &'a str,
    /// `none` for a silent attempt.
    pub prompt: Option<&'a str>,
    /// Scopes beyond those of sign-in (incremental consent).
    pub extra_scopes: &'a [String],
    /// The `claims` parameter of a continuous-access-evaluation challenge.
    pub claims: Option<&'a str>,
    /// What to finish afterwards (kept in the pending sign-in, never in the URL).
    pub resume: Option<String>,
    /// Left by the app on its own rather than by a click: subject to the no-loop guard.
    pub automatic: bool,
}

/// A failed callback: what went wrong, and where "Sign in again" should come back to.
pub struct CallbackError {
    pub error: AppError,
    pub return_to: String,
}

/// What every page can reach: the configuration and who is signed in.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub config: StoredValue<Config>,
    /// `Some` while signed in.
    pub account: RwSignal<Option<Account>>,
    /// When the session's refresh token runs out (seconds since the epoch).
    pub session_ends_at: RwSignal<Option<u64>>,
}

impl AuthContext {
    pub fn new(config: Config) -> Self {
        let session = storage::load::<Session>(&session_key(&config));
        let auth = Self {
            account: RwSignal::new(session.as_ref().map(|s| s.account.clone())),
            session_ends_at: RwSignal::new(session.as_ref().map(|s| s.refresh_expires_at)),
            config: StoredValue::new(config),
        };
        auth.listen_to_other_tabs();
        auth
    }

    pub fn use_context() -> Self {
        expect_context::<Self>()
    }

    pub fn config(&self) -> Config {
        self.config.get_value()
    }

    /// This tab's session, if any.
    pub fn session(&self) -> Option<Session> {
        storage::load(&session_key(&self.config()))
    }

    /// Stores the session and updates what the pages show.
    pub fn save_session(&self, session: &Session) -> Result<(), AppError> {
        if signed_out() {
            return Err(AppError::new("You have signed out.", Action::None));
        }
        storage::save(&session_key(&self.config()), session)?;
        // Only real changes notify: a token refresh must not re-render the pages.
        let account = Some(session.account.clone());
        if self.account.with_untracked(|a| *a != account) {
            self.account.set(account);
        }
        let ends = Some(session.refresh_expires_at);
        if self.session_ends_at.get_untracked() != ends {
            self.session_ends_at.set(ends);
        }
        Ok(())
    }

    /// Forgets this tab's session (tokens, pending sign-in, resume data).
    fn forget(&self) {
        SIGNED_OUT.with(|c| c.set(true));
        storage::clear_all();
        storage::shared::clear_all();
        self.account.set(None);
        self.session_ends_at.set(None);
    }

    fn listen_to_other_tabs(&self) {
        let auth = *self;
        let name = format!("nimbus.{}", self.config.with_value(|c| c.client_id.clone()));
        channel::open(&name, move |text| {
            let Ok(message) = crate::wire::read_object::<TabMessage>(&text) else {
                return;
            };
            let own = auth.session();
            let published = own.as_ref().and_then(|s| {
                storage::shared::get_u32(&family_key(
                    &auth.config.with_value(|c| c.client_id.clone()),
                    &s.family,
                ))
            });
            match react(own.as_ref(), published, message) {
                Reaction::Open {
                    family,
                    generation,
                    sealed,
                } => leptos::task::spawn_local(async move {
                    auth.adopt_sealed(&family, generation, &sealed).await;
                }),
                Reaction::Share => {
                    if let Some(own) = own {
                        leptos::task::spawn_local(async move { share_session(&own).await });
                    }
                }
                Reaction::SignOut => auth.forget(),
                Reaction::Ignore => {}
            }
        });
    }

    /// Opens a session another tab of this family sealed and adopts it if it checks out
    /// (`auth::tabs::accept_opened`). Anything that doesn't open — another family's key, altered
    /// bytes, a relabelled family or generation — is dropped without a word.
    async fn adopt_sealed(&self, family: &str, generation: u32, sealed: &Sealed) {
        let Some(key) = self
            .session()
            .and_then(|s| s.channel_key)
            .and_then(|k| k.bytes())
        else {
            return;
        };
        let Some((nonce, data)) = sealed.decode() else {
            return;
        };
        let aad = associated_data(family, generation);
        let Ok(opened) = crypto::open(&key, &nonce, &aad, &data).await else {
            return;
        };
        let Ok(text) = String::from_utf8(opened) else {
            return;
        };
        // Read again: this tab's session may have moved on (or ended) while the seal was opened.
        let Some(own) = self.session() else {
            return;
        };
        if let Some(session) = accept_opened(&own, family, generation, &text) {
            let _ = self.save_session(&session);
        }
    }

    /// Forgets the cached access token for `scopes` (after the API refused it).
    pub fn drop_access_token(&self, scopes: &[String]) {
        if let Some(mut session) = self.session() {
            session.drop_token_for(scopes);
            let _ = storage::save(&session_key(&self.config()), &session);
        }
    }

    /// An interactive sign-in that comes back to `return_to`. Returns only if it couldn't leave.
    pub async fn sign_in_to(&self, return_to: &str) -> AppError {
        self.sign_in(SignInOptions {
            return_to,
            ..Default::default()
        })
        .await
    }

    /// Starts a sign-in by full-page redirect. Returns only if it couldn't leave.
    pub async fn sign_in(&self, options: SignInOptions<'_>) -> AppError {
        match self.try_sign_in(options).await {
            Ok(()) => AppError::new("Taking you to the sign-in page…", Action::None),
            Err(e) => e,
        }
    }

    async fn try_sign_in(&self, options: SignInOptions<'_>) -> Result<(), AppError> {
        let now = browser::now_secs();
        if options.automatic {
            let last = storage::load_plain::<u64>(AUTO_REDIRECT_KEY);
            if !may_auto_redirect(last, now, AUTO_REDIRECTED.with(Cell::get)) {
                return Err(AppError::new(
                    "Your sign-in couldn't be renewed automatically, and the app stopped rather than try again in a loop. Sign in again to continue.",
                    Action::SignIn,
                ));
            }
        }
        let config = self.config();
        let metadata = metadata(&config).await?;
        let random = browser::random_bytes::<96>()?;
        let mut scopes = config.sign_in_scopes();
        for s in options.extra_scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let account = self.account.get_untracked();
        let hint = account.as_ref().and_then(|a| a.username.clone());
        let resume_for = account.map(|a| a.owner());
        let claims = claims_request(options.claims);
        let (url, pending) = begin_sign_in(
            &SignInRequest {
                authorization_endpoint: &metadata.authorization_endpoint,
                client_id: &config.client_id,
                redirect_uri: &config.redirect_uri,
                scopes: &scopes,
                return_to: &return_path_on(
                    options.return_to,
                    &browser::origin(),
                    &config.base_path,
                ),
                prompt: options.prompt,
                login_hint: hint.as_deref(),
                claims: Some(&claims),
                resume: options.resume,
                resume_for,
            },
            &random,
            now,
        );
        storage::save(PENDING_KEY, &pending)?;
        if options.automatic {
            storage::save(AUTO_REDIRECT_KEY, &now)?;
            AUTO_REDIRECTED.with(|c| c.set(true));
        }
        browser::redirect(&url)
    }

    /// Finishes the sign-in at the redirect URI; returns where to land: an absolute URL on this
    /// origin, inside the base path (the router takes it as it is, without adding its base).
    pub async fn complete_sign_in(&self) -> Result<String, CallbackError> {
        let query = browser::take_callback_query();
        // Single use: gone from storage before anything is checked, whatever the outcome.
        let pending: Option<PendingSignIn> = storage::take(PENDING_KEY);
        let base_path = self.config().base_path;
        // `code` and `state` leave the address bar and this history entry at once.
        browser::replace_url(&callback_path_in(&base_path));
        let origin = browser::origin();
        let path = pending
            .as_ref()
            .map(|p| return_path_on(&p.return_to, &origin, &base_path))
            .unwrap_or_else(|| base_path.clone());
        let return_to = format!("{origin}{path}");
        match self.redeem(&query, pending).await {
            Ok(()) => Ok(return_to),
            Err(error) => Err(CallbackError { error, return_to }),
        }
    }

    async fn redeem(&self, query: &str, pending: Option<PendingSignIn>) -> Result<(), AppError> {
        let config = self.config();
        let metadata = metadata(&config).await?;
        let now = browser::now_secs();
        let code = match check_callback(query, pending.as_ref(), &metadata, now) {
            Ok(code) => code,
            Err(AuthError::Provider(e)) => return Err(provider_refusal(e, pending)),
            Err(e) => return Err(e.into()),
        };
        let Some(pending) = pending else {
            return Err(AuthError::NoPendingSignIn.into());
        };
        let PendingSignIn {
            nonce,
            verifier,
            scopes,
            redirect_uri,
            resume,
            resume_for,
            ..
        } = pending;
        let body = code_redemption_body(&config.client_id, &code, &redirect_uri, verifier, &scopes);
        // The signing keys are fetched while the code is redeemed, not after (unless cached).
        let keys = async {
            match cached_keys(&metadata) {
                Some(keys) => Ok(keys),
                None => fetch_jwks(&metadata).await,
            }
        };
        let (reply, keys) =
            futures::future::join(http::post_form(&metadata.token_endpoint, &body), keys).await;
        let reply = reply.map_err(|e| provider_unreachable(e, &metadata.token_endpoint))?;
        let response = parse_token_response(reply.status, &reply.body, &scopes)?;
        let raw_id_token = response
            .id_token
            .clone()
            .ok_or(AuthError::TokenResponseMalformed("no id_token"))?;
        let decoded = id_token::decode(raw_id_token.expose())?;
        id_token::check_algorithm(&decoded)?;
        verify_signature_with(&metadata, &decoded, keys?).await?;
        id_token::check_claims(
            &decoded,
            &Expectations {
                issuer: &metadata.issuer,
                client_id: &config.client_id,
                nonce: &nonce,
                now,
                allowed_tenants: &config.allowed_tenants,
            },
        )?;
        let family = b64url(&browser::random_bytes::<12>()?);
        let account = Account::from(&decoded.claims);
        let mut session = Session::new(family, account, raw_id_token, response, now);
        session.channel_key = Some(ChannelKey::from_random(&browser::random_bytes::<32>()?));
        self.save_session(&session)?;
        if let Some(data) = resume {
            // Finish the action only for the account that started it.
            let declined = match &resume_for {
                Some(owner) if *owner != session.account.owner() => Some(
                    "You came back signed in as a different user, so nothing was sent. Your input is kept."
                        .to_owned(),
                ),
                _ => None,
            };
            storage::save(
                RESUME_KEY,
                &ResumeEntry {
                    data,
                    declined,
                    owner: resume_for.or_else(|| Some(session.account.owner())),
                },
            )?;
        }
        Ok(())
    }

    /// Clears every tab's session and pending state, then ends the provider's session
    /// (OIDC RP-Initiated Logout §2, by GET as Entra documents it).
    pub async fn sign_out(&self) -> AppError {
        let config = self.config();
        let session = self.session();
        let metadata = cached_metadata(&config);
        self.forget();
        broadcast(&TabMessage::SignOut);
        // A top-level GET, as Entra documents its logout endpoint: the account is named by the
        // ID token's `login_hint` claim, never by a token in the URL.
        let left = match metadata.and_then(|m| m.end_session_endpoint) {
            None => browser::redirect(&config.post_logout_redirect_uri),
            Some(end_session) => browser::redirect(&end_session_url(
                &end_session,
                &config.client_id,
                &config.post_logout_redirect_uri,
                session.and_then(|s| s.account.login_hint).as_deref(),
            )),
        };
        match left {
            Ok(()) => AppError::new("Signing you out…", Action::None),
            Err(e) => e,
        }
    }
}

/// The provider said no. A silent attempt's "no" asks for an interactive sign-in; a declined
/// consent during an action goes back to that action, with the user's input kept.
fn provider_refusal(e: ProviderError, pending: Option<PendingSignIn>) -> AppError {
    let needs_interaction = matches!(
        e.error.as_str(),
        "login_required" | "interaction_required" | "consent_required"
    );
    if let Some(p) = &pending {
        if p.silent && needs_interaction {
            // Keep what the user was doing: the page restores it (unsent) after they sign in.
            if let Some(data) = &p.resume {
                let _ = storage::save(
                    RESUME_KEY,
                    &ResumeEntry {
                        data: data.clone(),
                        declined: Some("Your session ended before this was sent. Your input is kept; send it again.".into()),
                        owner: p.resume_for.clone(),
                    },
                );
            }
            return AppError::new(
                "Your session has ended and couldn't be renewed without you. Sign in again to continue.",
                Action::SignIn,
            );
        }
        let declined = matches!(e.error.as_str(), "consent_required" | "access_denied");
        if let (Some(data), true) = (&p.resume, declined) {
            let message = "You declined the permission this action needs, so nothing was sent. Your input is kept; try again when you're ready.";
            let _ = storage::save(
                RESUME_KEY,
                &ResumeEntry {
                    data: data.clone(),
                    declined: Some(message.into()),
                    owner: p.resume_for.clone(),
                },
            );
            return AppError::new(message, Action::None);
        }
    }
    AuthError::Provider(e).into()
}

/// Sends `message` to the other tabs. A [`TabMessage`] holds no secret (a session goes only
/// sealed, by [`share_session`]), so this is safe for any same-origin listener to read.
pub fn broadcast(message: &TabMessage) {
    if let Ok(text) = serde_json::to_string(message) {
        channel::post(&text);
    }
}

/// Posts `session`, sealed with its family's key (AES-256-GCM, a fresh random nonce, the family
/// and generation as associated data), for the live tabs of its family. A session without a
/// usable key, or a browser without WebCrypto, shares nothing: the other tabs then sign in again
/// silently rather than redeem a stale refresh token.
pub async fn share_session(session: &Session) {
    let Some(key) = session.channel_key.as_ref().and_then(ChannelKey::bytes) else {
        return;
    };
    let (Some(text), Ok(nonce)) = (plaintext(session), browser::random_bytes::<NONCE_BYTES>())
    else {
        return;
    };
    let aad = associated_data(&session.family, session.generation);
    let Ok(sealed) = crypto::seal(&key, &nonce, &aad, text.as_bytes()).await else {
        return;
    };
    broadcast(&TabMessage::Rotated {
        family: session.family.clone(),
        generation: session.generation,
        sealed: Sealed::new(&nonce, &sealed),
    });
}

/// Sessions are kept per client id, so a reconfigured deployment never reuses another's.
pub fn session_key(config: &Config) -> String {
    format!("session.{}", config.client_id)
}

pub fn provider_unreachable(e: FetchError, url: &str) -> AppError {
    let origin = parse_absolute(url).map(|u| u.origin()).unwrap_or_default();
    let what = match e {
        FetchError::Timeout => "no answer in time",
        FetchError::Network => "the request failed",
        FetchError::BlockedByPolicy => {
            return AppError::blocked_by_policy("the identity provider", &origin)
        }
    };
    AppError::provider_unreachable(what, &origin)
}

/// Verifies an ID token's signature against the provider's published keys. An unknown `kid`
/// refetches the keys once (rotation), then fails.
pub async fn verify_signature(
    metadata: &ProviderMetadata,
    jwt: &id_token::DecodedJwt,
) -> Result<(), AppError> {
    let keys = match cached_keys(metadata) {
        Some(keys) => keys,
        None => fetch_jwks(metadata).await?,
    };
    verify_signature_with(metadata, jwt, keys).await
}

/// The provider's signing keys as this tab last fetched them.
fn cached_keys(metadata: &ProviderMetadata) -> Option<Vec<RsaKey>> {
    storage::load::<CachedJwks>(JWKS_KEY)
        .filter(|c| c.jwks_uri == metadata.jwks_uri)
        .map(|c| c.keys)
}

/// [`verify_signature`] with keys already at hand.
async fn verify_signature_with(
    metadata: &ProviderMetadata,
    jwt: &id_token::DecodedJwt,
    mut keys: Vec<RsaKey>,
) -> Result<(), AppError> {
    let mut refetched = false;
    let key = loop {
        match select_key(&keys, &jwt.header) {
            Ok(k) => break k.clone(),
            Err(AuthError::IdTokenUnknownKey) if !refetched => {
                refetched = true;
                keys = fetch_jwks(metadata).await?;
            }
            Err(e) => return Err(e.into()),
        }
    };
    match crypto::verify_rs256(&key, jwt.signing_input.as_bytes(), &jwt.signature).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AuthError::IdTokenBadSignature.into()),
        Err(()) => Err(AuthError::JwksNoUsableKey.into()),
    }
}

async fn fetch_jwks(metadata: &ProviderMetadata) -> Result<Vec<RsaKey>, AppError> {
    let reply = http::get(&metadata.jwks_uri, None)
        .await
        .map_err(|e| provider_unreachable(e, &metadata.jwks_uri))?;
    if reply.status != 200 {
        return Err(AuthError::JwksMalformed.into());
    }
    let keys = parse_jwks(&reply.body)?;
    let _ = storage::save(
        JWKS_KEY,
        &CachedJwks {
            jwks_uri: metadata.jwks_uri.clone(),
            keys: keys.clone(),
        },
    );
    Ok(keys)
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
