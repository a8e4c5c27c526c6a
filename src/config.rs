//! Runtime configuration (`config.json` beside `index.html`): one build serves any tenant and
//! environment. Every field is checked, and a problem names the field at fault.

use serde::Deserialize;
use serde_json::Value;

use crate::url::parse_absolute;
use crate::wire::{self, Member};

/// Where the app's router finishes a sign-in (a route, below the base path); the redirect URI
/// must point here.
pub const CALLBACK_PATH: &str = "/auth/callback";

/// The callback's path on the site for an app deployed at `base_path` (`/` or e.g. `/nimbus/`).
pub fn callback_path_in(base_path: &str) -> String {
    format!("{}{}", base_path.trim_end_matches('/'), CALLBACK_PATH)
}

/// The weather API this client calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Origin (and optional path prefix) of the API, without a trailing slash.
    pub base_url: String,
    /// e.g. `api://{api client id}/weather.read`
    pub read_scope: String,
    /// e.g. `api://{api client id}/weather.write`
    pub write_scope: String,
}

/// The checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// e.g. `https://login.microsoftonline.com/{tenant}/v2.0`, without a trailing slash.
    pub authority: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
    /// Where the app is deployed on its origin: `/`, or a sub-path such as `/nimbus/` (always
    /// with both slashes). Read from `index.html`'s `<base href>` at run time, not config.json.
    pub base_path: String,
    pub api: ApiConfig,
    /// When not empty, only these tenant ids may sign in (multi-tenant authorities).
    pub allowed_tenants: Vec<String>,
}

impl Config {
    /// Scopes asked for at sign-in: OIDC, a refresh token, and the API's read scope.
    pub fn sign_in_scopes(&self) -> Vec<String> {
        vec![
            "openid".into(),
            "profile".into(),
            "offline_access".into(),
            self.api.read_scope.clone(),
        ]
    }

    /// The origins this app talks to besides its own: the authority's and the API's.
    pub fn remote_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = [&self.authority, &self.api.base_url]
            .into_iter()
            .filter_map(|u| parse_absolute(u).map(|u| u.origin()))
            .collect();
        origins.dedup();
        origins
    }

    /// The policy this configuration adds at start-up to the one `index.html` ships (CSP3 §8.1:
    /// every policy in force must allow a request, so a second policy can only narrow the first):
    /// connections only to this site, the authority and the API.
    pub fn connect_policy(&self) -> String {
        format!("connect-src 'self' {}", self.remote_origins().join(" "))
    }

    /// `{authority}/.well-known/openid-configuration` (OIDC Discovery §4).
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.authority)
    }
}

/// Which field is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub problem: String,
}

impl ConfigError {
    fn new(field: &str, problem: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    pub fn message(&self) -> String {
        if self.field.is_empty() {
            format!("config.json {}", self.problem)
        } else {
            format!("config.json: \"{}\" {}", self.field, self.problem)
        }
    }
}

/// `config.json` as written. Each member is read as whatever it is, so that a problem names
/// the field at fault (a derived `String` would only say "invalid type").
#[derive(Deserialize)]
struct RawConfig {
    authority: Option<Value>,
    client_id: Option<Value>,
    redirect_uri: Option<Value>,
    post_logout_redirect_uri: Option<Value>,
    #[serde(default)]
    api: Member<RawApi>,
    allowed_tenants: Option<Value>,
}

#[derive(Deserialize)]
struct RawApi {
    base_url: Option<Value>,
    #[serde(default)]
    scopes: Member<RawScopes>,
}

#[derive(Deserialize)]
struct RawScopes {
    read: Option<Value>,
    write: Option<Value>,
}

/// An optional string member: absent or `null` is `None`.
fn string<'a>(value: &'a Option<Value>, field: &str) -> Result<Option<&'a str>, ConfigError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(ConfigError::new(field, "is empty")),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(ConfigError::new(field, "must be a string")),
    }
}

