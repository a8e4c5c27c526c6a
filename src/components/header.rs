//! The top bar: brand, navigation, and the account menu (who is signed in, the tenant, time
//! left in the session, sign out) — or "Sign in".

use leptos::ev::{FocusEvent, KeyboardEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use crate::auth::id_token::Account;
use crate::auth::session::describe_remaining;
use crate::components::{ErrorNotice, Logo};
use crate::error::AppError;
use crate::platform::browser;
use crate::state::auth::AuthContext;

#[component]
pub fn Header() -> impl IntoView {
    let auth = AuthContext::use_context();
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);

    let sign_in = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let e = auth.sign_in_to(&browser::current_path()).await;
            let _ = busy.try_set(false);
            let _ = error.try_set(Some(e));
        });
    };
    view! {
        <header class="top">
            <A href=browser::href("/") attr:class="brand">
                <Logo/>
                <span>"Nimbus"</span>
            </A>
            <nav aria-label="Main">
                <A href=browser::href("/weather")>"Weather"</A>
                <A href=browser::href("/reports")>"Reports"</A>
            </nav>
            <div class="account">
                {move || match auth.account.get() {
                    Some(account) => view! { <AccountMenu account error/> }.into_any(),
                    None => view! {
                        <button type="button" class="primary" on:click=sign_in aria-disabled=move || busy.get().to_string()>
                            "Sign in"
                        </button>
                    }
                    .into_any(),
                }}
            </div>
        </header>
        {move || error.get().map(|error| view! { <div class="page notice"><ErrorNotice error/></div> })}
    }
}

/// The signed-in user's button and the panel it discloses. A disclosure (button +
/// `aria-expanded` + panel right after it), not an ARIA menu: the panel holds information as
/// well as the one action, and Tab moves through it naturally. Escape closes it and returns
/// focus to the button; so does moving focus or clicking elsewhere.
#[component]
fn AccountMenu(account: Account, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let auth = AuthContext::use_context();
    let open = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let now = RwSignal::new(browser::now_secs());
    tick_every_30s(now);
    let wrapper = NodeRef::<leptos::html::Div>::new();
    let button = NodeRef::<leptos::html::Button>::new();

    let sign_out = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let e = auth.sign_out().await;
            // Signing out ends this menu (the account is gone): its signals may be disposed.
            let _ = busy.try_set(false);
            let _ = error.try_set(Some(e));
        });
    };
    let close_and_refocus = move || {
        let _ = open.try_set(false);
        if let Some(b) = button.try_get_untracked().flatten() {
            let _ = b.focus();
        }
    };
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" && open.try_get_untracked() == Some(true) {
            ev.prevent_default();
            close_and_refocus();
        }
    };
    // Focus moving outside the menu (Tab past it, a click elsewhere) closes it. Focus also
    // leaves when signing out removes the menu: by then its signals are gone, hence `try_`.
    let on_focus_out = move |ev: FocusEvent| {
        let inside = match (wrapper.try_get_untracked().flatten(), ev.related_target()) {
            (Some(w), Some(t)) => t
                .dyn_ref::<web_sys::Node>()
                .is_some_and(|n| w.contains(Some(n))),
            _ => false,
        };
        if !inside {
            let _ = open.try_set(false);
        }
    };
    let ends = move || {
        auth.session_ends_at.get().map(|at| {
            format!(
                "Session ends in {}",
                describe_remaining(at.saturating_sub(now.get()))
            )
        })
    };
    let initial = account
        .name
        .chars()
        // ASCII rules only: Unicode's case and alphabet tables would cost kilobytes of wasm for
        // one letter (a non-ASCII initial is shown as written).
        .find(|c| c.is_ascii_alphanumeric() || !c.is_ascii())
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_else(|| "?".into());
    let username = account.username.clone();
    let tenant = account.tenant_id.clone();
    view! {
        <div class="menu" node_ref=wrapper on:keydown=on_key on:focusout=on_focus_out>
            <button
                type="button"
                class="account-button"
                node_ref=button
                aria-expanded=move || open.get().to_string()
                aria-controls="account-panel"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="avatar" aria-hidden="true">{initial}</span>
                <span class="who">{account.name.clone()}</span>
                <span class="pic" inner_html=crate::components::CHEVRON></span>
            </button>
            <div id="account-panel" class="panel" hidden=move || !open.get()>
                <dl>
                    {username.map(|u| view! { <dt>"Account"</dt><dd>{u}</dd> })}
                    {tenant.map(|t| view! { <dt>"Organization (tenant)"</dt><dd class="mono">{t}</dd> })}
                </dl>
                <p class="ends">{ends}</p>
                <button type="button" class="secondary" on:click=sign_out aria-disabled=move || busy.get().to_string()>
                    "Sign out"
                </button>
            </div>
        </div>
    }
}

/// Keeps `now` current so the time left counts down, while the menu exists.
fn tick_every_30s(now: RwSignal<u64>) {
    let tick = move || {
        let _ = now.try_set(browser::now_secs());
    };
    if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(30)) {
        on_cleanup(move || handle.clear());
    }
}
