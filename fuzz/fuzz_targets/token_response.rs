//! The token endpoint's answer: arbitrary (status, body), plus a structured variant that
//! builds a plausible JSON success body so the field checks are reached.
//!
//! Properties: no panic; `Ok` only for a 2xx status with a JSON object body carrying a
//! non-empty `access_token`, a `token_type` of `Bearer` (any case) and an `expires_in` in
//! 1..=MAX_EXPIRES_IN_SECS that is the body's own value; scopes are the response's when it
//! names some, the requested ones otherwise; a non-2xx status is always an error that keeps
//! the status.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use nimbus::auth::secret::Secret;
use nimbus::auth::token::{parse_token_response, MAX_EXPIRES_IN_SECS};
use nimbus::auth::AuthError;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The fields the oracle reads, unknown ones skipped (as any serde reader would: a JSON value
/// there is not even range-checked, so `Map` would refuse bodies the core rightly accepts).
#[derive(Deserialize)]
struct Seen {
    access_token: Option<Value>,
    token_type: Option<Value>,
    expires_in: Option<Value>,
    scope: Option<Value>,
}

#[derive(Arbitrary, Debug)]
enum Field {
    Absent,
    Str(String),
    Num(i64),
    Float(f64),
    Null,
    Bool(bool),
}

#[derive(Arbitrary, Debug)]
struct Success {
    access_token: Field,
    token_type: Field,
    expires_in: Field,
    scope: Field,
    id_token: Field,
    refresh_token: Field,
    refresh_token_expires_in: Field,
}

fn value(f: &Field) -> Option<Value> {
    Some(match f {
        Field::Absent => return None,
        Field::Str(s) => json!(s),
        Field::Num(n) => json!(n),
        Field::Float(x) if x.is_finite() => json!(x),
        Field::Float(_) | Field::Null => Value::Null,
        Field::Bool(b) => json!(b),
    })
}

fn requested() -> Vec<String> {
    vec!["api://x/weather.read".to_owned()]
}

fn check(status: u16, body: &str) {
    let result = parse_token_response(status, body, &requested());
    if !(200..300).contains(&status) {
        match result {
            Err(AuthError::TokenEndpoint { status: s, .. }) => assert_eq!(s, status),
            other => panic!("status {status} gave {other:?}"),
        }
        return;
    }
    let Ok(r) = result else {
        return;
    };
    let seen: Seen = serde_json::from_str(body).expect("Ok for a body that is not an object");
    let at = r.access_token.expose();
    assert!(!at.is_empty(), "empty access token");
    assert_eq!(seen.access_token.as_ref().and_then(Value::as_str), Some(at));
    let tt = seen
        .token_type
        .as_ref()
        .and_then(Value::as_str)
        .expect("no token_type");
    assert!(tt.eq_ignore_ascii_case("bearer"), "token_type {tt:?}");
    assert!(
        (1..=MAX_EXPIRES_IN_SECS).contains(&r.expires_in),
        "expires_in {}",
        r.expires_in
    );
    let body_expires = match &seen.expires_in {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().trim_start_matches('+').parse::<u64>().ok(),
        _ => None,
    };
    assert_eq!(
        body_expires,
        Some(r.expires_in),
        "expires_in is not the body's"
    );
    let scope = seen.scope.as_ref().and_then(Value::as_str).unwrap_or("");
    // RFC 6749 §3.3: space-delimited tokens; none at all means the requested scopes (§5.1).
    let split: Vec<String> = scope.split_ascii_whitespace().map(str::to_owned).collect();
    let want: Vec<String> = if split.is_empty() { requested() } else { split };
    assert_eq!(r.scopes, want);
    assert!(r.scopes.iter().all(|s| !s.is_empty()));
    if let Some(t) = &r.refresh_token {
        assert!(!t.expose().is_empty());
    }
    if let Some(t) = &r.id_token {
        assert!(!t.expose().is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(status) = u16::arbitrary(&mut u) else {
        return;
    };
    let Ok(structured) = bool::arbitrary(&mut u) else {
        return;
    };
    if structured {
        // A JSON object from random field values, with a 2xx status most of the time.
        let Ok(s) = Success::arbitrary(&mut u) else {
            return;
        };
        let mut obj = Map::new();
        for (k, f) in [
            ("access_token", &s.access_token),
            ("token_type", &s.token_type),
            ("expires_in", &s.expires_in),
            ("scope", &s.scope),
            ("id_token", &s.id_token),
            ("refresh_token", &s.refresh_token),
            ("refresh_token_expires_in", &s.refresh_token_expires_in),
        ] {
            if let Some(v) = value(f) {
                obj.insert(k.to_owned(), v);
            }
        }
        let status = if status % 8 == 0 {
            status
        } else {
            200 + status % 100
        };
        check(status, &Value::Object(obj).to_string());
    } else {
        let Ok(body) = std::str::from_utf8(u.take_rest()) else {
            return;
        };
        check(status, body);
    }
});
