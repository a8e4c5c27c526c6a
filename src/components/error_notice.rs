//! An error as the user sees it: what happened and what to do next (as text, never markup),
//! a Retry or Sign in again button where one helps, and the technical particulars behind a
//! "Details" disclosure.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::error::{Action, AppError};
use crate::platform::browser;
use crate::state::auth::AuthContext;

#[component]
pub fn ErrorNotice(
    error: AppError,
    /// Where "Sign in again" comes back to; the current page by default.
    #[prop(optional, into)]
    return_to: Option<String>,
    /// Repeats what failed: offered as "Try again" when the error says a retry can help.
    #[prop(optional, into)]
    on_retry: Option<Callback<()>>,
) -> impl IntoView {
    let action = match error.action {
        Action::SignIn => use_context::<AuthContext>().map(|auth| {
            let on_click = move |_| {
                let return_to = return_to.clone().unwrap_or_else(browser::current_path);
                spawn_local(async move {
                    auth.sign_in_to(&return_to).await;
                });
            };
            view! { <button type="button" class="primary" on:click=on_click>"Sign in again"</button> }.into_any()
        }),
        Action::FixConfig => Some(
            view! { <p class="hint">"An administrator needs to fix this app's configuration."</p> }
                .into_any(),
        ),
        Action::Retry => on_retry.map(|retry| {
            view! { <button type="button" class="secondary" on:click=move |_| retry.run(())>"Try again"</button> }
                .into_any()
        }),
        Action::None => None,
    };
    let details = error.details.map(|d| {
        view! {
            <details>
                <summary>"Details"</summary>
                <p class="mono">{d}</p>
            </details>
        }
    });
    view! {
        <div class="error" role="alert">
            <span class="pic" inner_html=crate::components::ALERT_ICON></span>
            <div class="error-body">
                <p>{error.message}</p>
                {details}
                {action}
            </div>
        </div>
    }
}
