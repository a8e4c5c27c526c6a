//! Small view pieces shared by pages.

mod error_notice;
mod header;

pub use error_notice::ErrorNotice;
pub use header::Header;
