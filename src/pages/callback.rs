//! The redirect URI: finishes the sign-in and sends the user where they started.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::components::ErrorNotice;
use crate::error::{Action, AppError};
use crate::platform::browser;
use crate::state::auth::AuthContext;

#[component]
pub fn Callback() -> impl IntoView {
    let auth = AuthContext::use_context();
    let navigate = use_navigate();
    let failure = RwSignal::new(None::<(AppError, String)>);
    spawn_local(async move {
        match auth.complete_sign_in().await {
            Ok(path) => navigate(
                &path,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            ),
            // A declined consent goes back to the interrupted action, which shows why.
            Err(e) if e.error.action == Action::None && crate::state::api::has_resume() => {
                navigate(
                    &e.return_to,
                    NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                )
            }
            Err(e) => {
                let _ = failure.try_set(Some((e.error, e.return_to)));
            }
        }
    });
    move || match failure.get() {
        None => view! { <p role="status">"Signing you in…"</p> }.into_any(),
        Some((error, return_to)) => {
            let error = AppError {
                action: Action::SignIn,
                ..error
            };
            view! {
                <h1>"Sign-in didn't complete"</h1>
                <ErrorNotice error return_to/>
                <p><A href=browser::href("/")>"Go back to the start"</A></p>
            }
            .into_any()
        }
    }
}
