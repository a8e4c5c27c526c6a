//! The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1) and the
//! pending sign-in that this tab keeps until the response comes back.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::pkce::{challenge_s256, SignInSecrets};
use super::secret::{Nonce, PkceVerifier, Secret, State};
use crate::url::{sanitize_return_path, with_query};

/// A pending sign-in older than this is refused (oidc-client-ts uses the same 15 minutes).
pub const PENDING_MAX_AGE_SECS: u64 = 15 * 60;

/// Everything the callback needs to finish the sign-in this tab started. Kept in
/// sessionStorage and removed the moment a callback reads it, whatever happens next.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingSignIn {
    #[serde(serialize_with = "crate::auth::secret::exposed")]
    pub state: State,
    #[serde(serialize_with = "crate::auth::secret::exposed")]
    pub nonce: Nonce,
    #[serde(serialize_with = "crate::auth::secret::exposed")]
    pub verifier: PkceVerifier,
    /// Same-origin path to land on afterwards (sanitised again when used).
    pub return_to: String,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    /// A `prompt=none` attempt: its failure asks the user to sign in again, nothing more.
    #[serde(default)]
    pub silent: bool,
    /// What the user was doing, to finish after coming back (e.g. a report to post). Opaque to
    /// the core; kept here, never in the URL.
    pub resume: Option<String>,
    /// Who was signed in when the action was interrupted: it is finished only for them.
    pub resume_for: Option<String>,
}

/// What a sign-in asks for.
#[derive(Debug, Clone)]
pub struct SignInRequest<'a> {
    pub authorization_endpoint: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub return_to: &'a str,
    /// `prompt` (OIDC Core §3.1.2.1), e.g. `none` for a silent attempt.
    pub prompt: Option<&'a str>,
    /// A hint of who is signing in, e.g. the current account's username on re-authentication.
    pub login_hint: Option<&'a str>,
    /// The `claims` request parameter (OIDC Core §5.5), e.g. from a CAE challenge.
    pub claims: Option<&'a str>,
    /// Carried through the round trip in the pending sign-in.
    pub resume: Option<String>,
    /// The `sub` of the account the action belongs to.
    pub resume_for: Option<String>,
}

/// Builds the full-page redirect URL and the pending sign-in to store before leaving.
pub fn begin_sign_in(
    req: &SignInRequest<'_>,
    random: &[u8; 96],
    now: u64,
) -> (String, PendingSignIn) {
    let SignInSecrets {
        verifier,
        state,
        nonce,
    } = SignInSecrets::from_random(random);
    let scope = req.scopes.join(" ");
    let challenge = challenge_s256(&verifier);
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", req.client_id),
        ("response_type", "code"),
        ("redirect_uri", req.redirect_uri),
        ("scope", &scope),
        ("state", state.expose()),
        ("nonce", nonce.expose()),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("response_mode", "query"),
    ];
    if let Some(p) = req.prompt {
        params.push(("prompt", p));
    }
    if let Some(h) = req.login_hint {
        params.push(("login_hint", h));
    }
    if let Some(c) = req.claims {
        params.push(("claims", c));
    }
    let url = with_query(req.authorization_endpoint, params.iter().copied());
    let pending = PendingSignIn {
        state,
        nonce,
        verifier,
        return_to: sanitize_return_path(req.return_to),
        created_at: now,
        redirect_uri: req.redirect_uri.to_owned(),
        scopes: req.scopes.to_vec(),
        silent: req.prompt == Some("none"),
        resume: req.resume.clone(),
        resume_for: req.resume_for.clone(),
    };
    (url, pending)
}

/// The sign-out URL, as Entra documents its logout endpoint and MSAL.js uses it: a top-level
/// GET with `post_logout_redirect_uri` and `client_id`, plus `logout_hint` (the ID token's
/// `login_hint` claim) when there is one (OIDC RP-Initiated Logout §2–3). No token ever goes
/// into this URL: `id_token_hint` is not sent.
pub fn end_session_url(
    end_session_endpoint: &str,
    client_id: &str,
    post_logout_redirect_uri: &str,
    logout_hint: Option<&str>,
) -> String {
    let mut params = vec![
        ("post_logout_redirect_uri", post_logout_redirect_uri),
        ("client_id", client_id),
    ];
    if let Some(hint) = logout_hint {
        params.push(("logout_hint", hint));
    }
    with_query(end_session_endpoint, params)
}

/// Client capabilities this app declares at sign-in (Entra's `xms_cc`): `cp1` says it can
/// handle continuous-access-evaluation claims challenges, so Entra may issue CAE-enabled tokens
/// and send `insufficient_claims` challenges. MSAL.js sends the same for
/// `clientCapabilities: ["CP1"]`.
pub const CLIENT_CAPABILITIES: &str = r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#;

