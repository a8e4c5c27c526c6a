//! The application shell: configuration first, then the router.

use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::components::{ErrorNotice, Header};
use crate::config::Config;
use crate::pages::{Callback, Home, NotFound, ReportsPage, WeatherPage};
use crate::platform::browser;
use crate::state::auth::AuthContext;

#[component]
pub fn App() -> impl IntoView {
    // A plain signal filled once (not a resource): nothing here ever reloads it.
    let config = RwSignal::new(None);
    leptos::task::spawn_local(async move {
        config.set(Some(crate::state::config::load().await));
    });
    move || match config.get() {
        None => view! { <p class="loading starting" role="status">"Loading…"</p> }.into_any(),
        Some(Err(error)) => {
            browser::set_title("Can't start · Nimbus");
            view! {
                <main class="page" id="main">
                    <h1>"Nimbus can't start"</h1>
                    <ErrorNotice error/>
                </main>
            }
            .into_any()
        }
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
            <a class="skip" href="#main" on:click=|ev| {
                ev.prevent_default();
                browser::focus("main h1");
            }>"Skip to content"</a>
            <RouteChanges/>
            <Header/>
            <main class="page" id="main">
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

/// On every route change: the document title names the page ("Weather · Nimbus"), and after a
/// navigation inside the app focus moves to the new page's heading, so keyboard and
/// screen-reader users start there (the first page load keeps the browser's own focus).
#[component]
fn RouteChanges() -> impl IntoView {
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        browser::set_title(&crate::present::page_title(&path, &browser::base_path()));
        if previous.is_some_and(|p| p != path) {
            browser::after_render(|| {
                browser::focus("main h1");
            });
        }
        path
    });
}
