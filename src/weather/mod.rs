//! The course's weather API (`GET /api/weather/{city}`): request building, response reading and
//! the plain messages for each failure. Pure: the adapter sends, this module decides.

use serde::{Deserialize, Serialize};

use crate::url::{encode_path_segment, form_encode};
use crate::wire;

/// Units the API understands, and how each is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    #[default]
    Metric,
    Imperial,
    Standard,
}

impl Units {
    pub const ALL: [Units; 3] = [Units::Metric, Units::Imperial, Units::Standard];

    pub fn as_str(self) -> &'static str {
        match self {
            Units::Metric => "metric",
            Units::Imperial => "imperial",
            Units::Standard => "standard",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Units::Metric => "Metric (°C)",
            Units::Imperial => "Imperial (°F)",
            Units::Standard => "Standard (K)",
        }
    }

    pub fn temperature_symbol(self) -> &'static str {
        match self {
            Units::Metric => "°C",
            Units::Imperial => "°F",
            Units::Standard => "K",
        }
    }

    pub fn parse(s: &str) -> Option<Units> {
        Units::ALL.into_iter().find(|u| u.as_str() == s)
    }
}

/// One lookup, as the user typed it. Only the city is checked here: the API owns the rules for
/// state and country, and its 400 text is what the user reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeatherQuery {
    pub city: String,
    pub state: Option<String>,
    pub country: String,
    pub units: Units,
}

/// Why the form can't be sent yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(pub &'static str);

impl WeatherQuery {
    pub fn from_form(
        city: &str,
        state: &str,
        country: &str,
        units: Units,
    ) -> Result<Self, FormError> {
        let city = city.trim();
        if city.is_empty() {
            return Err(FormError("Enter a city."));
        }
        // WHATWG URLs treat `.`/`..` segments (even as %2E%2E) as dot-segments: never sendable.
        if city == "." || city == ".." {
            return Err(FormError("That isn't a city name."));
        }
        if city.chars().count() > 1000 {
            return Err(FormError(
                "That city name is too long (1,000 characters at most).",
            ));
        }
        let state = Some(state.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let country = match country.trim() {
            "" => "US".to_owned(),
            c => c.to_owned(),
        };
        Ok(Self {
            city: city.to_owned(),
            state,
            country,
            units,
        })
    }

    /// `{base}/api/weather/{city}?country=..&units=..[&state=..]`, the city one encoded segment.
    pub fn url(&self, base_url: &str) -> String {
        let mut params = vec![
            ("country", self.country.as_str()),
            ("units", self.units.as_str()),
        ];
        if let Some(s) = &self.state {
            params.push(("state", s.as_str()));
        }
        format!(
            "{}/api/weather/{}?{}",
            base_url.trim_end_matches('/'),
            encode_path_segment(&self.city),
            form_encode(params)
        )
    }
}

/// A report as the user types it (`POST /api/reports`), and as it waits in a [`Resume`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportDraft {
    pub description: String,
    pub city: String,
    pub state: String,
    pub country: String,
}

impl ReportDraft {
    /// The JSON body the API expects, or what to fix first.
    pub fn request_body(&self) -> Result<String, FormError> {
        let description = self.description.trim();
        if description.is_empty() {
            return Err(FormError("Describe the weather you saw."));
        }
        let city = self.city.trim();
        if city.is_empty() {
            return Err(FormError("Enter a city."));
        }
        let state = Some(self.state.trim()).filter(|s| !s.is_empty());
        let country = match self.country.trim() {
            "" => "US",
            c => c,
        };
        serde_json::to_string(&NewReport {
            description,
            location: NewLocation {
                city,
                country,
                state,
            },
        })
        .map_err(|_| FormError("That report can't be sent."))
    }
}

/// The body of `POST /api/reports`. Members in this order, `state` null when empty.
#[derive(Serialize)]
struct NewReport<'a> {
    description: &'a str,
    location: NewLocation<'a>,
}

#[derive(Serialize)]
struct NewLocation<'a> {
    city: &'a str,
    country: &'a str,
    state: Option<&'a str>,
}

/// Where a report was made.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReportLocation {
    pub city: String,
    pub state: Option<String>,
    pub country: Option<String>,
}

