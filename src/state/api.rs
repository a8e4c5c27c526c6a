//! Calls to the weather API with the user's delegated access token, understanding
//! `WWW-Authenticate` challenges (RFC 6750 §3): renew once on `invalid_token`, ask for missing
//! scopes on `insufficient_scope`, re-authorize once with `claims` on `insufficient_claims`.
//! Tokens go only to the configured API origin, and API requests never follow redirects.

use leptos::prelude::*;

use crate::auth::challenge::{parse_bearer, qualify_scopes, ChallengeAction};
use crate::error::{Action, AppError};
use crate::platform::browser;
use crate::platform::http::{self, FetchError, Reply};
use crate::state::auth::{AuthContext, SignInOptions};
use crate::state::tokens::{token_for, TokenError};
use crate::url::parse_absolute;
use crate::weather::ApiError;

/// One request to the API.
pub struct ApiRequest<'a> {
    /// Path and query below `api.base_url`, already encoded.
    pub path: &'a str,
    /// `Some(json)` for a POST.
    pub json_body: Option<&'a str>,
    /// The scopes the call needs, e.g. the read scope.
    pub scopes: Vec<String>,
    /// The page's description of the action, to finish it after a round trip to the provider.
    pub resume: Option<String>,
    /// True when this call finishes an action after a round trip (it must not start another
    /// automatic one: that would be a loop).
    pub resumed: bool,
}

/// Sends the request with a token for its scopes; returns the API's answer (any status other
/// than the challenges handled here) or what stopped it.
pub async fn call(auth: AuthContext, req: ApiRequest<'_>) -> Result<Reply, AppError> {
    let base = auth.config.with_value(|c| c.api.base_url.clone());
    let url = format!("{base}{}", req.path);
    let mut renewed = false;
    loop {
        let token = match token_for(auth, &req.scopes).await {
            Ok(t) => t,
            Err(TokenError::SignInAgain) => {
                // Silently first (prompt=none); its failure asks the user.
                return Err(leave(auth, &req, None, Some("none"), &[]).await);
            }
            Err(TokenError::NeedsConsent) => {
                return Err(leave(auth, &req, None, None, &req.scopes).await);
            }
            Err(TokenError::Failed(e)) => return Err(e),
        };
        let sent = match req.json_body {
            Some(body) => http::post_json(&url, body, &token).await,
            None => http::get(&url, Some(&token)).await,
        };
        let reply = sent.map_err(|e| unreachable_api(e, &base))?;
        if reply.status != 401 && reply.status != 403 {
            return Ok(reply);
        }
        let challenge = reply
            .www_authenticate
            .as_deref()
            .and_then(parse_bearer)
            .unwrap_or_default();
        match challenge.action(reply.status) {
            ChallengeAction::RenewAndRetry => {
                auth.drop_access_token(&req.scopes);
                if !renewed {
                    renewed = true;
                    continue;
                }
                return Err(AppError::new(
                    "The weather service refused your sign-in twice, even after it was renewed. Sign in again to continue.",
                    Action::SignIn,
                ));
            }
            ChallengeAction::RequestScopes(scopes) => {
                // Only scopes of this API's own resource: an API can't make the app ask the
                // user for some other resource's permissions.
                let Some(wanted) = qualify_scopes(&scopes, &req.scopes) else {
                    return Ok(reply);
                };
                if wanted.iter().all(|s| req.scopes.contains(s)) && req.resumed {
                    return Ok(reply);
                }
                return Err(leave(auth, &req, None, None, &wanted).await);
            }
            ChallengeAction::ReauthorizeWithClaims(claims) => {
                auth.drop_access_token(&req.scopes);
                let claims = decode_claims(&claims);
                return Err(leave(auth, &req, Some(&claims), None, &req.scopes).await);
            }
            ChallengeAction::GiveUp => return Ok(reply),
        }
    }
}

