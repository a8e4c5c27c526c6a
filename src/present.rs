//! How things look, decided without a browser: page titles, the temperature range bar's
//! geometry, report times ("5 min ago"). The views only place what these return.

/// The document title for a path of an app deployed at `base_path` (`/` or `/nimbus/`):
/// "Weather · Nimbus".
pub fn page_title(path: &str, base_path: &str) -> String {
    let base = base_path.trim_end_matches('/');
    let route = path.strip_prefix(base).unwrap_or(path);
    let page = match route.trim_end_matches('/') {
        "" => return "Nimbus".into(),
        "/weather" => "Weather",
        "/reports" => "Reports",
        p if p.ends_with("/auth/callback") => "Signing in",
        _ => "Page not found",
    };
    format!("{page} · Nimbus")
}

/// Where the marks of the min / feels-like / max range bar go, as fractions (0 to 1) of the
/// bar's width. The scale spans every value shown — feels-like may lie outside [min, max], and
/// the API doesn't promise min ≤ max either — with a little room at each end so no mark sits on
/// the edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RangeBar {
    /// The scale's left end (the lowest value shown, less padding).
    pub low: f64,
    /// The scale's right end.
    pub high: f64,
    /// The min–max span.
    pub min_at: f64,
    pub max_at: f64,
    pub feels_at: f64,
    pub temp_at: f64,
}

impl RangeBar {
    pub fn new(min: f64, max: f64, feels_like: f64, temp: f64) -> Self {
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        let lowest = min.min(feels_like).min(temp);
        let highest = max.max(feels_like).max(temp);
        // A span of at least one degree, padded by a tenth on each side.
        let span = (highest - lowest).max(1.0);
        let pad = span / 10.0;
        let centre = (lowest + highest) / 2.0;
        let (low, high) = if highest - lowest < 1.0 {
            (centre - span / 2.0 - pad, centre + span / 2.0 + pad)
        } else {
            (lowest - pad, highest + pad)
        };
        let at = |v: f64| ((v - low) / (high - low)).clamp(0.0, 1.0);
        Self {
            low,
            high,
            min_at: at(min),
            max_at: at(max),
            feels_at: at(feels_like),
            temp_at: at(temp),
        }
    }
}

/// A fraction of a bar `width` units wide, rounded to a tenth of a unit, as an SVG coordinate.
pub fn svg_x(fraction: f64, width: u32) -> String {
    crate::weather::fixed(fraction * f64::from(width), 1)
}

/// The range bar as SVG markup, `width` by 40 units: the track, the min–max span, and the
/// feels-like and current-temperature marks. Only numbers go in (no text), so the markup is
/// fixed but for coordinates; the text alternative belongs on the element that holds it.
pub fn range_bar_svg(bar: &RangeBar, width: u32) -> String {
    let x = |f: f64| svg_x(f, width);
    format!(
        concat!(
            r#"<svg viewBox="0 0 {w} 40" aria-hidden="true" focusable="false">"#,
            r#"<rect class="track" x="0" y="16" width="{w}" height="8" rx="4"/>"#,
            r#"<rect class="span" x="{min}" y="16" width="{span}" height="8" rx="4"/>"#,
            r#"<circle class="mark-feels" cx="{feels}" cy="20" r="7"/>"#,
            r#"<circle class="mark-now" cx="{now}" cy="20" r="9"/>"#,
            "</svg>"
        ),
        w = width,
        min = x(bar.min_at),
        span = x(bar.max_at - bar.min_at),
        feels = x(bar.feels_at),
        now = x(bar.temp_at),
    )
}

/// A water drop filled from the bottom to `humidity` percent (clamped to 0–100).
pub fn humidity_drop_svg(humidity: f64) -> String {
    let h = if humidity.is_nan() {
        0.0
    } else {
        humidity.clamp(0.0, 100.0)
    };
    const DROP: &str = "M8 2C8 2 1 11 1 15.5a7 7 0 0 0 14 0C15 11 8 2 8 2z";
    format!(
        concat!(
            r#"<svg class="drop" viewBox="0 0 16 24" aria-hidden="true" focusable="false">"#,
            r#"<clipPath id="drop-clip"><path d="{d}"/></clipPath>"#,
            r#"<rect class="drop-fill" x="0" y="{y}" width="16" height="{h}" clip-path="url(#drop-clip)"/>"#,
            r#"<path class="drop-outline" d="{d}"/></svg>"#
        ),
        d = DROP,
        y = crate::weather::fixed(22.5 - 21.0 * h / 100.0, 1),
        h = crate::weather::fixed(21.0 * h / 100.0, 1),
    )
}

