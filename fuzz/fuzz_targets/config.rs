//! `config.json`: arbitrary text, plus a structured variant that assembles a JSON object from
//! random URL parts so that the field checks are reached.
//!
//! Properties: no panic; on `Ok`, `authority` and `api.base_url` parse with `parse_absolute`,
//! are `https` or `http` on a loopback host (judged independently from the text), carry no
//! query, fragment or trailing slash; `redirect_uri` is the page origin followed by
//! `/auth/callback`, `post_logout_redirect_uri` starts with the origin followed by `/` or
//! nothing; the client id and both scopes are non-empty and free of whitespace; allowed
//! tenants are lower-case GUIDs.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use nimbus::config::{parse_config, CALLBACK_PATH};
use nimbus::url::parse_absolute;
use nimbus_fuzz::allow_known;
use serde_json::{json, Map, Value};

const ORIGIN: &str = "http://localhost:8080";

/// `https://…` or `http://` on localhost, 127.0.0.1 or [::1], read from the text itself.
fn secure_enough(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return true;
    }
    let Some(rest) = lower.strip_prefix("http://") else {
        return false;
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = if authority.starts_with('[') {
        let h = &authority[..authority.find(']').map_or(authority.len(), |i| i + 1)];
        if allow_known("url-bracketed-hostname") && h != "[::1]" {
            h.trim_start_matches('[').trim_end_matches(']')
        } else {
            h
        }
    } else {
        authority.split(':').next().unwrap_or("")
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

fn check_base(url: &str, what: &str) {
    let u = parse_absolute(url).unwrap_or_else(|| panic!("{what} {url:?} does not parse"));
    assert!(u.is_secure_enough(), "{what} {url:?} is not secure enough");
    assert!(
        secure_enough(url),
        "{what} {url:?}: neither https nor loopback http"
    );
    assert!(
        !u.has_query && !u.has_fragment,
        "{what} {url:?} has a query or fragment"
    );
    assert!(!url.ends_with('/'), "{what} {url:?} keeps a trailing slash");
    assert!(!url.contains(['?', '#']), "{what} {url:?}");
}

fn check(body: &str) {
    let Ok(c) = parse_config(body, ORIGIN) else {
        return;
    };
    check_base(&c.authority, "authority");
    check_base(&c.api.base_url, "api.base_url");
    // The URIs go to the identity provider verbatim, which compares them with the registered
    // ones: on this origin means spelled as this origin, not just equal once parsed.
    let spelled = |uri: &str| {
        if allow_known("config-uri-not-normalized") {
            parse_absolute(uri).map(|u| format!("{}{}", u.origin(), u.path))
        } else {
            Some(uri.to_owned())
        }
    };
    let redirect = spelled(&c.redirect_uri).expect("redirect_uri parses");
    assert_eq!(
        redirect.strip_prefix(ORIGIN),
        Some(CALLBACK_PATH),
        "redirect_uri {:?} is not {ORIGIN}{CALLBACK_PATH}",
        c.redirect_uri
    );
    let logout = spelled(&c.post_logout_redirect_uri).expect("post_logout_redirect_uri parses");
    let after = logout.strip_prefix(ORIGIN).unwrap_or_else(|| {
        panic!(
            "post_logout_redirect_uri {:?} is not on {ORIGIN}",
            c.post_logout_redirect_uri
        )
    });
    assert!(after.is_empty() || after.starts_with('/'), "{after:?}");
    assert!(!c.client_id.is_empty());
    assert!(c
        .client_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    for s in [&c.api.read_scope, &c.api.write_scope] {
        assert!(
            !s.is_empty() && !s.chars().any(char::is_whitespace),
            "scope {s:?}"
        );
    }
    assert_eq!(c.sign_in_scopes().last(), Some(&c.api.read_scope));
    for t in &c.allowed_tenants {
        assert!(nimbus_fuzz::is_guid(t), "allowed tenant {t:?}");
        assert_eq!(
            *t,
            t.to_ascii_lowercase(),
            "allowed tenant {t:?} not lower-cased"
        );
    }
}

#[derive(Arbitrary, Debug)]
enum Scheme {
    Https,
    Http,
    Upper,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Host {
    Localhost,
    Loopback4,
    Loopback6,
    Named,
    Upper,
    Other(String),
}

#[derive(Arbitrary, Debug)]
struct Url {
    scheme: Scheme,
    host: Host,
    port: Option<String>,
    path: String,
    trailing_slashes: u8,
    raw: Option<String>,
}

impl Url {
    fn render(&self) -> String {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let scheme = match &self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
            Scheme::Upper => "HTTP",
            Scheme::Other(s) => s,
        };
        let host = match &self.host {
            Host::Localhost => "localhost",
            Host::Loopback4 => "127.0.0.1",
            Host::Loopback6 => "[::1]",
            Host::Named => "login.microsoftonline.com",
            Host::Upper => "LocalHost",
            Host::Other(s) => s,
        };
        let port = self
            .port
            .as_deref()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let slashes = "/".repeat(usize::from(self.trailing_slashes % 4));
        format!("{scheme}://{host}{port}{}{slashes}", self.path)
    }
}

#[derive(Arbitrary, Debug)]
struct Doc {
    authority: Option<Url>,
    client_id: Option<String>,
    redirect_uri: Option<Url>,
    post_logout: Option<Url>,
    base_url: Option<Url>,
    read: Option<String>,
    write: Option<String>,
    api_scope_prefix: bool,
    tenants: Option<Vec<String>>,
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    if u.arbitrary::<bool>().unwrap_or(false) {
        let Ok(d) = Doc::arbitrary(&mut u) else {
            return;
        };
        let mut root = Map::new();
        let mut api = Map::new();
        let mut scopes = Map::new();
        let scope = |s: &String| {
            if d.api_scope_prefix {
                json!(format!("api://c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80/{s}"))
            } else {
                json!(s)
            }
        };
        root.insert(
            "authority".into(),
            json!(d.authority.as_ref().map_or(
                "https://login.microsoftonline.com/common/v2.0".to_owned(),
                Url::render
            )),
        );
        root.insert(
            "client_id".into(),
            json!(d
                .client_id
                .as_deref()
                .unwrap_or("0b7e4f52-6c1a-4d3e-8f29-5a1c7b9e3d64")),
        );
        if let Some(r) = &d.redirect_uri {
            root.insert("redirect_uri".into(), json!(r.render()));
        }
        if let Some(r) = &d.post_logout {
            root.insert("post_logout_redirect_uri".into(), json!(r.render()));
        }
        api.insert(
            "base_url".into(),
            json!(d
                .base_url
                .as_ref()
                .map_or("https://weather.example.com".to_owned(), Url::render)),
        );
        scopes.insert(
            "read".into(),
            d.read.as_ref().map_or(json!("api://x/weather.read"), scope),
        );
        scopes.insert(
            "write".into(),
            d.write
                .as_ref()
                .map_or(json!("api://x/weather.write"), scope),
        );
        api.insert("scopes".into(), Value::Object(scopes));
        if let Some(t) = &d.tenants {
            root.insert("allowed_tenants".into(), json!(t));
        }
        root.insert("api".into(), Value::Object(api));
        check(&Value::Object(root).to_string());
    } else if let Ok(body) = std::str::from_utf8(u.take_rest()) {
        check(body);
    }
});
