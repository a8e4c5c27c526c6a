//! The rule that keeps automatic redirects (silent renewal, claims challenges, resumed
//! actions) from looping: at most one per page load, and none within a few minutes of the last.

/// How long after one automatic redirect another is refused.
pub const AUTO_REDIRECT_WINDOW_SECS: u64 = 5 * 60;

/// May the app leave for the provider on its own now?
/// `last` is when it last did (seconds), `this_load` whether it already did in this page load.
pub fn may_auto_redirect(last: Option<u64>, now: u64, this_load: bool) -> bool {
    if this_load {
        return false;
    }
    match last {
        Some(t) => now.saturating_sub(t) >= AUTO_REDIRECT_WINDOW_SECS || t > now,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_first_automatic_redirect() {
        assert!(may_auto_redirect(None, 1_000, false));
    }

    #[test]
    fn refuses_a_second_in_the_same_page_load() {
        assert!(!may_auto_redirect(None, 1_000, true));
    }

    #[test]
    fn refuses_another_within_the_window() {
        assert!(!may_auto_redirect(
            Some(1_000),
            1_000 + AUTO_REDIRECT_WINDOW_SECS - 1,
            false
        ));
        assert!(may_auto_redirect(
            Some(1_000),
            1_000 + AUTO_REDIRECT_WINDOW_SECS,
            false
        ));
    }

    #[test]
    fn a_timestamp_from_the_future_does_not_block_forever() {
        assert!(may_auto_redirect(Some(u64::MAX), 1_000, false));
    }
}
