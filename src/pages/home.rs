use leptos::prelude::*;
use leptos_router::components::A;

use crate::platform::browser;

use crate::components::Scene;
use crate::state::auth::AuthContext;

#[component]
pub fn Home() -> impl IntoView {
    let auth = AuthContext::use_context();
    move || {
        match auth.account.get() {
        Some(account) => view! {
            <h1>"Welcome, " {account.name}</h1>
            <p class="lead">"What would you like to do?"</p>
            <ul class="tiles" role="list">
                <li>
                    <A href=browser::href("/weather") attr:class="tile-link">
                        <span class="tile-title">"Check the weather"</span>
                        <span class="tile-text">"Current conditions for any city."</span>
                    </A>
                </li>
                <li>
                    <A href=browser::href("/reports") attr:class="tile-link">
                        <span class="tile-title">"Read and add reports"</span>
                        <span class="tile-text">"What people saw where they are."</span>
                    </A>
                </li>
            </ul>
        }
        .into_any(),
        None => view! {
            <div class="hero">
                <Scene/>
                <div>
                    <h1>"Nimbus weather"</h1>
                    <p class="lead">"Sign in with your work or school account to see the current weather anywhere, and to read and share weather reports."</p>
                    <p class="hint">"Use the Sign in button at the top of the page."</p>
                </div>
            </div>
        }
        .into_any(),
    }
    }
}
