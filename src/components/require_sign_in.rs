//! Pages that need a signed-in user: a signed-out visit starts sign-in and comes back here.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::ErrorNotice;
use crate::error::AppError;
use crate::platform::browser;
use crate::state::auth::AuthContext;

#[component]
pub fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let auth = AuthContext::use_context();
    let leaving = auth.account.get_untracked().is_none();
    let problem = RwSignal::new(None::<AppError>);
    if leaving {
        spawn_local(async move {
            let e = auth.sign_in_to(&browser::current_path()).await;
            let _ = problem.try_set(Some(e));
        });
    }
    // Re-render on signing in or out only, not on every change of the account value.
    let signed_in = Memo::new(move |_| auth.account.with(Option::is_some));
    move || {
        if signed_in.get() {
            children().into_any()
        } else if let Some(error) = problem.get() {
            view! { <ErrorNotice error/> }.into_any()
        } else if leaving {
            view! { <p role="status">"Taking you to sign-in…"</p> }.into_any()
        } else {
            view! { <p role="status">"You're signed out. Sign in to continue."</p> }.into_any()
        }
    }
}
