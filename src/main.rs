//! Entry point: install the panic reporter and mount the app. Nothing else lives here.

#[cfg(target_arch = "wasm32")]
fn main() {
    // A panic must be visible: end-to-end tests fail on any console line with "panicked at".
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
    nimbus::platform::browser::watch_policy_violations();
    nimbus::platform::browser::stash_callback_query(&nimbus::config::callback_path_in(
        &nimbus::platform::browser::base_path(),
    ));
    leptos::mount::mount_to_body(nimbus::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("Nimbus is a web app: build it with `trunk build --release` and serve dist/.");
}
