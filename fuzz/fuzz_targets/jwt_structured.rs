//! ID tokens built from structured random claims, so that `check_claims` is reached on
//! almost every run: each claim is picked from the right value, a near miss, the wrong type,
//! or absent, and the header's `alg` from a list that includes `none` and HMAC.
//!
//! The first variant of every choice is the valid one, so an all-zero (or empty) input is a
//! token that must be accepted, and each mutation moves one claim away from it.
//!
//! Property: `decode` accepts every token built this way, and `check_claims` succeeds iff the
//! independent validator (`nimbus_fuzz::jwt::acceptable`) does.
#![no_main]

use arbitrary::Arbitrary;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use nimbus::auth::id_token::{check_claims, decode, Expectations};
use nimbus::auth::secret::Nonce;
use nimbus_fuzz::jwt::{
    acceptable, tenant_lists, CLIENT_ID, ISSUER, ISSUER_TEMPLATE, NONCE, NOW, SKEW, TID,
};
use serde_json::{json, Map, Value};

/// One claim's value: the right one, something close to it, or something of another type.
#[derive(Arbitrary, Debug)]
enum Str {
    Right,
    Absent,
    Empty,
    Other(String),
    /// The right value with a suffix, a prefix or a change of case.
    NearMiss(u8, String),
    Number(i64),
    Null,
    Array(Vec<String>),
    RightInArray,
}

#[derive(Arbitrary, Debug)]
enum Num {
    /// `NOW` plus this offset, as an integer.
    Offset(i32),
    Absent,
    /// Right at the edge of the skew window, plus a small offset.
    Edge(i8),
    /// A fractional number around now.
    Fraction(i32, u8),
    Raw(f64),
    Big(u64),
    Str(String),
    Null,
}

#[derive(Arbitrary, Debug)]
enum Aud {
    Right,
    Absent,
    Single(Str),
    List(Vec<Str>),
}

#[derive(Arbitrary, Debug)]
struct Token {
    alg: Str,
    kid: Option<String>,
    iss: Str,
    sub: Str,
    aud: Aud,
    azp: Str,
    exp: Num,
    exp_edge: bool,
    iat: Num,
    nonce: Str,
    tid: Str,
    extra: Vec<(String, String)>,
    template: bool,
    /// Allowed tenants: none, ours, another.
    tenants: u8,
    signature: Vec<u8>,
}

fn near(right: &str, how: u8, s: &str) -> String {
    match how % 4 {
        0 => format!("{right}{s}"),
        1 => format!("{s}{right}"),
        2 => right.to_ascii_uppercase(),
        _ => right[..right.len().saturating_sub(1)].to_owned(),
    }
}

fn str_value(v: &Str, right: &str) -> Option<Value> {
    Some(match v {
        Str::Absent => return None,
        Str::Right => json!(right),
        Str::Empty => json!(""),
        Str::Other(s) => json!(s),
        Str::NearMiss(how, s) => json!(near(right, *how, s)),
        Str::Number(n) => json!(n),
        Str::Null => Value::Null,
        Str::Array(a) => json!(a),
        Str::RightInArray => json!([right]),
    })
}

fn num_value(v: &Num, edge: u64) -> Option<Value> {
    Some(match v {
        Num::Absent => return None,
        Num::Offset(o) => json!(NOW as i64 + i64::from(*o)),
        Num::Edge(o) => json!(edge as i64 + i64::from(*o)),
        Num::Fraction(o, f) => json!(NOW as f64 + f64::from(*o) + f64::from(*f) / 256.0),
        Num::Raw(f) if f.is_finite() => json!(f),
        Num::Raw(_) => Value::Null,
        Num::Big(n) => json!(n),
        Num::Str(s) => json!(s),
        Num::Null => Value::Null,
    })
}

fuzz_target!(|t: Token| {
    let issuer_expected = if t.template { ISSUER_TEMPLATE } else { ISSUER };
    let mut header = Map::new();
    if let Some(alg) = str_value(&t.alg, "RS256") {
        header.insert("alg".into(), alg);
    }
    if let Some(kid) = &t.kid {
        header.insert("kid".into(), json!(kid));
    }
    let mut p = Map::new();
    for (k, v) in &t.extra {
        p.insert(k.clone(), json!(v));
    }
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            p.insert(k.to_owned(), v);
        }
    };
    put("iss", str_value(&t.iss, ISSUER));
    put("sub", str_value(&t.sub, "user-1"));
    put(
        "aud",
        match &t.aud {
            Aud::Absent => None,
            Aud::Right => Some(json!(CLIENT_ID)),
            Aud::Single(s) => str_value(s, CLIENT_ID),
            Aud::List(l) => Some(Value::Array(
                l.iter()
                    .map(|s| str_value(s, CLIENT_ID).unwrap_or(Value::Null))
                    .collect(),
            )),
        },
    );
    put("azp", str_value(&t.azp, CLIENT_ID));
    let exp_edge = if t.exp_edge { NOW - SKEW } else { NOW };
    put("exp", num_value(&t.exp, exp_edge));
    put("iat", num_value(&t.iat, NOW + SKEW));
    put("nonce", str_value(&t.nonce, NONCE));
    put("tid", str_value(&t.tid, TID));

    let header = Value::Object(header);
    let payload = Value::Object(p);
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(&t.signature)
    );
    let tenants = tenant_lists()[usize::from(t.tenants % 3)].clone();
    let decoded = decode(&token);
    let jwt = match decoded {
        Ok(jwt) => jwt,
        Err(e) => {
            // Refusing is right only for what a validator could never accept anyway
            // (too long, a header without a string alg, non-string kid, unusable dates or aud).
            assert!(
                acceptable(&header, &payload, issuer_expected, &tenants).is_err()
                    || token.len() > 16 * 1024,
                "decode refused a valid token: {e:?}\nheader {header}\npayload {payload}"
            );
            return;
        }
    };
    assert_eq!(jwt.signature, t.signature);
    let nonce = Nonce::new(NONCE);
    let expect = Expectations {
        issuer: issuer_expected,
        client_id: CLIENT_ID,
        nonce: &nonce,
        now: NOW,
        allowed_tenants: &tenants,
    };
    let got = check_claims(&jwt, &expect);
    let want = acceptable(&header, &payload, issuer_expected, &tenants);
    assert_eq!(
        got.is_ok(),
        want.is_ok(),
        "tenants {tenants:?}: check_claims = {got:?}, reference = {want:?}\nheader {header}\npayload {payload}"
    );
});