fn required<'a>(value: &'a Option<Value>, field: &str) -> Result<&'a str, ConfigError> {
    string(value, field)?.ok_or_else(|| ConfigError::new(field, "is missing"))
}

/// A section that must be an object.
fn section<T>(member: Member<T>, field: &str) -> Result<T, ConfigError> {
    match member {
        Member::Object(t) => Ok(t),
        Member::Other => Err(ConfigError::new(field, "must be an object")),
        Member::Absent => Err(ConfigError::new(field, "is missing")),
    }
}

fn url_field(value: &str, field: &str) -> Result<String, ConfigError> {
    let u = parse_absolute(value).ok_or_else(|| {
        ConfigError::new(
            field,
            format!("must be an absolute https URL (got \"{}\")", shorten(value)),
        )
    })?;
    if !u.is_secure_enough() {
        return Err(ConfigError::new(
            field,
            "must use https (plain http is allowed only for localhost)",
        ));
    }
    if u.has_query || u.has_fragment {
        return Err(ConfigError::new(
            field,
            "must not contain a query or fragment",
        ));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn shorten(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(80).collect()
}

fn scope_field(value: &str, field: &str) -> Result<String, ConfigError> {
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::new(
            field,
            "must be a single scope without spaces",
        ));
    }
    if crate::auth::session::resource_of(value).is_none() {
        return Err(ConfigError::new(
            field,
            "must be an API scope such as api://{api-client-id}/weather.read",
        ));
    }
    Ok(value.to_owned())
}

/// Parses `config.json` for an app at the root of `origin` (the page's origin, for the redirect
/// URI defaults).
pub fn parse_config(body: &str, origin: &str) -> Result<Config, ConfigError> {
    parse_config_at(body, origin, "/")
}

