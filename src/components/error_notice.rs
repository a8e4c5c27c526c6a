//! An error as the user sees it: the message (as text, never markup) and what to do next.

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
) -> impl IntoView {
    let action = match error.action {
        Action::SignIn => use_context::<AuthContext>().map(|auth| {
            let on_click = move |_| {
                let return_to = return_to.clone().unwrap_or_else(browser::current_path);
                spawn_local(async move {
                    auth.sign_in_to(&return_to).await;
                });
            };
            view! { <button type="button" on:click=on_click>"Sign in again"</button> }.into_any()
        }),
        Action::FixConfig => Some(
            view! { <p class="hint">"An administrator needs to fix this app's configuration."</p> }
                .into_any(),
        ),
        Action::Retry | Action::None => None,
    };
    view! {
        <div class="error" role="alert">
            <p>{error.message}</p>
            {action}
        </div>
    }
}