/// A stored report (`GET /api/reports`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Report {
    pub id: String,
    pub description: String,
    #[serde(deserialize_with = "wire::object")]
    pub location: ReportLocation,
    pub created_date: Option<String>,
}

impl Report {
    /// `2026-11-28 22:58` from an ISO 8601 timestamp (shown as given otherwise).
    pub fn when(&self) -> String {
        let raw = self.created_date.as_deref().unwrap_or_default();
        let short: String = raw.chars().take(16).collect();
        short.replacen('T', " ", 1)
    }

    pub fn place(&self) -> String {
        let l = &self.location;
        [
            Some(l.city.as_str()),
            l.state.as_deref(),
            l.country.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Reads a successful answer: capped in size, checked whole, then read as a `T`.
fn read_answer<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, ApiError> {
    if wire::too_large(body) {
        return Err(ApiError::TooLarge);
    }
    wire::read(body).map_err(|_| ApiError::Malformed)
}

/// Reads `GET /api/reports`: newest first, whatever order the API used.
pub fn parse_reports(status: u16, body: &str) -> Result<Vec<Report>, ApiError> {
    check_status(status, body)?;
    let reports: Vec<wire::Object<Report>> = read_answer(body)?;
    let mut reports: Vec<Report> = reports.into_iter().map(|r| r.0).collect();
    reports.sort_by(|a, b| b.created_date.cmp(&a.created_date));
    Ok(reports)
}

/// Reads the answer to `POST /api/reports`.
pub fn parse_created(status: u16, body: &str) -> Result<Report, ApiError> {
    if status != 201 {
        check_status(status, body)?;
    }
    read_answer::<wire::Object<Report>>(body).map(|r| r.0)
}

/// An action interrupted by a round trip to the provider, to finish on return. Written as
/// `{"action": variant, ...fields}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action")]
pub enum Resume {
    Weather {
        city: String,
        state: String,
        country: String,
        units: String,
    },
    AddReport(ReportDraft),
}

/// Current conditions: the OpenWeather `main` block. Other members are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Conditions {
    pub temp: f64,
    pub feels_like: f64,
    pub temp_min: f64,
    pub temp_max: f64,
    pub pressure: f64,
    pub humidity: f64,
}

/// Every way a call to the API can fail, as the user should hear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the API's own text explains what to fix.
    Validation(String),
    /// 401: the token was refused.
    SessionExpired,
    /// 403: the token lacks the permission.
    Forbidden,
    /// 5xx.
    Server(u16),
    /// Any other status.
    UnexpectedStatus(u16),
    /// 200 with a body that isn't the expected JSON.
    Malformed,
    /// 200 with a body longer than the app reads (`wire::MAX_BODY_BYTES`).
    TooLarge,
    /// The request never got an answer (offline, DNS, CORS refusal, a refused redirect).
    Network { origin: String },
    /// No answer in time.
    Timeout,
}

impl ApiError {
    pub fn message(&self) -> String {
        match self {
            ApiError::Validation(text) => text.clone(),
            ApiError::SessionExpired => "Your session has expired. Sign in again to continue.".into(),
            ApiError::Forbidden => "You don't have permission for this. Ask an administrator to grant this app the weather permissions.".into(),
            ApiError::Server(_) => "The weather service is having trouble. Try again in a moment.".into(),
            ApiError::UnexpectedStatus(_) => "The weather service answered in a way this app doesn't understand. Try again later.".into(),
            ApiError::Malformed => "The weather service sent an answer this app can't read. Try again later.".into(),
            ApiError::TooLarge => "The weather service sent an answer too large for this app to read.".into(),
            ApiError::Network { .. } => "Couldn't reach the weather service. Check your connection and try again.".into(),
            ApiError::Timeout => "The weather service didn't answer in time. Try again.".into(),
        }
    }
}

impl ApiError {
    /// The particulars behind the message, for a "Details" disclosure.
    pub fn details(&self) -> Option<String> {
        match self {
            ApiError::Server(s) | ApiError::UnexpectedStatus(s) => Some(format!("HTTP status {s}.")),
            ApiError::Malformed => Some("The body isn't the JSON the API contract describes.".into()),
            ApiError::TooLarge => Some(format!("The body is over {} bytes.", wire::MAX_BODY_BYTES)),
            ApiError::Network { origin } => Some(format!("No answer from {origin}. If it persists, the service may not allow requests from this site (CORS).")),
            _ => None,
        }
    }
}

/// Any status but 200 as an error, with the API's 400 text as the message.
fn check_status(status: u16, body: &str) -> Result<(), ApiError> {
    match status {
        200 => Ok(()),
        _ => parse_response(status, body).map(|_| ()),
    }
}

/// Reads the API's answer.
pub fn parse_response(status: u16, body: &str) -> Result<Conditions, ApiError> {
    match status {
        200 => {
            let c: Conditions = read_answer::<wire::Object<Conditions>>(body)?.0;
            let all = [
                c.temp,
                c.feels_like,
                c.temp_min,
                c.temp_max,
                c.pressure,
                c.humidity,
            ];
            if all.iter().all(|v| v.is_finite() && v.abs() < 1e9) {
                Ok(c)
            } else {
                Err(ApiError::Malformed)
            }
        }
        400 => {
            let text: String = body
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(500)
                .collect();
            let text = text.trim();
            Err(ApiError::Validation(if text.is_empty() {
                "The weather service rejected the request.".into()
            } else {
                text.to_owned()
            }))
        }
        401 => Err(ApiError::SessionExpired),
        403 => Err(ApiError::Forbidden),
        500..=599 => Err(ApiError::Server(status)),
        other => Err(ApiError::UnexpectedStatus(other)),
    }
}

/// A reading with one decimal, e.g. `21.4 °C`.
pub fn format_value(v: f64, unit: &str) -> String {
    format!("{} {unit}", fixed(v, 1))
}

/// `v` with `decimals` (0 or 1) fraction digits, rounded to nearest on the exact binary value,
/// ties away from zero — as JavaScript's `toFixed` and people round (69.25 °F shows as 69.3),
/// not to even as `format!("{v:.1}")` would — without pulling core's float formatting (several
/// kilobytes of wasm) into the app.
pub fn fixed(v: f64, decimals: u32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v.is_infinite() {
        return format!("{sign}inf");
    }
    let scale: u128 = if decimals == 0 { 1 } else { 10 };
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    // v = mantissa * 2^shift exactly.
    let (mantissa, shift) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp - 1075)
    };
    // The magnitude times `scale`, rounded half away from zero, as an integer.
    let scaled: u128 = if shift >= 0 {
        // At least 2^52: far beyond any reading; digits are exact integers.
        let digits = big_decimal(mantissa, shift as u32);
        let int = if decimals == 0 {
            digits
        } else {
            format!("{digits}.0")
        };
        return format!("{sign}{int}");
    } else if shift < -120 {
        0 // below 2^-67: rounds to zero at one decimal
    } else {
        let n = u128::from(mantissa) * scale;
        let s = (-shift) as u32;
        let q = n >> s;
        let r = n & ((1u128 << s) - 1);
        let half = 1u128 << (s - 1);
        if r >= half {
            q + 1
        } else {
            q
        }
    };
    if decimals == 0 {
        format!("{sign}{scaled}")
    } else {
        format!("{sign}{}.{}", scaled / 10, scaled % 10)
    }
}

