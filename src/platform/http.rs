//! `fetch` through gloo-net with a timeout (AbortController), no cookies, no referrer, and
//! redirects refused, so a token can't be carried to another host by a redirect.

use gloo_net::http::{Headers, Method, RequestBuilder};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, ReferrerPolicy, RequestCredentials, RequestMode, RequestRedirect};

use crate::auth::secret::{AccessToken, Secret};
use crate::platform::browser;

/// How long any request may take.
pub const TIMEOUT_MS: i32 = 15_000;

/// Why no answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchError {
    /// Offline, DNS, CORS refusal, a refused redirect — the browser doesn't say which.
    Network,
    Timeout,
    /// This page's Content-Security-Policy refused the connection (`securitypolicyviolation`).
    BlockedByPolicy,
}

/// A finished exchange: status, body text and any `WWW-Authenticate` challenge.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub www_authenticate: Option<String>,
}

/// Headers, each set if the browser accepts it. (gloo's `Headers::set` throws on a value the
/// browser refuses, e.g. a token with a line break; an unsendable header is left out instead.)
fn headers(pairs: &[(&str, &str)]) -> Result<Headers, FetchError> {
    let raw = web_sys::Headers::new().map_err(|_| FetchError::Network)?;
    for (name, value) in pairs {
        let _ = raw.set(name, value);
    }
    Ok(Headers::from_raw(raw))
}

/// `GET url` with `Accept: application/json` and, when given, `Authorization: Bearer`.
pub async fn get(url: &str, bearer: Option<&AccessToken>) -> Result<Reply, FetchError> {
    let authorization = bearer.map(|t| format!("Bearer {}", t.expose()));
    let mut pairs = vec![("Accept", "application/json")];
    if let Some(a) = &authorization {
        pairs.push(("Authorization", a));
    }
    send(
        Method::GET,
        url,
        headers(&pairs)?,
        None,
        RequestCredentials::Omit,
    )
    .await
}

/// `GET` a file of this site (`config.json`) the way index.html's
/// `<link rel="preload" as="fetch" crossorigin>` asked for it (CORS mode, same-origin
/// credentials, no extra headers), so the browser hands over the preloaded answer instead of
/// fetching it again.
pub async fn get_own(url: &str) -> Result<Reply, FetchError> {
    send(
        Method::GET,
        url,
        headers(&[])?,
        None,
        RequestCredentials::SameOrigin,
    )
    .await
}

/// `POST url` with a JSON body and `Authorization: Bearer`.
pub async fn post_json(url: &str, body: &str, bearer: &AccessToken) -> Result<Reply, FetchError> {
    let authorization = format!("Bearer {}", bearer.expose());
    post(
        url,
        body,
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Authorization", &authorization),
        ],
    )
    .await
}

/// `POST url` with a form-encoded body (the token endpoint, RFC 6749 §4.1.3).
pub async fn post_form(url: &str, body: &str) -> Result<Reply, FetchError> {
    let content_type = "application/x-www-form-urlencoded;charset=UTF-8";
    post(
        url,
        body,
        &[
            ("Content-Type", content_type),
            ("Accept", "application/json"),
        ],
    )
    .await
}

/// `POST url` cross-origin, without credentials.
async fn post(url: &str, body: &str, headers: &[(&str, &str)]) -> Result<Reply, FetchError> {
    send(
        Method::POST,
        url,
        self::headers(headers)?,
        Some(body),
        RequestCredentials::Omit,
    )
    .await
}

async fn send(
    method: Method,
    url: &str,
    headers: Headers,
    body: Option<&str>,
    credentials: RequestCredentials,
) -> Result<Reply, FetchError> {
    let window = web_sys::window().ok_or(FetchError::Network)?;
    let controller = AbortController::new().map_err(|_| FetchError::Network)?;
    let request = RequestBuilder::new(url)
        .method(method)
        .headers(headers)
        .mode(RequestMode::Cors)
        .credentials(credentials)
        .redirect(RequestRedirect::Error)
        .referrer_policy(ReferrerPolicy::NoReferrer)
        .abort_signal(Some(&controller.signal()));

    let abort = controller.clone();
    let on_timeout = Closure::once_into_js(move || abort.abort());
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            on_timeout.unchecked_ref(),
            TIMEOUT_MS,
        )
        .unwrap_or(0);

    let result = async {
        let request = match body {
            Some(b) => request.body(b)?,
            None => request.build()?,
        };
        let response = request.send().await?;
        let status = response.status();
        let www_authenticate = response.headers().get("WWW-Authenticate");
        let body = response.text().await?;
        Ok::<_, gloo_net::Error>(Reply {
            status,
            body,
            www_authenticate,
        })
    }
    .await;
    window.clear_timeout_with_handle(timer);
    match result {
        Ok(reply) => Ok(reply),
        Err(_) if controller.signal().aborted() => Err(FetchError::Timeout),
        Err(_) => {
            // The violation event is queued as its own task, possibly after the rejection:
            // give it a moment before concluding it was the network.
            for wait_ms in [0, 50] {
                browser::sleep_ms(wait_ms).await;
                if browser::blocked_by_policy(url) {
                    return Err(FetchError::BlockedByPolicy);
                }
            }
            Err(FetchError::Network)
        }
    }
}
