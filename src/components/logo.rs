//! Pictures drawn inline (no image requests, nothing the CSP has to allow): the brand mark and
//! the illustration for empty and signed-out states. Fixed markup, set as HTML: as typed views
//! each SVG element would cost wasm code; as strings they cost their bytes.

use leptos::prelude::*;

const LOGO: &str = r#"<svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false"><circle class="sun" cx="20" cy="11" r="6"/><path class="cloud" d="M9 26a6 6 0 0 1-.6-12A8 8 0 0 1 23.5 13 5.5 5.5 0 0 1 24 26z"/></svg>"#;

const SCENE: &str = r#"<svg class="scene" viewBox="0 0 120 80" aria-hidden="true" focusable="false"><circle class="sun" cx="78" cy="26" r="16"/><path class="cloud" d="M30 60a14 14 0 0 1-1.5-27.9A19 19 0 0 1 65 27a13 13 0 0 1 1 33z"/><path class="rain" d="M36 66l-3 7M50 66l-3 7M64 66l-3 7"/></svg>"#;

/// An exclamation mark in a circle, for error notices.
pub const ALERT_ICON: &str = r#"<svg class="icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false"><circle cx="10" cy="10" r="9"/><path d="M10 5v6M10 13.5v1.5"/></svg>"#;

/// A downward chevron, for the account menu's button.
pub const CHEVRON: &str = r#"<svg class="chevron" viewBox="0 0 12 12" aria-hidden="true" focusable="false"><path d="M2 4l4 4 4-4"/></svg>"#;

/// The brand mark: a sun behind a cloud. Decorative (the text next to it names the brand).
#[component]
pub fn Logo() -> impl IntoView {
    view! { <span class="pic" inner_html=LOGO></span> }
}

/// A larger scene for empty states and the welcome page: cloud, sun and rain.
#[component]
pub fn Scene() -> impl IntoView {
    view! { <span class="pic" inner_html=SCENE></span> }
}
