//! Location, history, randomness and the clock.

use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Action, AppError};

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Cryptographically secure random bytes (`crypto.getRandomValues`).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| {
        AppError::new(
            "This browser can't provide secure random numbers, which sign-in needs.",
            Action::None,
        )
    })?;
    Ok(buf)
}

/// The page's origin, e.g. `http://localhost:8080`.
pub fn origin() -> String {
    window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The current path, query and fragment: where to come back to after a sign-in.
pub fn current_path() -> String {
    let Some(loc) = window().map(|w| w.location()) else {
        return "/".into();
    };
    format!(
        "{}{}{}",
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default(),
        loc.hash().unwrap_or_default()
    )
}

thread_local! {
    static CALLBACK_QUERY: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// At start-up, on the callback path: takes `code`/`state` out of the address bar and this
/// history entry before anything else runs (even before config loads), keeping the query for
/// the callback page.
pub fn stash_callback_query(callback_path: &str) {
    let Some(loc) = window().map(|w| w.location()) else {
        return;
    };
    if loc.pathname().ok().as_deref() == Some(callback_path) {
        let query = loc.search().unwrap_or_default();
        if !query.is_empty() {
            CALLBACK_QUERY.with(|q| *q.borrow_mut() = Some(query));
            replace_url(callback_path);
        }
    }
}

/// The callback's query, once.
pub fn take_callback_query() -> String {
    CALLBACK_QUERY
        .with(|q| q.borrow_mut().take())
        .unwrap_or_default()
}

/// Leaves the app for `url` (a full-page redirect).
pub fn redirect(url: &str) -> Result<(), AppError> {
    window()
        .ok_or_else(|| AppError::new("No browser window.", Action::None))?
        .location()
        .assign(url)
        .map_err(|_| {
            AppError::new(
                "The browser refused to open the sign-in page.",
                Action::Retry,
            )
        })
}

/// Replaces the current history entry's URL (no new entry, no reload), e.g. to drop
/// `code` and `state` from the address bar and from history.
pub fn replace_url(path: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// The document's base URL: the folder that holds `index.html`.
pub fn base_uri() -> String {
    window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .unwrap_or_else(|| format!("{}/", origin()))
}

/// Where the app is deployed on this origin (`/` or e.g. `/nimbus/`), read from the document's
/// base URL at run time: one build serves any base path once `index.html`'s `<base href>` says
/// which (scripts/csp.mjs --base).
pub fn base_path() -> String {
    crate::url::base_path_of(&base_uri())
}

/// The href of one of the app's routes under the base path: use it for every `<A href>`
/// (`href("/weather")` is `/nimbus/weather` when the app lives under `/nimbus/`).
pub fn href(route: &str) -> String {
    crate::url::route_href(&base_path(), route)
}

/// Resolves after `ms` milliseconds (`setTimeout`).
pub async fn sleep_ms(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

thread_local! {
    /// Origins this page's Content-Security-Policy refused to connect to.
    static BLOCKED_ORIGINS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn origin_of(url: &str) -> Option<String> {
    crate::url::parse_absolute(url).map(|u| u.origin())
}

/// Remembers every `connect-src` violation (CSP3 §5.3), so that a failed request can be told
/// apart from a network failure: a stale policy must be reported as exactly that.
pub fn watch_policy_violations() {
    let Some(document) = window().and_then(|w| w.document()) else {
        return;
    };
    let on_violation = wasm_bindgen::closure::Closure::<dyn Fn(JsValue)>::new(|event: JsValue| {
        let field = |name: &str| {
            js_sys::Reflect::get(&event, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default()
        };
        if field("effectiveDirective") != "connect-src" {
            return;
        }
        if let Some(origin) = origin_of(&field("blockedURI")) {
            BLOCKED_ORIGINS.with(|b| {
                let mut b = b.borrow_mut();
                if !b.contains(&origin) {
                    b.push(origin);
                }
            });
        }
    });
    let _ = document.add_event_listener_with_callback(
        "securitypolicyviolation",
        on_violation.as_ref().unchecked_ref(),
    );
    // Lives as long as the page.
    on_violation.forget();
}

/// Whether this page's policy has refused a connection to `url`'s origin.
pub fn blocked_by_policy(url: &str) -> bool {
    let Some(origin) = origin_of(url) else {
        return false;
    };
    BLOCKED_ORIGINS.with(|b| b.borrow().contains(&origin))
}

/// Adds a Content-Security-Policy to the page (a `<meta http-equiv>` in `<head>`). Policies
/// intersect, so this can only narrow what the page already allows.
pub fn add_policy(policy: &str) -> Result<(), AppError> {
    let fail = || AppError::new("Couldn't apply this site's security policy.", Action::Retry);
    let document = window().and_then(|w| w.document()).ok_or_else(fail)?;
    let meta = document.create_element("meta").map_err(|_| fail())?;
    meta.set_attribute("http-equiv", "Content-Security-Policy")
        .map_err(|_| fail())?;
    meta.set_attribute("content", policy).map_err(|_| fail())?;
    document
        .head()
        .ok_or_else(fail)?
        .append_child(&meta)
        .map(|_| ())
        .map_err(|_| fail())
}

/// Sets the document's title (what the tab and screen readers announce for the page).
pub fn set_title(title: &str) {
    if let Some(d) = window().and_then(|w| w.document()) {
        d.set_title(title);
    }
}

/// Moves keyboard and screen-reader focus to the element `selector` matches, making it
/// focusable by script only (`tabindex=-1`) if it isn't already. Returns whether it found one.
pub fn focus(selector: &str) -> bool {
    let Some(element) = window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return false;
    };
    if !element.has_attribute("tabindex") {
        let _ = element.set_attribute("tabindex", "-1");
    }
    element.focus().is_ok()
}

/// Runs `f` after the current rendering work (a zero-delay timer), e.g. to focus an element
/// the next render creates.
pub fn after_render(f: impl FnOnce() + 'static) {
    let Some(w) = window() else {
        return;
    };
    let f = wasm_bindgen::closure::Closure::once_into_js(f);
    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(f.unchecked_ref(), 0);
}

/// A moment as the user's locale and time zone write it: "Dec 1, 2026, 9:05 PM" (`date`) or
/// "9:05 PM" (time only). The runtime picks the locale (`undefined`, not `navigator.language`:
/// WebKitGTK reports "C" under a POSIX locale, which `Intl` refuses with a RangeError); should the
/// engine still refuse, the time is written in UTC by the app itself.
pub fn local_time(epoch_secs: i64, date: bool) -> String {
    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v));
    };
    if date {
        set("dateStyle", "medium");
    }
    set("timeStyle", "short");
    let when = js_sys::Date::new(&JsValue::from_f64(epoch_secs as f64 * 1000.0));
    // Reflect.apply reports a thrown exception as an Err instead of unwinding through the wasm.
    js_sys::Reflect::get(&when, &JsValue::from_str("toLocaleString"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| {
            let args = js_sys::Array::of2(&JsValue::UNDEFINED, &options);
            js_sys::Reflect::apply(&f, &when, &args).ok()
        })
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| crate::present::utc_time(epoch_secs, date))
}