/// The `claims` request parameter (OIDC Core §5.5) for a sign-in: the client capabilities,
/// merged into a claims challenge's request when there is one (as MSAL.js does). A challenge
/// that can't be read as a JSON object is sent as it came: the provider knows what it asked for.
/// Members are kept in their order and their values verbatim; only the `access_token` object
/// gains `xms_cc`.
pub fn claims_request(challenge: Option<&str>) -> String {
    let Some(challenge) = challenge else {
        return CLIENT_CAPABILITIES.to_owned();
    };
    merge_capabilities(challenge).unwrap_or_else(|| challenge.to_owned())
}

fn merge_capabilities(challenge: &str) -> Option<String> {
    crate::wire::check(challenge).ok()?;
    let Members(mut request) = serde_json::from_str(challenge).ok()?;
    let capabilities = || RawValue::from_string(r#"{"values":["cp1"]}"#.to_owned());
    match request.iter_mut().find(|(k, _)| k == "access_token") {
        Some((_, access)) => {
            let Members(mut members) = serde_json::from_str(access.get()).ok()?;
            if members.iter().any(|(k, _)| k == "xms_cc") {
                return Some(challenge.to_owned());
            }
            members.push(("xms_cc".into(), capabilities().ok()?));
            *access = serde_json::value::to_raw_value(&Members(members)).ok()?;
        }
        None => {
            let access = Members(vec![("xms_cc".into(), capabilities().ok()?)]);
            request.push((
                "access_token".into(),
                serde_json::value::to_raw_value(&access).ok()?,
            ));
        }
    }
    serde_json::to_string(&Members(request)).ok()
}

/// A JSON object's members in document order, each value as written. Read only from text that
/// `wire::check` passed, so the names are unique.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }

        d.deserialize_map(MembersVisitor)
    }
}

impl Serialize for Members {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::parse_query;

