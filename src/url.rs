//! Small, strict URL helpers for the pure core: percent-encoding (RFC 3986 §2.1), query strings
//! (WHATWG `application/x-www-form-urlencoded`), absolute-URL parsing for configuration and
//! discovery, and sanitising of return paths after sign-in.
//!
//! Deliberately tiny instead of the `url` crate: the shipped size is a product metric, and the
//! client only ever needs these few operations.

/// Percent-encodes everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
pub fn encode_component(s: &str) -> String {
    encode(s, b".-_~")
}

/// Encodes one path segment: like [`encode_component`], but `.` is encoded too, so `.` and
/// `..` can never become dot-segments (RFC 3986 §5.2.4) that climb out of the route.
pub fn encode_path_segment(s: &str) -> String {
    encode(s, b"-_~")
}

fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        }
    }
    out
}

fn hex_digit(n: u8) -> char {
    char::from(b"0123456789ABCDEF"[usize::from(n & 0xf)])
}

/// Builds `k1=v1&k2=v2` with every key and value percent-encoded.
pub fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_component(k));
        out.push('=');
        out.push_str(&encode_component(v));
    }
    out
}

/// Appends query parameters to a URL that may already carry a query.
pub fn with_query<'a>(base: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let q = form_encode(pairs);
    if q.is_empty() {
        return base.to_owned();
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{q}")
}

/// Why a query string could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8 once decoded.
    BadEncoding(String),
    /// The same parameter more than once (RFC 6749 §3.1: parameters MUST NOT be repeated).
    Duplicate(String),
    /// Longer than [`MAX_QUERY_LEN`]: no authorization response is anywhere near it.
    TooLong,
}

/// The longest query [`parse_query`] reads. Entra's authorization responses (a code of a few
/// kilobytes, state, session_state, iss, or an error with its description) stay far below.
pub const MAX_QUERY_LEN: usize = 64 * 1024;

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
pub fn decode_component(s: &str) -> Option<String> {
    decode(s, true)
}

/// Decodes `%XX` escapes only (in a path, `+` is a plus).
pub fn percent_decode(s: &str) -> Option<String> {
    decode(s, false)
}

fn decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16))?;
                let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16))?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Parses a query string (with or without the leading `?`) into ordered pairs, rejecting
/// repeated parameter names, bad encodings and oversized queries. `O(n log n)`: names seen are
/// kept in a sorted set (no hash flooding).
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, QueryError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.len() > MAX_QUERY_LEN {
        return Err(QueryError::TooLong);
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let key = decode_component(k).ok_or_else(|| QueryError::BadEncoding(safe_name(k)))?;
        let value = decode_component(v).ok_or_else(|| QueryError::BadEncoding(key.clone()))?;
        if !seen.insert(key.clone()) {
            return Err(QueryError::Duplicate(key));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// A parameter name fit for an error message: short and printable.
fn safe_name(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect()
}

/// The parts of an absolute `http(s)` URL that the client reasons about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsoluteUrl {
    pub scheme: String,
    /// Lower-cased host, without brackets for IPv6.
    pub host: String,
    pub port: Option<u16>,
    /// The path, `""` or starting with `/`.
    pub path: String,
    pub has_query: bool,
    pub has_fragment: bool,
}

impl AbsoluteUrl {
    /// `scheme://host[:port]`, the web origin (RFC 6454) the browser compares.
    pub fn origin(&self) -> String {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) if p != default_port => format!("{}://{}:{}", self.scheme, host, p),
            _ => format!("{}://{}", self.scheme, host),
        }
    }

    /// Loopback hosts, where plain `http` is acceptable (RFC 8252 §8.3 reasoning; local sandboxes).
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host == "127.0.0.1" || self.host == "::1"
    }

    /// `https`, or `http` on a loopback host.
    pub fn is_secure_enough(&self) -> bool {
        self.scheme == "https" || (self.scheme == "http" && self.is_loopback())
    }
}

