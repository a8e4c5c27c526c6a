//! One component per route.

mod callback;
mod home;
mod not_found;
mod weather;

pub use callback::Callback;
pub use home::Home;
pub use not_found::NotFound;
pub use weather::WeatherPage;
