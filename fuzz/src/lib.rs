//! Independent re-implementations of the rules the fuzz targets check the core against.
//! Written from the RFCs and the brief, not copied from `nimbus`, so that a bug in the core
//! is not silently shared by its oracle.

/// Value of one hex digit, ASCII only.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Strict percent-decoding: `None` on a `%` without two hex digits; bytes, not UTF-8 checked.
/// With `plus_is_space`, `+` becomes a space (`application/x-www-form-urlencoded`).
pub fn percent_decode_bytes(s: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else if b[i] == b'+' && plus_is_space {
            out.push(b' ');
            i += 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Lenient percent-decoding as a browser's path handling might do it: a `%` that does not
/// start a valid escape stays as is; invalid UTF-8 is replaced.
pub fn percent_decode_lossy(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(hi), Some(lo)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a query string the WHATWG way (`?` prefix dropped, `&`-separated, first `=` splits,
/// empty parts skipped) into decoded pairs, keeping duplicates. `None` on a bad escape or
/// non-UTF-8 result.
pub fn reference_query(query: &str) -> Option<Vec<(String, String)>> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut out = Vec::new();
    for part in query.split('&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.find('=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, ""),
        };
        let k = String::from_utf8(percent_decode_bytes(k, true)?).ok()?;
        let v = String::from_utf8(percent_decode_bytes(v, true)?).ok()?;
        out.push((k, v));
    }
    Some(out)
}

/// How the strict reading of a query fails, first problem in order of the parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefQueryError {
    BadEncoding,
    Duplicate(String),
}

/// Like [`reference_query`] but refusing repeated names (RFC 6749 §3.1), reporting the first
/// problem met while reading the parts left to right (a part's name, then its value, then
/// whether the name was seen before).
pub fn reference_query_strict(query: &str) -> Result<Vec<(String, String)>, RefQueryError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut out: Vec<(String, String)> = Vec::new();
    let dec = |s: &str| {
        percent_decode_bytes(s, true)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(RefQueryError::BadEncoding)
    };
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = match part.find('=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, ""),
        };
        let (k, v) = (dec(k)?, dec(v)?);
        if out.iter().any(|(e, _)| *e == k) {
            return Err(RefQueryError::Duplicate(k));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Every value of `name` in `pairs`.
pub fn values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// `8-4-4-4-12` hex digits.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8usize, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Fixed expectations of an ID token, shared by the `jwt` targets and their seeds.
pub mod jwt {
    use serde_json::Value;

    pub const CLIENT_ID: &str = "0b7e4f52-6c1a-4d3e-8f29-5a1c7b9e3d64";
    pub const NONCE: &str = "n-0123456789abcdef";
    pub const NOW: u64 = 1_700_000_000;
    pub const SKEW: u64 = 300;
    pub const TID: &str = "3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90";
    pub const ISSUER: &str =
        "https://login.microsoftonline.com/3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90/v2.0";
    pub const ISSUER_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

    /// A JSON number read as a NumericDate (RFC 7519 §2): non-negative, whole seconds,
    /// fractions dropped. Anything else (string, huge, negative) is not a date.
    fn date(v: Option<&Value>) -> Option<u64> {
        let n = v?.as_f64()?;
        (0.0..1e12).contains(&n).then(|| n.floor() as u64)
    }

    /// Would an honest validator accept this header and payload (OIDC Core §3.1.3.7 steps
    /// 2–4, 9–11, minus the signature)? Returns the reason it would not.
    /// The tenant lists the targets try: none (any tenant), ours, another one.
    pub fn tenant_lists() -> [Vec<String>; 3] {
        [
            vec![],
            vec![TID.to_owned()],
            vec!["00000000-0000-0000-0000-000000000000".to_owned()],
        ]
    }

    pub fn acceptable(
        header: &Value,
        payload: &Value,
        issuer: &str,
        allowed_tenants: &[String],
    ) -> Result<(), String> {
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err("alg is not RS256".into());
        }
        let obj = payload.as_object().ok_or("payload is not an object")?;
        let s = |k: &str| obj.get(k).and_then(Value::as_str);
        let expected_iss = if issuer.contains("{tenantid}") {
            let tid = s("tid").filter(|t| super::is_guid(t)).ok_or("no tenant")?;
            issuer.replace("{tenantid}", tid)
        } else {
            issuer.to_owned()
        };
        if s("iss") != Some(expected_iss.as_str()) {
            return Err("iss".into());
        }
        if !allowed_tenants.is_empty()
            && !s("tid").is_some_and(|t| allowed_tenants.iter().any(|a| a == t))
        {
            return Err("tenant not allowed".into());
        }
        let aud: Vec<&str> = match obj.get("aud") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Array(a)) => a
                .iter()
                .map(Value::as_str)
                .collect::<Option<_>>()
                .ok_or("aud has a non-string")?,
            _ => vec![],
        };
        if aud.is_empty() || aud.iter().any(|a| *a != CLIENT_ID) {
            return Err("aud".into());
        }
        if let Some(Value::String(azp)) = obj.get("azp") {
            if azp != CLIENT_ID {
                return Err("azp".into());
            }
        }
        let exp = date(obj.get("exp")).ok_or("exp")?;
        let iat = date(obj.get("iat")).ok_or("iat")?;
        if NOW > exp + SKEW {
            return Err("expired".into());
        }
        if iat > NOW + SKEW {
            return Err("issued in the future".into());
        }
        if s("nonce") != Some(NONCE) {
            return Err("nonce".into());
        }
        if s("sub").is_none_or(str::is_empty) {
            return Err("sub".into());
        }
        Ok(())
    }
}

/// Quotes `v` as an RFC 9110 `quoted-string`, escaping `"` and `\`.
pub fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Findings already reported against the core can be skipped while it is being fixed, so that
/// a run keeps looking for new ones: `FUZZ_ALLOW_KNOWN=name,name` (or `all`). Names are the
/// ones listed in fuzz/README.md. By default every property is checked.
pub fn allow_known(name: &str) -> bool {
    use std::sync::OnceLock;
    static ALLOWED: OnceLock<Vec<String>> = OnceLock::new();
    ALLOWED
        .get_or_init(|| {
            std::env::var("FUZZ_ALLOW_KNOWN")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .iter()
        .any(|a| a == name || a == "all")
}
