//! `token_for(scopes)`: the one way the app gets an access token. A cached token while it is
//! good; otherwise the refresh token is redeemed — by one caller at a time across every tab of
//! the session (Web Locks), never a stale copy (generations), with the result shared, sealed,
//! with the session's other tabs (BroadcastChannel); otherwise the caller learns that
//! interaction is needed. A token is returned only for scopes it was granted.

use leptos::prelude::*;

use crate::auth::id_token;
use crate::auth::secret::{AccessToken, Secret};
use crate::auth::session::{missing_scopes, Plan, Session};
use crate::auth::tabs::{family_key, is_current, is_stale, TabMessage};
use crate::auth::token::{
    classify_refresh_error, parse_token_response, refresh_body, RefreshFailure,
};
use crate::auth::AuthError;
use crate::error::AppError;
use crate::platform::{browser, http, locks, storage};
use crate::state::auth::{
    broadcast, metadata, provider_unreachable, share_session, signed_out, verify_signature,
    AuthContext,
};

/// Why no token could be had without the user.
pub enum TokenError {
    /// No session, or its refresh token is spent or refused: sign in again (silently first).
    SignInAgain,
    /// The scopes were never granted: the user must consent.
    NeedsConsent,
    /// Anything else, with its message.
    Failed(AppError),
}

impl From<AppError> for TokenError {
    fn from(e: AppError) -> Self {
        TokenError::Failed(e)
    }
}

/// How long a tab with a stale refresh token waits for a live tab to share the current one.
const PEER_WAIT_MS: u32 = 1_500;

pub async fn token_for(auth: AuthContext, scopes: &[String]) -> Result<AccessToken, TokenError> {
    let session = auth.session().ok_or(TokenError::SignInAgain)?;
    if let Plan::Cached(token) = session.plan(scopes, browser::now_secs()) {
        return Ok(token);
    }
    let client_id = auth.config.with_value(|c| c.client_id.clone());
    let key = family_key(&client_id, &session.family);
    // Never redeem a refresh token without the family's lock: two holders of one refresh token
    // redeeming it at once would get the whole grant revoked.
    let _lock = match locks::acquire(&format!("nimbus.{key}")).await {
        Ok(guard) => guard,
        // No Web Locks in this browser: no refresh at all; a sign-in renews instead (asking for
        // consent when the scopes were never granted, as a refresh's answer would have).
        Err(locks::LockError::Unsupported) if !session.has_granted(scopes) => {
            return Err(TokenError::NeedsConsent)
        }
        Err(locks::LockError::Unsupported) => return Err(TokenError::SignInAgain),
        Err(locks::LockError::TimedOut) => {
            return Err(TokenError::Failed(AppError::new(
                "Another tab of this app is still renewing your session and hasn't finished, so this tab didn't renew it too. Try again in a moment.",
                crate::error::Action::Retry,
            )))
        }
    };

    // Under the lock, look again: another caller (here or in another tab) may have refreshed.
    let mut session = auth.session().ok_or(TokenError::SignInAgain)?;
    if is_stale(&session, storage::shared::get_u32(&key)) {
        session = current_from_peers(auth, session, &key)
            .await
            .ok_or(TokenError::SignInAgain)?;
    }
    let now = browser::now_secs();
    let refresh_token = match session.plan(scopes, now) {
        Plan::Cached(token) => return Ok(token),
        Plan::SignInAgain => return Err(TokenError::SignInAgain),
        Plan::Refresh(rt) => rt,
    };
    let config = auth.config();
    let metadata = metadata(&config).await?;
    let body = refresh_body(&config.client_id, &refresh_token, scopes);
    let reply = http::post_form(&metadata.token_endpoint, &body)
        .await
        .map_err(|e| provider_unreachable(e, &metadata.token_endpoint))?;
    if signed_out() {
        return Err(TokenError::Failed(AppError::new(
            "You have signed out.",
            crate::error::Action::None,
        )));
    }
    let response = match parse_token_response(reply.status, &reply.body, scopes) {
        Ok(r) => r,
        Err(e) => {
            return Err(
                match classify_refresh_error(&e, !session.has_granted(scopes)) {
                    RefreshFailure::SessionEnded => {
                        // Refused for good (invalid_grant): never offer it again, here or
                        // after the silent sign-in's round trip.
                        session.refresh_token = None;
                        let _ = auth.save_session(&session);
                        TokenError::SignInAgain
                    }
                    RefreshFailure::NeedsConsent => TokenError::NeedsConsent,
                    RefreshFailure::Transient | RefreshFailure::Other => {
                        TokenError::Failed(e.into())
                    }
                },
            );
        }
    };
    // The old refresh token is spent from here on: if the answer can't be used, forget the
    // refresh token rather than offer it again (the next call signs in silently instead).
    if let Some(new_id) = response.id_token.clone() {
        if let Err(e) = check_new_id_token(&metadata, &new_id, &session, &config.client_id).await {
            session.refresh_token = None;
            let _ = auth.save_session(&session);
            return Err(TokenError::Failed(e));
        }
        session.id_token = new_id;
    }
    // Granted scopes are the response's `scope` (the requested ones when it is absent, RFC 6749
    // §5.1). A token without a scope this call needs is never sent with it: the refresh is
    // still stored (the old refresh token is spent), and the caller gets a message, not a loop.
    let missing = missing_scopes(scopes, &response.scopes);
    let token = response.access_token.clone();
    session.store_refreshed(response, browser::now_secs());
    auth.save_session(&session)?;
    storage::shared::set_u32(&key, session.generation);
    share_session(&session).await;
    if !missing.is_empty() {
        return Err(TokenError::Failed(
            AuthError::ScopesNotGranted(missing).into(),
        ));
    }
    Ok(token)
}

async fn check_new_id_token(
    metadata: &crate::auth::discovery::ProviderMetadata,
    raw: &crate::auth::secret::IdToken,
    session: &Session,
    client_id: &str,
) -> Result<(), AppError> {
    let decoded = id_token::decode(raw.expose())?;
    id_token::check_refreshed(&decoded, &session.account, client_id, browser::now_secs())?;
    verify_signature(metadata, &decoded).await
}

/// Asks live tabs of the same family for the current session and waits briefly for one to
/// answer (the answer arrives through the channel handler, which stores it).
async fn current_from_peers(auth: AuthContext, session: Session, key: &str) -> Option<Session> {
    broadcast(&TabMessage::Need {
        family: session.family.clone(),
        generation: session.generation,
    });
    let mut waited = 0;
    while waited < PEER_WAIT_MS {
        browser::sleep_ms(100).await;
        waited += 100;
        if let Some(current) = auth.session() {
            // Only a session that has caught up with what the family published will do.
            if current.generation > session.generation
                && is_current(&current, storage::shared::get_u32(key))
            {
                return Some(current);
            }
        }
    }
    None
}
