use leptos::prelude::*;
use leptos_router::components::A;

use crate::platform::browser;
use crate::state::auth::AuthContext;

#[component]
pub fn Home() -> impl IntoView {
    let auth = AuthContext::use_context();
    move || match auth.account.get() {
        Some(account) => view! {
            <h1>"Welcome, " {account.name}</h1>
            <p>
                "You're signed in. " <A href=browser::href("/weather")>"Check the weather"</A> "."
            </p>
        }
        .into_any(),
        None => view! {
            <h1>"Nimbus weather"</h1>
            <p>"Sign in with your work or school account to see the current weather anywhere."</p>
        }
        .into_any(),
    }
}
