//! Small view pieces shared by pages.

mod error_notice;
mod header;
mod logo;
mod require_sign_in;

pub use error_notice::ErrorNotice;
pub use header::Header;
pub use logo::{Logo, Scene, ALERT_ICON, CHEVRON};
pub use require_sign_in::RequireSignIn;
