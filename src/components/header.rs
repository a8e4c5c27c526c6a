//! The top bar: navigation and the account (name, time left in the session, sign in / out).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wasm_bindgen::prelude::*;

use crate::auth::session::describe_remaining;
use crate::components::ErrorNotice;
use crate::error::AppError;
use crate::platform::browser;
use crate::state::auth::AuthContext;

#[component]
pub fn Header() -> impl IntoView {
    let auth = AuthContext::use_context();
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let now = RwSignal::new(browser::now_secs());
    tick_every_30s(now);

    let sign_in = move |_| {
        busy.set(true);
        spawn_local(async move {
            let e = auth.sign_in_to(&browser::current_path()).await;
            busy.set(false);
            error.set(Some(e));
        });
    };
    let sign_out = move |_| {
        busy.set(true);
        spawn_local(async move {
            let e = auth.sign_out().await;
            busy.set(false);
            error.set(Some(e));
        });
    };
    let ends = move || {
        auth.session_ends_at.get().map(|at| {
            format!(
                "Session ends in {}",
                describe_remaining(at.saturating_sub(now.get()))
            )
        })
    };
    view! {
        <header class="top">
            <A href=browser::href("/") attr:class="brand">"Nimbus"</A>
            <nav aria-label="Main">
                <A href=browser::href("/weather")>"Weather"</A>
                <A href=browser::href("/reports")>"Reports"</A>
            </nav>
            <div class="account">
                {move || match auth.account.get() {
                    Some(account) => view! {
                        <span class="who" title=account.username.clone().unwrap_or_default()>{account.name}</span>
                        <span class="ends">{ends}</span>
                        <button type="button" on:click=sign_out disabled=move || busy.get()>"Sign out"</button>
                    }
                    .into_any(),
                    None => view! {
                        <button type="button" on:click=sign_in disabled=move || busy.get()>"Sign in"</button>
                    }
                    .into_any(),
                }}
            </div>
        </header>
        {move || error.get().map(|error| view! { <div class="page"><ErrorNotice error/></div> })}
    }
}

/// Keeps `now` current so the time left counts down.
fn tick_every_30s(now: RwSignal<u64>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let tick = Closure::<dyn FnMut()>::new(move || now.set(browser::now_secs()));
    let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        30_000,
    );
    // The header lives as long as the page.
    tick.forget();
}
