use leptos::prelude::*;
use leptos_router::components::A;

use crate::platform::browser;

use crate::components::Scene;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="empty">
            <Scene/>
            <h1>"Page not found"</h1>
            <p>"There's nothing at this address. It may have been mistyped."</p>
            <p><A href=browser::href("/")>"Back to the start"</A></p>
        </div>
    }
}
