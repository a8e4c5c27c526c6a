//! One component per route.

mod callback;
mod home;
mod not_found;
mod reports;
mod weather;

pub use callback::Callback;
pub use home::Home;
pub use not_found::NotFound;
pub use reports::ReportsPage;
pub use weather::WeatherPage;