    fn request(scopes: &[String]) -> SignInRequest<'_> {
        SignInRequest {
            authorization_endpoint: "https://login.example/t/oauth2/v2.0/authorize",
            client_id: "client-1",
            redirect_uri: "http://localhost:8080/auth/callback",
            scopes,
            return_to: "/weather",
            prompt: None,
            login_hint: None,
            claims: None,
            resume: None,
            resume_for: None,
        }
    }

    #[test]
    fn authorization_url_carries_pkce_state_nonce_and_scopes() {
        let scopes = vec![
            "openid".to_owned(),
            "profile".into(),
            "offline_access".into(),
            "api://x/weather.read".into(),
        ];
        let mut random = [0u8; 96];
        for (i, b) in random.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31);
        }
        let (url, pending) = begin_sign_in(&request(&scopes), &random, 1_000);
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "https://login.example/t/oauth2/v2.0/authorize");
        let q = parse_query(query).unwrap();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("client_id"), Some("client-1"));
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(
            get("redirect_uri"),
            Some("http://localhost:8080/auth/callback")
        );
        assert_eq!(
            get("scope"),
            Some("openid profile offline_access api://x/weather.read")
        );
        assert_eq!(get("state"), Some(pending.state.expose()));
        assert_eq!(get("nonce"), Some(pending.nonce.expose()));
        assert_eq!(
            get("code_challenge"),
            Some(challenge_s256(&pending.verifier).as_str())
        );
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("response_mode"), Some("query"));
        assert_eq!(get("prompt"), None);
        assert!(
            !url.contains(pending.verifier.expose()),
            "the verifier never leaves the tab"
        );
        assert_eq!(pending.return_to, "/weather");
        assert_eq!(pending.created_at, 1_000);
    }

    #[test]
    fn adds_prompt_and_login_hint_when_asked() {
        let scopes = vec!["openid".to_owned()];
        let mut r = request(&scopes);
        r.prompt = Some("none");
        r.login_hint = Some("alice@nimbus.test");
        r.claims = Some(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#);
        r.resume = Some("{\"report\":1}".into());
        let (url, pending) = begin_sign_in(&r, &[1u8; 96], 0);
        assert!(url.contains("&prompt=none"));
        assert!(url.contains("&login_hint=alice%40nimbus.test"));
        assert!(url.contains("&claims=%7B%22access_token%22"));
        assert!(pending.silent);
        assert!(
            !url.contains("report"),
            "resume data never goes into the URL"
        );
        assert_eq!(pending.resume.as_deref(), Some("{\"report\":1}"));
    }

    #[test]
    fn the_pending_sign_in_round_trips_through_storage_text() {
        let scopes = vec!["openid".to_owned()];
        let mut r = request(&scopes);
        r.resume = Some("{\"report\":1}".into());
        let (_, pending) = begin_sign_in(&r, &[7u8; 96], 42);
        let text = serde_json::to_string(&pending).unwrap();
        let back: PendingSignIn = crate::wire::read_object(&text).unwrap();
        assert_eq!(back.verifier.expose(), pending.verifier.expose());
        assert_eq!(back.state, pending.state);
        assert_eq!(back.nonce, pending.nonce);
        assert_eq!(back.created_at, 42);
        assert_eq!(back.resume, pending.resume);
        assert_eq!(back.resume_for, None);
        // Written before `silent` existed: not silent.
        let old = text.replace(r#""silent":false,"#, "");
        assert_ne!(old, text);
        assert!(
            !crate::wire::read_object::<PendingSignIn>(&old)
                .unwrap()
                .silent
        );
        let twice = text.replacen('{', r#"{"state":"other","#, 1);
        assert!(crate::wire::read_object::<PendingSignIn>(&twice).is_err());
    }

    #[test]
    fn sanitises_the_return_path_up_front() {
        let scopes = vec!["openid".to_owned()];
        let mut r = request(&scopes);
        r.return_to = "//evil.example/";
        let (_, pending) = begin_sign_in(&r, &[1u8; 96], 0);
        assert_eq!(pending.return_to, "/");
    }

    #[test]
    fn sign_out_url_is_entras_get_with_logout_hint_and_no_token() {
        let url = end_session_url(
            "https://login.example/t/oauth2/v2.0/logout",
            "client-1",
            "https://app.example/",
            Some("O.aGludA"),
        );
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "https://login.example/t/oauth2/v2.0/logout");
        let q = parse_query(query).unwrap();
        let names: Vec<&str> = q.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["post_logout_redirect_uri", "client_id", "logout_hint"]
        );
        assert_eq!(q[0].1, "https://app.example/");
        assert_eq!(q[1].1, "client-1");
        assert_eq!(q[2].1, "O.aGludA");
        assert!(!url.contains("id_token_hint"));
    }

    #[test]
    fn sign_out_url_without_a_hint_names_the_client_only() {
        let url = end_session_url("https://l.example/logout", "c", "https://a.example/", None);
        assert_eq!(
            url,
            "https://l.example/logout?post_logout_redirect_uri=https%3A%2F%2Fa.example%2F&client_id=c"
        );
    }

    #[test]
    fn sign_in_declares_the_cp1_capability() {
        let v: serde_json::Value = crate::wire::read(&claims_request(None)).unwrap();
        let values = v
            .get("access_token")
            .and_then(|a| a.get("xms_cc"))
            .and_then(|x| x.get("values"))
            .and_then(serde_json::Value::as_array)
            .unwrap();
        assert_eq!(values, &[serde_json::Value::String("cp1".into())]);
        assert_eq!(v.get("id_token"), None);
    }

    #[test]
    fn a_claims_challenge_keeps_its_members_and_gains_the_capability() {
        let merged = claims_request(Some(
            r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#,
        ));
        assert_eq!(
            merged,
            r#"{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}"#
        );
        // Other members (id_token, …) stay as they are.
        let merged = claims_request(Some(r#"{"id_token":{"auth_time":{"essential":true}}}"#));
        assert_eq!(
            merged,
            r#"{"id_token":{"auth_time":{"essential":true}},"access_token":{"xms_cc":{"values":["cp1"]}}}"#
        );
    }

    #[test]
    fn a_challenge_that_already_names_xms_cc_or_is_not_an_object_is_sent_as_it_came() {
        let own = r#"{"access_token":{"xms_cc":{"values":["cp1","cp2"]},"acrs":{"value":"c2"}}}"#;
        assert_eq!(claims_request(Some(own)), own);
        assert_eq!(claims_request(Some("not json")), "not json");
        assert_eq!(claims_request(Some("[1]")), "[1]");
        assert_eq!(
            claims_request(Some(r#"{"access_token":7}"#)),
            r#"{"access_token":7}"#
        );
        // Unreadable, or readable two ways: sent as it came.
        for odd in [
            r#"{"access_token":{"acrs":1},"access_token":{}}"#,
            r#"{"access_token":{"acrs":1,"acrs":2}}"#,
            r#"{"id_token":{"a":{"b":1,"b":2}}}"#,
            r#"{"id_token":"\ud800"}"#,
            r#"{"access_token":{}} x"#,
        ] {
            assert_eq!(claims_request(Some(odd)), odd);
        }
    }

    #[test]
    fn a_claims_challenge_keeps_its_order_and_its_values_as_written() {
        let merged = claims_request(Some(
            r#"{"z":{"essential":true},"access_token":{"nbf":{"essential":true,"value":"1e3"},"acrs":{"values":["c1","c2"]}},"a":[1.50,null]}"#,
        ));
        assert_eq!(
            merged,
            r#"{"z":{"essential":true},"access_token":{"nbf":{"essential":true,"value":"1e3"},"acrs":{"values":["c1","c2"]},"xms_cc":{"values":["cp1"]}},"a":[1.50,null]}"#
        );
    }
}
