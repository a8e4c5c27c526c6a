//! The top bar: navigation and the account (name, sign in / sign out).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::components::ErrorNotice;
use crate::error::AppError;
use crate::platform::browser;
use crate::state::auth::AuthContext;

#[component]
pub fn Header() -> impl IntoView {
    let auth = AuthContext::use_context();
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let sign_in = move |_| {
        busy.set(true);
        spawn_local(async move {
            if let Err(e) = auth.sign_in(&browser::current_path(), None).await {
                busy.set(false);
                error.set(Some(e));
            }
        });
    };
    let sign_out = move |_| {
        busy.set(true);
        spawn_local(async move {
            if let Err(e) = auth.sign_out().await {
                busy.set(false);
                error.set(Some(e));
            }
        });
    };
    view! {
        <header class="top">
            <A href="/" attr:class="brand">"Nimbus"</A>
            <nav aria-label="Main">
                <A href="/weather">"Weather"</A>
            </nav>
            <div class="account">
                {move || match auth.account.get() {
                    Some(account) => view! {
                        <span class="who" title=account.username.clone().unwrap_or_default()>{account.name}</span>
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