/// Parses an absolute `http`/`https` URL strictly: no userinfo, no whitespace or control
/// characters, no backslashes, a non-empty host and a numeric port.
pub fn parse_absolute(input: &str) -> Option<AbsoluteUrl> {
    if input.is_empty()
        || input.len() > 2048
        || input
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return None;
    }
    let (scheme, rest) = input.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        // Brackets are for IPv6 literals only (RFC 3986 §3.2.2).
        if !h.contains(':') {
            return None;
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (h.to_ascii_lowercase(), port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
    {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok()?)
        }
        Some(_) => return None,
    };
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let path = tail[..path_end].to_owned();
    let has_query = tail[path_end..].starts_with('?');
    let has_fragment = tail.contains('#');
    Some(AbsoluteUrl {
        scheme,
        host,
        port,
        path,
        has_query,
        has_fragment,
    })
}

/// Keeps a post-sign-in return path only if it is a same-origin relative path; anything else
/// (scheme-relative `//x`, backslashes, schemes such as `javascript:`, encoded slashes that
/// decode to `//`, whitespace, control characters, userinfo tricks) becomes `/`.
pub fn sanitize_return_path(candidate: &str) -> String {
    const HOME: &str = "/";
    if candidate.len() > 2048 || !candidate.starts_with('/') {
        return HOME.to_owned();
    }
    if candidate
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\' || c == '@')
    {
        return HOME.to_owned();
    }
    let path_end = candidate.find(['?', '#']).unwrap_or(candidate.len());
    let path = &candidate[..path_end];
    if path.starts_with("//") || path.contains(':') {
        return HOME.to_owned();
    }
    // A decoded view catches `/%2F%2Fevil.example`, `/%5Cevil.example` and friends.
    let lowered = path.to_ascii_lowercase();
    if lowered.contains("%2f") || lowered.contains("%5c") || lowered.contains("%00") {
        return HOME.to_owned();
    }
    match percent_decode(path) {
        Some(decoded)
            if !decoded.starts_with("//")
                && !decoded.contains(':')
                && !decoded.contains('\\')
                && !decoded.chars().any(|c| c.is_control() || c.is_whitespace())
                // `.`/`..` segments (raw or encoded) could resolve to `//host` once normalised.
                && !decoded.split('/').any(|seg| seg == "." || seg == "..") =>
        {
            candidate.to_owned()
        }
        _ => HOME.to_owned(),
    }
}

/// The app's base path from the document's base URL (`document.baseURI`, set by
/// `<base href>` in `index.html`): the folder that holds `index.html`, e.g. `/` or `/nimbus/`.
/// Always starts and ends with `/`; anything odd (another scheme, `//`, dot segments, encoded
/// slashes) falls back to `/`, the site root.
pub fn base_path_of(base_uri: &str) -> String {
    const ROOT: &str = "/";
    let Some(url) = parse_absolute(base_uri) else {
        return ROOT.to_owned();
    };
    let folder = match url.path.rfind('/') {
        Some(i) => &url.path[..=i],
        None => ROOT,
    };
    // The same rules as a return path: no way to name another origin or climb out.
    if sanitize_return_path(folder) == folder {
        folder.to_owned()
    } else {
        ROOT.to_owned()
    }
}

/// The base as `leptos_router`'s `<Router base>` wants it: no trailing slash, `""` at the root.
pub fn router_base(base_path: &str) -> String {
    base_path.trim_end_matches('/').to_owned()
}

/// A link to one of the app's routes (`/`, `/weather`, ...) for an app deployed at `base_path`:
/// `/nimbus/` + `/weather` is `/nimbus/weather`, and the home route is the base itself, with its
/// slash. (leptos_router 0.8's `<A>` takes an href that starts with `/` as it is, without its
/// `<Router base>`.)
pub fn route_href(base_path: &str, route: &str) -> String {
    format!("{base_path}{}", route.strip_prefix('/').unwrap_or(route))
}

/// Whether a path (no query or fragment) lies under `base_path`: the base itself, the base
/// without its trailing slash (`/nimbus` for `/nimbus/`, where leptos_router puts its home), or
/// anything inside it.
pub fn is_within(path: &str, base_path: &str) -> bool {
    path.starts_with(base_path) || path == base_path.trim_end_matches('/')
}

/// [`sanitize_return_path`], and the path must lie under the app's base path: anything else
/// (another app on the same origin, the site root above a sub-path deployment) becomes the base.
pub fn sanitize_return_path_within(candidate: &str, base_path: &str) -> String {
    let clean = sanitize_return_path(candidate);
    let path = &clean[..clean.find(['?', '#']).unwrap_or(clean.len())];
    if is_within(path, base_path) {
        clean
    } else {
        base_path.to_owned()
    }
}

