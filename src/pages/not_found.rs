use leptos::prelude::*;
use leptos_router::components::A;

use crate::platform::browser;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p><A href=browser::href("/")>"Back to the start"</A></p>
    }
}