/// Leaves for the provider to fix what the API or token endpoint asked for; returns the
/// message to show if the app may not (or could not) leave.
async fn leave(
    auth: AuthContext,
    req: &ApiRequest<'_>,
    claims: Option<&str>,
    prompt: Option<&str>,
    extra_scopes: &[String],
) -> AppError {
    let return_to = browser::current_path();
    // Silent renewal and claims challenges are the app's own decision; so is anything a
    // resumed action does. Those are subject to the no-loop guard.
    let automatic = req.resumed || prompt == Some("none") || claims.is_some();
    auth.sign_in(SignInOptions {
        return_to: &return_to,
        prompt,
        extra_scopes,
        claims,
        resume: req.resume.clone(),
        automatic,
    })
    .await
}

/// CAE challenges carry the claims request base64-encoded; the authorize request wants JSON.
fn decode_claims(value: &str) -> String {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let trimmed = value.trim_end_matches('=');
    STANDARD
        .decode(value)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|json| json.trim_start().starts_with('{'))
        .unwrap_or_else(|| value.to_owned())
}

fn unreachable_api(e: FetchError, base: &str) -> AppError {
    let origin = parse_absolute(base).map(|u| u.origin()).unwrap_or_default();
    match e {
        FetchError::Timeout => ApiError::Timeout.into(),
        FetchError::Network => ApiError::Network { origin }.into(),
        FetchError::BlockedByPolicy => AppError::blocked_by_policy("the weather API", &origin),
    }
}

/// `GET /api/weather/{city}` with the read scope.
pub async fn current_weather(
    auth: AuthContext,
    query: &crate::weather::WeatherQuery,
    resume: crate::weather::Resume,
    resumed: bool,
) -> Result<crate::weather::Conditions, AppError> {
    let base = auth.config.with_value(|c| c.api.base_url.clone());
    let full = query.url(&base);
    let path = full.strip_prefix(&base).unwrap_or(&full);
    let reply = call(
        auth,
        ApiRequest {
            path,
            json_body: None,
            scopes: vec![auth.config.with_value(|c| c.api.read_scope.clone())],
            resume: serde_json::to_string(&resume).ok(),
            resumed,
        },
    )
    .await?;
    Ok(crate::weather::parse_response(reply.status, &reply.body)?)
}

/// `GET /api/reports` with the read scope.
pub async fn list_reports(auth: AuthContext) -> Result<Vec<crate::weather::Report>, AppError> {
    let reply = call(
        auth,
        ApiRequest {
            path: "/api/reports",
            json_body: None,
            scopes: vec![auth.config.with_value(|c| c.api.read_scope.clone())],
            resume: None,
            resumed: false,
        },
    )
    .await?;
    Ok(crate::weather::parse_reports(reply.status, &reply.body)?)
}

/// `POST /api/reports` with the write scope — not asked for at sign-in, so the first call goes
/// for consent, carrying the draft through the round trip.
pub async fn add_report(
    auth: AuthContext,
    draft: &crate::weather::ReportDraft,
    body: &str,
    resumed: bool,
) -> Result<crate::weather::Report, AppError> {
    let reply = call(
        auth,
        ApiRequest {
            path: "/api/reports",
            json_body: Some(body),
            scopes: vec![auth.config.with_value(|c| c.api.write_scope.clone())],
            resume: serde_json::to_string(&crate::weather::Resume::AddReport(draft.clone())).ok(),
            resumed,
        },
    )
    .await?;
    Ok(crate::weather::parse_created(reply.status, &reply.body)?)
}

/// The action a round trip to the provider interrupted, if it belongs to this page. Another
/// user's action (say, a draft left in this tab before someone else signed in) is never
/// finished: its input comes back with a message instead.
pub fn take_resume(auth: AuthContext) -> Option<(crate::weather::Resume, Option<String>)> {
    let entry: crate::state::auth::ResumeEntry =
        crate::platform::storage::take(crate::state::auth::RESUME_KEY)?;
    let action = crate::wire::read_object(&entry.data).ok()?;
    let declined = match entry.declined {
        Some(message) => Some(message),
        None if !auth.account.with_untracked(|a| entry.belongs_to(a.as_ref())) => Some(
            "This was started by a different user than the one signed in now, so nothing was sent."
                .to_owned(),
        ),
        None => None,
    };
    Some((action, declined))
}

/// Whether an interrupted action is waiting to be finished.
pub fn has_resume() -> bool {
    crate::platform::storage::has(crate::state::auth::RESUME_KEY)
}
