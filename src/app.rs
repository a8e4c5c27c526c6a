//! The application shell: configuration first, then the router.

use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;

use crate::components::{ErrorNotice, Header};
use crate::config::Config;
use crate::pages::{Callback, Home, NotFound, ReportsPage, WeatherPage};
use crate::state::auth::AuthContext;

#[component]
pub fn App() -> impl IntoView {
    // A plain signal filled once (not a resource): nothing here ever reloads it.
    let config = RwSignal::new(None);
    leptos::task::spawn_local(async move {
        config.set(Some(crate::state::config::load().await));
    });
    move || match config.get() {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(Err(error)) => view! {
            <main class="page">
                <h1>"Nimbus can't start"</h1>
                <ErrorNotice error/>
            </main>
        }
        .into_any(),
        Some(Ok(config)) => view! { <Shell config/> }.into_any(),
    }
}

#[component]
fn Shell(config: Config) -> impl IntoView {
    // Routes, links and navigation live under the base path (`/nimbus/...` on a sub-path).
    let base = crate::url::router_base(&config.base_path);
    provide_context(AuthContext::new(config));
    view! {
        <Router base>
            <Header/>
            <main class="page">
                <FlatRoutes fallback=NotFound>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/weather") view=WeatherPage/>
                    <Route path=path!("/reports") view=ReportsPage/>
                    <Route path=path!("/auth/callback") view=Callback/>
                </FlatRoutes>
            </main>
        </Router>
    }
}