/// `mantissa * 2^shift` in decimal (shift ≥ 0), by doubling a decimal digit string.
fn big_decimal(mantissa: u64, shift: u32) -> String {
    // Little-endian base-10^9 limbs.
    let mut limbs: Vec<u64> = vec![mantissa % 1_000_000_000, mantissa / 1_000_000_000];
    for _ in 0..shift {
        let mut carry = 0;
        for l in limbs.iter_mut() {
            let x = *l * 2 + carry;
            *l = x % 1_000_000_000;
            carry = x / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut out = String::new();
    for (i, l) in limbs.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&l.to_string());
        } else {
            out.push_str(&format!("{l:09}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_city_is_required() {
        assert_eq!(
            WeatherQuery::from_form("  ", "", "", Units::Metric),
            Err(FormError("Enter a city."))
        );
        let q = WeatherQuery::from_form(" Portland ", " OR ", "", Units::Imperial).unwrap();
        assert_eq!(q.city, "Portland");
        assert_eq!(q.state.as_deref(), Some("OR"));
        assert_eq!(q.country, "US");
        let q = WeatherQuery::from_form("Paris", "", "usa", Units::Metric).unwrap();
        assert_eq!(
            q.country, "usa",
            "the API, not the form, judges the country"
        );
        assert!(WeatherQuery::from_form(&"x".repeat(1001), "", "", Units::Metric).is_err());
        assert!(WeatherQuery::from_form(&"x".repeat(1000), "", "", Units::Metric).is_ok());
        for dots in [".", "..", " .. "] {
            assert_eq!(
                WeatherQuery::from_form(dots, "", "", Units::Metric),
                Err(FormError("That isn't a city name."))
            );
        }
        assert!(WeatherQuery::from_form("...", "", "", Units::Metric).is_ok());
    }

    #[test]
    fn sends_the_city_as_one_encoded_segment() {
        let q = WeatherQuery::from_form("../admin?x=1#y", "", "GB", Units::Standard).unwrap();
        assert_eq!(
            q.url("http://localhost:5557/"),
            "http://localhost:5557/api/weather/%2E%2E%2Fadmin%3Fx%3D1%23y?country=GB&units=standard"
        );
        let q = WeatherQuery::from_form("São Paulo", "SP", "BR", Units::Metric).unwrap();
        assert_eq!(
            q.url("https://api.example"),
            "https://api.example/api/weather/S%C3%A3o%20Paulo?country=BR&units=metric&state=SP"
        );
        let q = WeatherQuery::from_form("🌧️<b>", "", "", Units::Metric).unwrap();
        assert!(q
            .url("https://a")
            .split('?')
            .next()
            .unwrap()
            .ends_with("/api/weather/%F0%9F%8C%A7%EF%B8%8F%3Cb%3E"));
    }

    #[test]
    fn reads_conditions() {
        let c = parse_response(
            200,
            r#"{"temp":21.5,"feels_like":20,"temp_min":18,"temp_max":24.25,"pressure":1013,"humidity":40}"#,
        )
        .unwrap();
        assert_eq!(c.temp_max, 24.25);
        assert_eq!(
            format_value(c.temp, Units::Metric.temperature_symbol()),
            "21.5 °C"
        );
    }

    #[test]
    fn malformed_bodies_are_a_message_not_a_panic() {
        for body in [
            "",
            "<html>",
            "null",
            r#"{"temp":null,"feels_like":1,"temp_min":1,"temp_max":1,"pressure":1,"humidity":1}"#,
            r#"{"temp":1}"#,
            r#"{"temp":"hot","feels_like":1,"temp_min":1,"temp_max":1,"pressure":1,"humidity":1}"#,
            r#"{"temp":1e400,"feels_like":1,"temp_min":1,"temp_max":1,"pressure":1,"humidity":1}"#,
            r#"{"temp":1e300,"feels_like":1,"temp_min":1,"temp_max":1,"pressure":1,"humidity":1}"#,
        ] {
            assert_eq!(
                parse_response(200, body),
                Err(ApiError::Malformed),
                "{body}"
            );
        }
    }

    const CONDITIONS: &str = r#""temp":21.5,"feels_like":20,"temp_min":18,"temp_max":24.25,"pressure":1013,"humidity":40"#;

    #[test]
    fn strict_where_it_matters_and_deaf_to_the_rest() {
        // Unknown members are ignored; repeated ones, known or not, are refused.
        assert!(parse_response(200, &format!(r#"{{{CONDITIONS},"wind":{{"speed":3}}}}"#)).is_ok());
        for body in [
            format!(r#"{{{CONDITIONS},"temp":0}}"#),
            format!(r#"{{{CONDITIONS},"x":1,"x":1}}"#),
            format!(r#"[{}]"#, CONDITIONS.replace(r#""temp":"#, "")),
        ] {
            assert_eq!(
                parse_response(200, &body),
                Err(ApiError::Malformed),
                "{body}"
            );
        }
        // A report's location must be an object too.
        let positional = r#"[{"id":"1","description":"d","location":["a",null,"US"]}]"#;
        assert_eq!(parse_reports(200, positional), Err(ApiError::Malformed));
        assert_eq!(
            parse_created(
                201,
                r#"{"id":"1","description":"d","location":{"city":"a"}}"#
            )
            .unwrap()
            .place(),
            "a"
        );
    }

    #[test]
    fn a_huge_answer_is_read_in_linear_time_or_refused_before_parsing() {
        // 80,000 members (~870 KB): every name distinct, all of them checked.
        let mut body = String::from("{");
        for i in 0..80_000 {
            body.push_str(&format!(r#""m{i:05}":0,"#));
        }
        body.push_str(CONDITIONS);
        body.push('}');
        assert!(body.len() > 850_000 && body.len() < wire::MAX_BODY_BYTES);
        let started = std::time::Instant::now();
        assert!(parse_response(200, &body).is_ok());
        let took = started.elapsed();
        // A guard against quadratic reading (the old reader took 38.7 s on this), not a benchmark:
        // linear reading takes ~0.2 s in a debug build, so the bound holds on a busy machine.
        assert!(took.as_millis() < 3000, "took {took:?}");

        let padded = format!("{}{}", body, " ".repeat(wire::MAX_BODY_BYTES));
        assert_eq!(parse_response(200, &padded), Err(ApiError::TooLarge));
        assert_eq!(parse_reports(200, &padded), Err(ApiError::TooLarge));
        assert_eq!(parse_created(201, &padded), Err(ApiError::TooLarge));
        assert!(ApiError::TooLarge.message().contains("too large"));
    }

    #[test]
    fn maps_statuses_to_messages() {
        let text = "Invalid country: usa. It must be a two letter abbreviation such as US or GB.";
        assert_eq!(
            parse_response(400, text),
            Err(ApiError::Validation(text.into()))
        );
        assert_eq!(parse_response(401, ""), Err(ApiError::SessionExpired));
        assert_eq!(parse_response(403, ""), Err(ApiError::Forbidden));
        assert_eq!(parse_response(503, ""), Err(ApiError::Server(503)));
        assert_eq!(
            parse_response(302, ""),
            Err(ApiError::UnexpectedStatus(302))
        );
        // The status and the address are particulars: in the details, not the message.
        assert!(!ApiError::Server(500).message().contains("500"));
        assert_eq!(
            ApiError::Server(500).details().as_deref(),
            Some("HTTP status 500.")
        );
        let offline = ApiError::Network {
            origin: "http://localhost:5557".into(),
        };
        assert!(!offline.message().contains("localhost") && !offline.message().contains("CORS"));
        assert!(offline
            .details()
            .is_some_and(|d| d.contains("http://localhost:5557")));
        let long = parse_response(400, &"y".repeat(10_000))
            .unwrap_err()
            .message();
        assert_eq!(long.chars().count(), 500);
    }

    #[test]
    fn report_drafts_need_a_description_and_a_city() {
        let mut d = ReportDraft::default();
        assert_eq!(
            d.request_body(),
            Err(FormError("Describe the weather you saw."))
        );
        d.description = " Hail ".into();
        assert_eq!(d.request_body(), Err(FormError("Enter a city.")));
        d.city = "Portland".into();
        let v: serde_json::Value = serde_json::from_str(&d.request_body().unwrap()).unwrap();
        assert_eq!(v["description"], "Hail");
        assert_eq!(v["location"]["country"], "US");
        assert!(v["location"]["state"].is_null());
        assert_eq!(
            d.request_body().unwrap(),
            r#"{"description":"Hail","location":{"city":"Portland","country":"US","state":null}}"#
        );
        d.state = " OR ".into();
        assert!(d.request_body().unwrap().ends_with(r#""state":"OR"}}"#));
    }

    #[test]
    fn lists_reports_newest_first() {
        let body = r#"[{"id":"1","description":"old","location":{"city":"a","state":null,"country":"US"},"created_date":"2026-01-01T10:00:00"},
                       {"id":"2","description":"new","location":{"city":"b","state":"OR","country":"US"},"created_date":"2026-02-01T09:30:15.5"}]"#;
        let r = parse_reports(200, body).unwrap();
        assert_eq!(r[0].id, "2");
        assert_eq!(r[0].when(), "2026-02-01 09:30");
        assert_eq!(r[0].place(), "b, OR, US");
        assert_eq!(r[1].place(), "a, US");
        assert_eq!(parse_reports(200, "{}"), Err(ApiError::Malformed));
        assert_eq!(parse_reports(403, ""), Err(ApiError::Forbidden));
        assert_eq!(
            parse_created(400, "A description is required."),
            Err(ApiError::Validation("A description is required.".into()))
        );
    }

    #[test]
    fn resume_actions_round_trip() {
        let r = Resume::AddReport(ReportDraft {
            description: "d".into(),
            city: "c".into(),
            ..Default::default()
        });
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"action":"AddReport","description":"d","city":"c","state":"","country":""}"#
        );
        assert_eq!(wire::read_object::<Resume>(&text).unwrap(), r);
        let w = Resume::Weather {
            city: "Paris".into(),
            state: String::new(),
            country: "FR".into(),
            units: "metric".into(),
        };
        let text = serde_json::to_string(&w).unwrap();
        assert_eq!(
            text,
            r#"{"action":"Weather","city":"Paris","state":"","country":"FR","units":"metric"}"#
        );
        assert_eq!(wire::read_object::<Resume>(&text).unwrap(), w);
        for bad in [
            r#"{"action":"Delete","city":"c"}"#,
            r#"{"city":"c"}"#,
            r#"["AddReport","d","c","",""]"#,
            r#"{"action":"AddReport","description":"d","city":"c","state":""}"#,
        ] {
            assert!(wire::read_object::<Resume>(bad).is_err(), "{bad}");
        }
    }

    /// Core's formatting, except that exact ties round away from zero instead of to even. At one
    /// decimal the exact ties are the quarters (`v * 4` an odd integer), at none the halves.
    fn reference(v: f64, decimals: u32) -> String {
        let core = if decimals == 0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        };
        let per_unit = if decimals == 0 { 2.0 } else { 4.0 };
        let t = v.abs() * per_unit;
        if !(t.is_finite() && t < 9e15 && t.fract() == 0.0 && t % 2.0 == 1.0) {
            return core;
        }
        let sign = if v.is_sign_negative() { "-" } else { "" };
        let whole = v.abs().trunc() as u64;
        match (decimals, v.abs().fract()) {
            (0, _) => format!("{sign}{}", whole + 1),
            (_, 0.25) => format!("{sign}{whole}.3"),
            _ => format!("{sign}{whole}.8"),
        }
    }

    #[test]
    fn ties_round_away_from_zero_like_javascript_to_fixed() {
        assert_eq!(fixed(69.25, 1), "69.3");
        assert_eq!(fixed(0.25, 1), "0.3");
        assert_eq!(fixed(-0.25, 1), "-0.3");
        assert_eq!(fixed(0.75, 1), "0.8");
        assert_eq!(fixed(2.5, 0), "3");
        assert_eq!(fixed(-0.5, 0), "-1");
        // Not ties in binary: 0.35 and 0.15 are each a little below (toFixed agrees).
        assert_eq!(fixed(0.35, 1), "0.3");
        assert_eq!(fixed(0.15, 1), "0.1");
    }

    #[test]
    fn fixed_point_matches_core_formatting() {
        let mut samples = vec![
            0.0,
            -0.0,
            0.05,
            0.15,
            0.25,
            0.35,
            0.45,
            -0.05,
            -0.25,
            0.5,
            1.5,
            2.5,
            -2.5,
            21.45,
            21.449999,
            1013.0,
            99.95,
            -40.04,
            1e-300,
            5e-324,
            -1e-20,
            123456789.25,
            4503599627370495.5,
            4503599627370496.0,
            9007199254740993.0,
            1e22,
            1.7976931348623157e308,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        // A deterministic spread of values and of exact ties.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(f64::from_bits(x));
            samples.push((x % 2_000_000) as f64 / 1000.0 - 1000.0);
            samples.push(f64::from(i as u32) / 20.0 - 300.0);
        }
        for v in samples {
            assert_eq!(fixed(v, 1), reference(v, 1), "{v:e}");
            assert_eq!(fixed(v, 0), reference(v, 0), "{v:e}");
        }
    }

    #[test]
    fn units_round_trip() {
        for u in Units::ALL {
            assert_eq!(Units::parse(u.as_str()), Some(u));
        }
        assert_eq!(Units::parse("kelvin"), None);
    }
}
