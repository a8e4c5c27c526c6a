//! The redirect URI: finishes the sign-in and sends the user where they started.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::error::AppError;
use crate::state::auth::AuthContext;

#[component]
pub fn Callback() -> impl IntoView {
    let auth = AuthContext::use_context();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<AppError>);
    spawn_local(async move {
        match auth.complete_sign_in().await {
            Ok(path) => navigate(
                &path,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            ),
            Err(e) => error.set(Some(e)),
        }
    });
    let try_again = move |_| {
        spawn_local(async move {
            if let Err(e) = auth.sign_in("/", None).await {
                error.set(Some(e));
            }
        });
    };
    move || match error.get() {
        None => view! { <p role="status">"Signing you in…"</p> }.into_any(),
        Some(e) => view! {
            <h1>"Sign-in didn't complete"</h1>
            <div class="error" role="alert"><p>{e.message}</p></div>
            <p>
                <button type="button" on:click=try_again>"Try again"</button>
                " or " <A href="/">"go back to the start"</A> "."
            </p>
        }
        .into_any(),
    }
}
