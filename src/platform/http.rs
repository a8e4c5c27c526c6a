//! `fetch` with a timeout (AbortController), no cookies, no referrer, and redirects refused,
//! so a token can't be carried to another host by a redirect.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReferrerPolicy, RequestCredentials, RequestInit, RequestMode,
    RequestRedirect, Response,
};

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

/// `GET url` with `Accept: application/json` and, when given, `Authorization: Bearer`.
pub async fn get(url: &str, bearer: Option<&AccessToken>) -> Result<Reply, FetchError> {
    let headers = Headers::new().map_err(|_| FetchError::Network)?;
    let _ = headers.set("Accept", "application/json");
    if let Some(token) = bearer {
        let _ = headers.set("Authorization", &format!("Bearer {}", token.expose()));
    }
    send("GET", url, &headers, None).await
}

/// `POST url` with a JSON body and `Authorization: Bearer`.
pub async fn post_json(url: &str, body: &str, bearer: &AccessToken) -> Result<Reply, FetchError> {
    let headers = Headers::new().map_err(|_| FetchError::Network)?;
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("Accept", "application/json");
    let _ = headers.set("Authorization", &format!("Bearer {}", bearer.expose()));
    send("POST", url, &headers, Some(body)).await
}

/// `POST url` with a form-encoded body (the token endpoint, RFC 6749 §4.1.3).
pub async fn post_form(url: &str, body: &str) -> Result<Reply, FetchError> {
    let headers = Headers::new().map_err(|_| FetchError::Network)?;
    let _ = headers.set(
        "Content-Type",
        "application/x-www-form-urlencoded;charset=UTF-8",
    );
    let _ = headers.set("Accept", "application/json");
    send("POST", url, &headers, Some(body)).await
}

async fn send(
    method: &str,
    url: &str,
    headers: &Headers,
    body: Option<&str>,
) -> Result<Reply, FetchError> {
    let window = web_sys::window().ok_or(FetchError::Network)?;
    let controller = AbortController::new().map_err(|_| FetchError::Network)?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(headers);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_redirect(RequestRedirect::Error);
    init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    init.set_signal(Some(&controller.signal()));
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
    }

    let abort = controller.clone();
    let on_timeout = Closure::once_into_js(move || abort.abort());
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            on_timeout.unchecked_ref(),
            TIMEOUT_MS,
        )
        .unwrap_or(0);

    let result = async {
        let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
            .await?
            .dyn_into()?;
        let status = response.status();
        let www_authenticate = response.headers().get("WWW-Authenticate").ok().flatten();
        let text = JsFuture::from(response.text()?).await?;
        Ok::<_, JsValue>(Reply {
            status,
            body: text.as_string().unwrap_or_default(),
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