/// Where to come back to after a sign-in, as a path on this site inside the base path.
/// `candidate` is a path as the address bar shows it (base included) or an absolute URL on
/// `origin` (what the callback hands the router); anything else becomes the base.
pub fn return_path_on(candidate: &str, origin: &str, base_path: &str) -> String {
    let path = candidate
        .strip_prefix(origin)
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(candidate);
    sanitize_return_path_within(path, base_path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_queries_are_refused_and_big_ones_parse_in_linear_time() {
        // ~410 KB of distinct names: the old pairwise duplicate check took 35 s on this.
        let mut big = String::new();
        let mut n = 0;
        while big.len() < MAX_QUERY_LEN - 32 {
            big.push_str(&format!("p{n}=v&"));
            n += 1;
        }
        let started = std::time::Instant::now();
        let pairs = parse_query(&big).unwrap();
        assert_eq!(pairs.len(), n);
        let mut huge = big.clone();
        while huge.len() < 410 * 1024 {
            huge.push_str(&format!("q{n}=v&"));
            n += 1;
        }
        assert_eq!(parse_query(&huge), Err(QueryError::TooLong));
        // A guard against quadratic reading (the old pairwise check took 35.8 s on a 410 KB
        // query), not a benchmark: this takes milliseconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        // A repeat far down the query is still found.
        big.push_str("p7=again");
        assert_eq!(parse_query(&big), Err(QueryError::Duplicate("p7".into())));
    }

    use super::*;

    #[test]
    fn encodes_a_city_as_one_path_segment() {
        assert_eq!(encode_path_segment("São Paulo"), "S%C3%A3o%20Paulo");
        assert_eq!(encode_path_segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(encode_path_segment(".."), "%2E%2E");
        assert_eq!(encode_path_segment("<b>"), "%3Cb%3E");
        assert_eq!(encode_path_segment("AZaz09-_~"), "AZaz09-_~");
        assert_eq!(encode_component("a.b c"), "a.b%20c");
    }

    #[test]
    fn query_round_trips_and_rejects_duplicates() {
        let q = form_encode([("a b", "c&d"), ("e", "ü")]);
        assert_eq!(
            parse_query(&q).unwrap(),
            vec![("a b".into(), "c&d".into()), ("e".into(), "ü".into())]
        );
        assert_eq!(
            parse_query("?state=1&code=2&state=3"),
            Err(QueryError::Duplicate("state".into()))
        );
        assert!(matches!(
            parse_query("code=%zz"),
            Err(QueryError::BadEncoding(_))
        ));
        assert!(matches!(
            parse_query("code=%ff"),
            Err(QueryError::BadEncoding(_))
        ));
        assert_eq!(parse_query("").unwrap(), vec![]);
        assert_eq!(
            parse_query("flag").unwrap(),
            vec![("flag".into(), "".into())]
        );
    }

    #[test]
    fn appends_to_an_existing_query() {
        assert_eq!(with_query("https://x/a", [("k", "v")]), "https://x/a?k=v");
        assert_eq!(
            with_query("https://x/a?p=1", [("k", "v")]),
            "https://x/a?p=1&k=v"
        );
    }

    #[test]
    fn parses_absolute_urls_strictly() {
        let u = parse_absolute("https://Login.Microsoftonline.com/tenant/v2.0").unwrap();
        assert_eq!(u.host, "login.microsoftonline.com");
        assert_eq!(u.path, "/tenant/v2.0");
        assert_eq!(u.origin(), "https://login.microsoftonline.com");
        let l = parse_absolute("http://localhost:5556/x").unwrap();
        assert_eq!(l.origin(), "http://localhost:5556");
        assert!(l.is_secure_enough());
        assert!(!parse_absolute("http://example.com/")
            .unwrap()
            .is_secure_enough());
        assert_eq!(
            parse_absolute("https://example.com:443").unwrap().origin(),
            "https://example.com"
        );
        assert_eq!(
            parse_absolute("http://[::1]:8080/").unwrap().origin(),
            "http://[::1]:8080"
        );
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "https://user@example.com/",
            "https://exa mple.com",
            "https://example.com:99999",
            "https://example.com:abc",
            "https:///path",
            "javascript://alert(1)%0a",
            "https://ex\\ample.com",
            "http://[localhost]:8080/",
            "https://[evil.example]/",
        ] {
            let parsed = parse_absolute(bad);
            assert!(
                parsed.is_none() || bad.starts_with("javascript"),
                "accepted {bad:?}"
            );
        }
        assert!(parse_absolute("javascript://alert(1)").is_none());
    }

    #[test]
    fn return_paths_stay_on_this_origin() {
        for good in [
            "/",
            "/a+b",
            "/weather",
            "/weather?city=Paris",
            "/a/b#frag",
            "/caf%C3%A9",
        ] {
            assert_eq!(sanitize_return_path(good), good);
        }
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/javascript:alert(1)",
            " /weather",
            "/weather\n",
            "/\tevil",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%09/evil.example",
            "/@evil.example",
            "weather",
            "",
            "/\u{0}",
            "/%00",
            "/..//evil.example",
            "/%2e%2e//evil.example",
            "/a/../..//evil.example",
            "/./weather",
            "/%2E/x",
            "/%3A",
            "/x%3ay",
        ] {
            assert_eq!(sanitize_return_path(evil), "/", "{evil:?} was accepted");
        }
    }

    #[test]
    fn the_base_path_is_the_folder_of_the_base_url() {
        for (uri, base) in [
            ("http://localhost:8080/", "/"),
            ("http://localhost:8080", "/"),
            ("http://localhost:8086/nimbus/", "/nimbus/"),
            ("http://localhost:8086/nimbus/index.html", "/nimbus/"),
            ("https://user.github.io/repo/weather", "/repo/"),
            ("https://x.example/a/b/?q=1#f", "/a/b/"),
            ("https://x.example/caf%C3%A9/", "/caf%C3%A9/"),
        ] {
            assert_eq!(base_path_of(uri), base, "{uri}");
        }
        for odd in [
            "",
            "about:blank",
            "file:///srv/nimbus/",
            "http://localhost:8080//evil.example/",
            "http://localhost:8080/a/../",
            "http://localhost:8080/%2F%2Fevil.example/",
            "http://localhost:8080/a:b/",
        ] {
            assert_eq!(base_path_of(odd), "/", "{odd:?}");
        }
        assert_eq!(route_href("/", "/"), "/");
        assert_eq!(route_href("/", "/weather"), "/weather");
        assert_eq!(route_href("/nimbus/", "/"), "/nimbus/");
        assert_eq!(route_href("/nimbus/", "/weather"), "/nimbus/weather");
        assert_eq!(router_base("/"), "");
        assert_eq!(router_base("/nimbus/"), "/nimbus");
    }

    #[test]
    fn return_paths_stay_inside_the_base_path() {
        for good in [
            "/nimbus/",
            "/nimbus",
            "/nimbus/weather",
            "/nimbus/weather?city=Paris#now",
            "/nimbus?x=1",
        ] {
            assert_eq!(sanitize_return_path_within(good, "/nimbus/"), good);
        }
        for outside in [
            "/",
            "/weather",
            "/nimbusfoo",
            "/nimbus-other/weather",
            "/other/nimbus/",
            "//evil.example/nimbus/",
            "/nimbus/../weather",
            "/nimbus/%2e%2e/weather",
            "https://evil.example/nimbus/",
            "nimbus/weather",
        ] {
            assert_eq!(
                sanitize_return_path_within(outside, "/nimbus/"),
                "/nimbus/",
                "{outside:?} left the base"
            );
        }
        // An absolute URL on this origin, as the callback hands it to the router.
        let on = |c| return_path_on(c, "http://localhost:8086", "/nimbus/");
        assert_eq!(
            on("http://localhost:8086/nimbus/weather?x=1"),
            "/nimbus/weather?x=1"
        );
        assert_eq!(on("/nimbus/weather"), "/nimbus/weather");
        assert_eq!(on("http://localhost:8086/weather"), "/nimbus/");
        assert_eq!(on("http://localhost:8086.evil.example/nimbus/"), "/nimbus/");
        assert_eq!(on("http://localhost:80861/nimbus/"), "/nimbus/");
        assert_eq!(on("http://evil.example/nimbus/"), "/nimbus/");
        // At the root, exactly the plain rules.
        assert_eq!(sanitize_return_path_within("/weather", "/"), "/weather");
        assert_eq!(sanitize_return_path_within("//evil.example", "/"), "/");
    }
}