/// Parses `config.json` for an app deployed at `base_path` on `origin` (see
/// [`crate::url::base_path_of`]): the redirect URIs default to, and must stay under, the base.
pub fn parse_config_at(body: &str, origin: &str, base_path: &str) -> Result<Config, ConfigError> {
    if wire::too_large(body) {
        return Err(ConfigError::new(
            "",
            format!("is too large (over {} MiB)", wire::MAX_BODY_BYTES >> 20),
        ));
    }
    let not_json = |e: serde_json::Error| {
        ConfigError::new(
            "",
            format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column().max(1)
            ),
        )
    };
    if wire::check(body).map_err(not_json)? != wire::Shape::Object {
        return Err(ConfigError::new("", "must be a JSON object"));
    }
    let raw: RawConfig = serde_json::from_str(body).map_err(not_json)?;

    let authority = url_field(required(&raw.authority, "authority")?, "authority")?;
    let client_id = required(&raw.client_id, "client_id")?;
    if client_id
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(ConfigError::new(
            "client_id",
            "must be the application (client) ID, e.g. a GUID",
        ));
    }
    let callback_path = callback_path_in(base_path);
    // Kept as origin + path, spelled exactly like the page's origin: the provider compares
    // redirect URIs as strings.
    // The path as written, trailing slash included (`{origin}/nimbus/` is not `{origin}/nimbus`
    // to the provider); an empty path is `/`, as browsers spell it.
    let same_origin = |value: &str, field: &str| -> Result<String, ConfigError> {
        url_field(value, field)?;
        match parse_absolute(value) {
            Some(u) if u.origin() == origin => {
                let path = if u.path.is_empty() { "/" } else { &u.path };
                Ok(format!("{}{path}", u.origin()))
            }
            _ => Err(ConfigError::new(
                field,
                format!("must be on this site's origin ({origin})"),
            )),
        }
    };
    let redirect_uri = match string(&raw.redirect_uri, "redirect_uri")? {
        Some(v) => {
            let uri = same_origin(v, "redirect_uri")?;
            if parse_absolute(&uri).map(|u| u.path) != Some(callback_path.clone()) {
                return Err(ConfigError::new(
                    "redirect_uri",
                    format!("must be {origin}{callback_path}, where the app finishes sign-in"),
                ));
            }
            uri
        }
        None => format!("{origin}{callback_path}"),
    };
    // Anywhere on this origin (e.g. a "signed out" page beside the app); the app's own home
    // by default.
    let post_logout_redirect_uri =
        match string(&raw.post_logout_redirect_uri, "post_logout_redirect_uri")? {
            Some(v) => same_origin(v, "post_logout_redirect_uri")?,
            None => format!("{origin}{base_path}"),
        };

    let api = section(raw.api, "api")?;
    let base_url = url_field(required(&api.base_url, "api.base_url")?, "api.base_url")?;
    let scopes = section(api.scopes, "api.scopes")?;
    let read_scope = scope_field(
        required(&scopes.read, "api.scopes.read")?,
        "api.scopes.read",
    )?;
    let write_scope = scope_field(
        required(&scopes.write, "api.scopes.write")?,
        "api.scopes.write",
    )?;

    let allowed_tenants = match &raw.allowed_tenants {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| match t.as_str() {
                Some(t) if crate::auth::discovery::is_tenant_id(t) => Ok(t.to_ascii_lowercase()),
                _ => Err(ConfigError::new(
                    "allowed_tenants",
                    "must list tenant ids (GUIDs)",
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ConfigError::new(
                "allowed_tenants",
                "must be a list of tenant ids",
            ))
        }
    };

    Ok(Config {
        allowed_tenants,
        authority,
        client_id: client_id.to_owned(),
        redirect_uri,
        post_logout_redirect_uri,
        base_path: base_path.to_owned(),
        api: ApiConfig {
            base_url,
            read_scope,
            write_scope,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::Value;

    const ORIGIN: &str = "http://localhost:8080";

    fn sample() -> Value {
        serde_json::json!({
            "authority": "https://login.microsoftonline.com/3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90/v2.0/",
            "client_id": "0b7e4f52-6c1a-4d3e-8f29-5a1c7b9e3d64",
            "api": {
                "base_url": "https://weather.example.com/",
                "scopes": {
                    "read": "api://c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80/weather.read",
                    "write": "api://c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80/weather.write"
                }
            }
        })
    }

    fn parse(v: &Value) -> Result<Config, ConfigError> {
        parse_config(&v.to_string(), ORIGIN)
    }

    fn field_of(v: &Value) -> String {
        parse(v).unwrap_err().field
    }

    #[test]
    fn redirect_uris_follow_the_base_path() {
        let at = |v: &Value| parse_config_at(&v.to_string(), ORIGIN, "/nimbus/");
        let c = at(&sample()).unwrap();
        assert_eq!(c.redirect_uri, "http://localhost:8080/nimbus/auth/callback");
        assert_eq!(c.post_logout_redirect_uri, "http://localhost:8080/nimbus/");
        assert_eq!(c.base_path, "/nimbus/");
        assert_eq!(callback_path_in("/nimbus/"), "/nimbus/auth/callback");
        assert_eq!(callback_path_in("/"), "/auth/callback");

        let mut v = sample();
        v["redirect_uri"] = "http://localhost:8080/nimbus/auth/callback".into();
        assert!(at(&v).is_ok());
        // The callback of another base (or of the root) is a route this app never sees.
        for elsewhere in [
            "http://localhost:8080/auth/callback",
            "http://localhost:8080/other/auth/callback",
            "http://localhost:8080/nimbus/nimbus/auth/callback",
        ] {
            v["redirect_uri"] = elsewhere.into();
            let e = at(&v).unwrap_err();
            assert_eq!(e.field, "redirect_uri");
            assert!(
                e.message()
                    .contains("http://localhost:8080/nimbus/auth/callback"),
                "{}",
                e.message()
            );
        }
        // As registered: the trailing slash stays (and the root gets one).
        let mut v = sample();
        v["post_logout_redirect_uri"] = "http://localhost:8080/nimbus/".into();
        assert_eq!(
            at(&v).unwrap().post_logout_redirect_uri,
            "http://localhost:8080/nimbus/"
        );
        v["post_logout_redirect_uri"] = "http://localhost:8080".into();
        assert_eq!(
            at(&v).unwrap().post_logout_redirect_uri,
            "http://localhost:8080/"
        );
        let mut v = sample();
        v["post_logout_redirect_uri"] = "http://localhost:8080/signed-out.html".into();
        assert_eq!(
            at(&v).unwrap().post_logout_redirect_uri,
            "http://localhost:8080/signed-out.html"
        );
    }

    #[test]
    fn reads_a_valid_config_with_defaults() {
        let c = parse(&sample()).unwrap();
        assert_eq!(
            c.authority,
            "https://login.microsoftonline.com/3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90/v2.0"
        );
        assert_eq!(c.redirect_uri, "http://localhost:8080/auth/callback");
        assert_eq!(c.post_logout_redirect_uri, "http://localhost:8080/");
        assert_eq!(c.api.base_url, "https://weather.example.com");
        assert_eq!(c.sign_in_scopes().last().unwrap(), &c.api.read_scope);
        assert!(c
            .discovery_url()
            .ends_with("/v2.0/.well-known/openid-configuration"));
    }

    #[test]
    fn the_start_up_policy_allows_exactly_the_authority_and_the_api() {
        let c = parse(&sample()).unwrap();
        assert_eq!(
            c.connect_policy(),
            "connect-src 'self' https://login.microsoftonline.com https://weather.example.com"
        );
        // One origin for both: named once.
        let mut v = sample();
        v["api"]["base_url"] = "https://login.microsoftonline.com/weather".into();
        assert_eq!(
            parse(&v).unwrap().connect_policy(),
            "connect-src 'self' https://login.microsoftonline.com"
        );
        // A sandbox on loopback keeps its port.
        let shipped = parse_config(include_str!("../public/config.json"), ORIGIN).unwrap();
        assert_eq!(
            shipped.connect_policy(),
            "connect-src 'self' http://localhost:5556 http://localhost:5557"
        );
    }

    #[test]
    fn the_shipped_config_is_valid() {
        let shipped = include_str!("../public/config.json");
        parse_config(shipped, ORIGIN).unwrap();
    }

    #[test]
    fn names_the_field_at_fault() {
        let mut v = sample();
        v.as_object_mut().unwrap().remove("client_id");
        assert_eq!(field_of(&v), "client_id");
        assert_eq!(
            parse(&v).unwrap_err().message(),
            "config.json: \"client_id\" is missing"
        );

        let mut v = sample();
        v["authority"] = "not a url".into();
        assert_eq!(field_of(&v), "authority");

        let mut v = sample();
        v["authority"] = "http://login.example.com/t/v2.0".into();
        assert!(parse(&v).unwrap_err().problem.contains("https"));

        let mut v = sample();
        v["api"]["base_url"] = 42.into();
        assert_eq!(field_of(&v), "api.base_url");

        let mut v = sample();
        v["api"]["scopes"]["read"] = "weather read".into();
        assert_eq!(field_of(&v), "api.scopes.read");

        let mut v = sample();
        v["api"]["scopes"]["write"] = "openid".into();
        assert_eq!(field_of(&v), "api.scopes.write");

        let mut v = sample();
        v["redirect_uri"] = "https://evil.example/auth/callback".into();
        assert_eq!(field_of(&v), "redirect_uri");

        let mut v = sample();
        v["redirect_uri"] = "http://localhost:8080/callback".into();
        assert_eq!(field_of(&v), "redirect_uri");

        let mut v = sample();
        v["redirect_uri"] = "http://localhost:8080/auth/callback".into();
        assert!(parse(&v).is_ok());

        for spelled in [
            "http://LOCALHOST:8080/auth/callback",
            "HTTP://localhost:8080/auth/callback",
            "http://localhost:08080/auth/callback",
        ] {
            let mut v = sample();
            v["redirect_uri"] = spelled.into();
            assert_eq!(
                parse(&v).unwrap().redirect_uri,
                "http://localhost:8080/auth/callback",
                "{spelled}"
            );
        }

        let mut v = sample();
        v["post_logout_redirect_uri"] = "".into();
        assert_eq!(field_of(&v), "post_logout_redirect_uri");

        let mut v = sample();
        v.as_object_mut().unwrap().remove("api");
        assert_eq!(field_of(&v), "api");

        let mut v = sample();
        v["api"]["scopes"] = serde_json::json!([]);
        assert_eq!(field_of(&v), "api.scopes");

        let mut v = sample();
        v["allowed_tenants"] = serde_json::json!(["not-a-guid"]);
        assert_eq!(field_of(&v), "allowed_tenants");

        let mut v = sample();
        v["allowed_tenants"] = serde_json::json!(["3F8D0C2A-5B1E-4C7D-9A6F-2E4B8C1D7A90"]);
        assert_eq!(
            parse(&v).unwrap().allowed_tenants,
            ["3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90"]
        );

        let mut v = sample();
        v["client_id"] = "abc\"<script>".into();
        assert_eq!(field_of(&v), "client_id");
    }

    #[test]
    fn rejects_non_objects_and_bad_json() {
        assert!(parse_config("", ORIGIN)
            .unwrap_err()
            .problem
            .contains("not valid JSON"));
        assert!(parse_config("[1]", ORIGIN)
            .unwrap_err()
            .problem
            .contains("object"));
        assert!(parse_config("<!doctype html>", ORIGIN).is_err());
        assert_eq!(
            parse_config("{\n  \"a\": x\n}", ORIGIN)
                .unwrap_err()
                .message(),
            "config.json is not valid JSON (line 2, column 8)"
        );
        assert_eq!(
            parse_config("", ORIGIN).unwrap_err().message(),
            "config.json is not valid JSON (line 1, column 1)"
        );
    }

    #[test]
    fn sections_must_be_objects_even_when_null() {
        let mut v = sample();
        v["api"] = Value::Null;
        assert_eq!(
            parse(&v).unwrap_err().message(),
            "config.json: \"api\" must be an object"
        );
        let mut v = sample();
        v["api"]["scopes"] = "read write".into();
        assert_eq!(
            parse(&v).unwrap_err().message(),
            "config.json: \"api.scopes\" must be an object"
        );
        let mut v = sample();
        v["client_id"] = Value::Null;
        assert_eq!(
            parse(&v).unwrap_err().message(),
            "config.json: \"client_id\" is missing"
        );
        let mut v = sample();
        v["allowed_tenants"] = Value::Null;
        assert!(parse(&v).unwrap().allowed_tenants.is_empty());
        let mut v = sample();
        v["allowed_tenants"] = "3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90".into();
        assert_eq!(field_of(&v), "allowed_tenants");
    }

    #[test]
    fn refuses_repeated_names_and_oversized_files() {
        let text = sample().to_string();
        // A repeated member, known or not, at any depth.
        for (from, to) in [
            ("{", r#"{"client_id":"x","#),
            ("{", r#"{"unknown":1,"unknown":2,"#),
            (r#""scopes":{"#, r#""scopes":{"read":"api://x/y","#),
        ] {
            let twice = text.replacen(from, to, 1);
            assert!(
                parse_config(&twice, ORIGIN)
                    .unwrap_err()
                    .problem
                    .contains("not valid JSON"),
                "{twice}"
            );
        }
        let padded = format!("{}{}", " ".repeat(crate::wire::MAX_BODY_BYTES), text);
        assert_eq!(
            parse_config(&padded, ORIGIN).unwrap_err().message(),
            "config.json is too large (over 1 MiB)"
        );
    }
}