/// Seconds since the Unix epoch for an RFC 3339 / ISO 8601 date-time such as the API's
/// `2026-12-01T21:05:09.123456+00:00` (a missing offset is read as UTC). `None` if it isn't one.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0i64, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let sep = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let o = rest.as_bytes();
            let sign = match o.first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            if o.len() != 6 || o[3] != b':' {
                return None;
            }
            let digits = |i: usize| -> Option<i64> {
                let (a, b) = (o[i], o[i + 1]);
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (h, m) = (digits(1)?, digits(4)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset)
}

/// A moment in UTC, "2026-12-01 21:05 UTC" (or "21:05 UTC"): the fallback where the browser
/// can't write local times.
pub fn utc_time(epoch_secs: i64, date: bool) -> String {
    let days = epoch_secs.div_euclid(86_400);
    let secs = epoch_secs.rem_euclid(86_400);
    let time = format!("{:02}:{:02} UTC", secs / 3600, secs % 3600 / 60);
    if !date {
        return time;
    }
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {time}")
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// How long ago `then` was, as people say it: "just now", "5 min ago", "3 h ago", "2 days
/// ago". A time in the future (a clock ahead of ours) reads "just now".
pub fn relative_time(now: i64, then: i64) -> String {
    let ago = now.saturating_sub(then);
    match ago {
        i64::MIN..=44 => "just now".into(),
        45..=3_569 => format!("{} min ago", ((ago + 30) / 60).max(1)),
        3_570..=86_399 => format!("{} h ago", ((ago + 1_800) / 3_600).clamp(1, 23)),
        86_400..=172_799 => "yesterday".into(),
        _ => format!("{} days ago", ago / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_name_the_page() {
        assert_eq!(page_title("/", "/"), "Nimbus");
        assert_eq!(page_title("/weather", "/"), "Weather · Nimbus");
        assert_eq!(page_title("/reports/", "/"), "Reports · Nimbus");
        assert_eq!(page_title("/auth/callback", "/"), "Signing in · Nimbus");
        assert_eq!(page_title("/nope", "/"), "Page not found · Nimbus");
        // Under a sub-path, whether or not the router left the base on the path.
        assert_eq!(page_title("/nimbus/", "/nimbus/"), "Nimbus");
        assert_eq!(page_title("/nimbus", "/nimbus/"), "Nimbus");
        assert_eq!(
            page_title("/nimbus/weather", "/nimbus/"),
            "Weather · Nimbus"
        );
        assert_eq!(page_title("/weather", "/nimbus/"), "Weather · Nimbus");
        assert_eq!(
            page_title("/nimbus/auth/callback", "/nimbus/"),
            "Signing in · Nimbus"
        );
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn range_bar_places_marks_on_a_scale_spanning_every_value() {
        // min 10, max 20, feels 15, now 12: scale 9..21 (10 % padding of the 10° span).
        let bar = RangeBar::new(10.0, 20.0, 15.0, 12.0);
        assert!(close(bar.low, 9.0) && close(bar.high, 21.0));
        assert!(close(bar.min_at, 1.0 / 12.0));
        assert!(close(bar.max_at, 11.0 / 12.0));
        assert!(close(bar.feels_at, 0.5));
        assert!(close(bar.temp_at, 3.0 / 12.0));
    }

    #[test]
    fn feels_like_below_the_minimum_widens_the_scale_to_the_left() {
        // Wind chill: feels -5 with min 0, max 10, now 4. Scale -6.5..11.5 (span 15, pad 1.5).
        let bar = RangeBar::new(0.0, 10.0, -5.0, 4.0);
        assert!(close(bar.low, -6.5) && close(bar.high, 11.5));
        assert!(close(bar.feels_at, 1.5 / 18.0));
        assert!(bar.feels_at < bar.min_at);
        assert!(close(bar.min_at, 6.5 / 18.0));
        assert!(close(bar.max_at, 16.5 / 18.0));
        assert!(close(bar.temp_at, 10.5 / 18.0));
    }

    #[test]
    fn feels_like_above_the_maximum_widens_the_scale_to_the_right() {
        let bar = RangeBar::new(20.0, 30.0, 38.0, 29.0);
        assert!(bar.feels_at > bar.max_at);
        assert!(close(bar.high, 39.8) && close(bar.low, 18.2));
        assert!(close(bar.feels_at, 19.8 / 21.6));
    }

    #[test]
    fn equal_values_sit_in_the_middle_of_a_one_degree_scale() {
        let bar = RangeBar::new(5.0, 5.0, 5.0, 5.0);
        assert!(close(bar.low, 4.4) && close(bar.high, 5.6));
        for at in [bar.min_at, bar.max_at, bar.feels_at, bar.temp_at] {
            assert!(close(at, 0.5));
        }
    }

    #[test]
    fn a_swapped_min_and_max_still_draws_a_span() {
        let bar = RangeBar::new(20.0, 10.0, 15.0, 15.0);
        assert!(bar.min_at < bar.max_at);
        assert!(close(bar.min_at, 1.0 / 12.0));
    }

    #[test]
    fn svg_coordinates_have_one_decimal() {
        assert_eq!(svg_x(0.5, 300), "150.0");
        assert_eq!(svg_x(1.0 / 12.0, 300), "25.0");
        assert_eq!(svg_x(1.5 / 18.0, 300), "25.0");
        assert_eq!(svg_x(0.0, 300), "0.0");
    }

    #[test]
    fn range_bar_markup_places_the_marks() {
        let svg = range_bar_svg(&RangeBar::new(10.0, 20.0, 15.0, 12.0), 300);
        assert!(
            svg.contains(r#"<rect class="span" x="25.0" y="16" width="250.0""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<circle class="mark-feels" cx="150.0""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<circle class="mark-now" cx="75.0""#),
            "{svg}"
        );
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    }

    #[test]
    fn the_drop_fills_to_the_humidity() {
        let full = humidity_drop_svg(100.0);
        assert!(
            full.contains(r#"y="1.5" width="16" height="21.0""#),
            "{full}"
        );
        let empty = humidity_drop_svg(-5.0);
        assert!(
            empty.contains(r#"y="22.5" width="16" height="0.0""#),
            "{empty}"
        );
        let half = humidity_drop_svg(50.0);
        assert!(
            half.contains(r#"y="12.0" width="16" height="10.5""#),
            "{half}"
        );
        assert!(humidity_drop_svg(f64::NAN).contains(r#"height="0.0""#));
    }

    #[test]
    fn timestamps_are_read_with_their_offset() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2026-12-01T21:05:09.123456+00:00"),
            Some(1_796_159_109)
        );
        assert_eq!(
            parse_timestamp("2026-12-01T22:05:09+01:00"),
            Some(1_796_159_109)
        );
        assert_eq!(parse_timestamp("2026-12-01T21:05:09"), Some(1_796_159_109));
        assert_eq!(parse_timestamp("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T21:05:09.+00:00",
            "2026-12-01T21:05:09+0000",
            "2026-12-01T21:05:09 UTC",
            "2026-12-01T21:05:09+24:00",
            "2026-12-01T21:05",
            "２026-12-01T21:05:09Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn utc_fallback_writes_date_and_time() {
        assert_eq!(utc_time(1_796_159_109, true), "2026-12-01 21:05 UTC");
        assert_eq!(utc_time(1_796_159_109, false), "21:05 UTC");
        assert_eq!(utc_time(0, true), "1970-01-01 00:00 UTC");
        assert_eq!(
            utc_time(1_709_164_800 + 86_399, true),
            "2024-02-29 23:59 UTC"
        );
        // Round trip with the parser over four centuries of days.
        for day in (-50_000..150_000).step_by(997) {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn relative_times_read_as_people_say_them() {
        let now = 1_000_000;
        assert_eq!(relative_time(now, now), "just now");
        assert_eq!(relative_time(now, now + 600), "just now");
        assert_eq!(relative_time(now, now - 44), "just now");
        assert_eq!(relative_time(now, now - 45), "1 min ago");
        assert_eq!(relative_time(now, now - 5 * 60), "5 min ago");
        assert_eq!(relative_time(now, now - 59 * 60), "59 min ago");
        assert_eq!(relative_time(now, now - 3_600), "1 h ago");
        assert_eq!(relative_time(now, now - 5 * 3_600 - 100), "5 h ago");
        assert_eq!(relative_time(now, now - 86_400), "yesterday");
        assert_eq!(relative_time(now, now - 3 * 86_400), "3 days ago");
    }
}
