//! The signed-in session as this tab stores it, and the rules of its token cache: one access
//! token per resource (Entra issues a token for one API at a time), used while it stays valid
//! for a safety margin, refresh tokens replaced on rotation.

use serde::{Deserialize, Serialize};

use super::id_token::Account;
use super::secret::{AccessToken, ChannelKey, IdToken, RefreshToken};
use super::token::TokenResponse;

/// Entra's fixed refresh-token lifetime for single-page apps.
pub const SPA_REFRESH_LIFETIME_SECS: u64 = 24 * 60 * 60;

/// A cached token is used only while it has at least this long left (MSAL's 5 minutes),
/// or a quarter of its lifetime for tokens shorter than 20 minutes.
pub const RENEWAL_MARGIN_SECS: u64 = 5 * 60;

/// Scopes about the user's sign-in rather than an API; they never name a resource.
pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];

/// The resource (API) a scope belongs to: `api://id/weather.read` → `api://id`,
/// `https://host/Scope` → `https://host`. OIDC scopes have none.
pub fn resource_of(scope: &str) -> Option<&str> {
    if OIDC_SCOPES.contains(&scope) {
        return None;
    }
    match scope.rsplit_once('/') {
        Some((resource, name)) if !name.is_empty() && resource.contains("://") => Some(resource),
        // A bare name like `User.Read` is Microsoft Graph's, by Entra's convention.
        _ => Some("https://graph.microsoft.com"),
    }
}

/// A scope as `(resource, name)`, lower-cased: `api://id/weather.read` → `("api://id",
/// "weather.read")`, Graph's bare `User.Read` → `("https://graph.microsoft.com", "user.read")`.
/// OIDC scopes are their own resource-less names.
fn scope_key(scope: &str) -> (String, String) {
    match resource_of(scope) {
        Some(resource) => {
            let name = scope
                .strip_prefix(resource)
                .and_then(|rest| rest.strip_prefix('/'))
                .unwrap_or(scope);
            (resource.to_ascii_lowercase(), name.to_ascii_lowercase())
        }
        None => (String::new(), scope.to_ascii_lowercase()),
    }
}

/// Whether `requested` is among the `granted` scopes as a token response wrote them (RFC 6749
/// §3.3, §5.1). Entra names an API's scopes by full URI (`api://{id}/weather.read`), Microsoft
/// Graph's by bare name (`User.Read`), compares them without regard to case, and may add
/// `openid profile offline_access`; `{resource}/.default` is granted by any scope of that
/// resource (it asks for whatever the app is allowed there).
pub fn scope_granted(requested: &str, granted: &[String]) -> bool {
    let (resource, name) = scope_key(requested);
    granted
        .iter()
        .map(|g| scope_key(g))
        .any(|(r, n)| r == resource && (n == name || (name == ".default" && !resource.is_empty())))
}

/// The API scopes among `requested` that `granted` lacks. OIDC scopes (`openid`, …) name no
/// resource and are never missing: Entra leaves some of them out of its answers.
pub fn missing_scopes(requested: &[String], granted: &[String]) -> Vec<String> {
    requested
        .iter()
        .filter(|s| resource_of(s).is_some() && !scope_granted(s, granted))
        .cloned()
        .collect()
}

/// What getting an access token takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// A cached token with the margin to spare.
    Cached(AccessToken),
    /// Redeem this refresh token (RFC 6749 §6).
    Refresh(RefreshToken),
    /// The refresh token is gone or has run out: interaction (or a silent redirect) is needed.
    SignInAgain,
}

/// `"23 h 5 min"`, `"4 min"`, `"less than a minute"`: how long a session has left.
pub fn describe_remaining(secs: u64) -> String {
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    match (h, m) {
        (0, 0) => "less than a minute".to_owned(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// An access token for one resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedToken {
    pub resource: String,
    pub scopes: Vec<String>,
    #[serde(serialize_with = "crate::auth::secret::exposed")]
    pub token: AccessToken,
    pub issued_at: u64,
    pub expires_at: u64,
}

impl CachedToken {
    /// Usable now for all of `scopes`, with the renewal margin to spare.
    pub fn covers(&self, scopes: &[String], now: u64) -> bool {
        let lifetime = self.expires_at.saturating_sub(self.issued_at);
        let margin = RENEWAL_MARGIN_SECS.min(lifetime / 4);
        scopes.iter().all(|s| scope_granted(s, &self.scopes))
            && now.saturating_add(margin) < self.expires_at
    }
}

/// Everything kept for a signed-in user, in sessionStorage only.
///
/// A duplicated browser tab copies sessionStorage, so two tabs can hold the same refresh token.
/// `family` names the sign-in both copies come from and `generation` counts the refresh-token
/// rotations, so tabs can tell whose refresh token is current (see `state::tokens`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub family: String,
    pub generation: u32,
    #[serde(deserialize_with = "crate::wire::object")]
    pub account: Account,
    /// Kept for `id_token_hint` at sign-out (OIDC RP-Initiated Logout §2).
    #[serde(serialize_with = "crate::auth::secret::exposed")]
    pub id_token: IdToken,
    #[serde(serialize_with = "crate::auth::secret::exposed_opt")]
    pub refresh_token: Option<RefreshToken>,
    pub signed_in_at: u64,
    /// When the refresh token stops working; fixed at sign-in, never extended by refreshing.
    pub refresh_expires_at: u64,
    #[serde(deserialize_with = "crate::wire::objects")]
    pub access_tokens: Vec<CachedToken>,
    /// Every API scope ever granted to this session, kept even when a token is dropped.
    #[serde(default)]
    pub granted_scopes: Vec<String>,
    /// The family's key for sharing this session with its other tabs, sealed (`auth::tabs`):
    /// made at sign-in, copied with sessionStorage into duplicated tabs, never sent anywhere.
    /// Absent in sessions stored before it existed: such a tab shares nothing.
    #[serde(
        default,
        serialize_with = "crate::auth::secret::exposed_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub channel_key: Option<ChannelKey>,
}

impl Session {
    /// A new session from the code redemption's response. `family` is a fresh random id.
    pub fn new(
        family: String,
        account: Account,
        id_token: IdToken,
        response: TokenResponse,
        now: u64,
    ) -> Self {
        let lifetime = response
            .refresh_token_expires_in
            .unwrap_or(SPA_REFRESH_LIFETIME_SECS)
            .min(SPA_REFRESH_LIFETIME_SECS);
        let mut session = Self {
            family,
            generation: 0,
            account,
            id_token,
            refresh_token: None,
            signed_in_at: now,
            refresh_expires_at: now.saturating_add(lifetime),
            access_tokens: Vec::new(),
            granted_scopes: Vec::new(),
            channel_key: None,
        };
        session.store(response, now);
        session
    }

    /// The cached token for `scopes`, if it is still good.
    pub fn token_for(&self, scopes: &[String], now: u64) -> Option<&CachedToken> {
        let resource = scopes.iter().find_map(|s| resource_of(s))?;
        self.access_tokens
            .iter()
            .find(|t| t.resource.eq_ignore_ascii_case(resource) && t.covers(scopes, now))
    }

    /// What getting a token for `scopes` takes (the rules of `token_for`).
    pub fn plan(&self, scopes: &[String], now: u64) -> Plan {
        if let Some(t) = self.token_for(scopes, now) {
            return Plan::Cached(t.token.clone());
        }
        match &self.refresh_token {
            Some(rt) if self.can_refresh(now) => Plan::Refresh(rt.clone()),
            _ => Plan::SignInAgain,
        }
    }

    /// Whether every scope was granted to this session before (and so a refresh should work).
    pub fn has_granted(&self, scopes: &[String]) -> bool {
        scopes
            .iter()
            .all(|s| scope_granted(s, &self.granted_scopes))
    }

    /// Seconds until the refresh token runs out (0 when it has).
    pub fn remaining(&self, now: u64) -> u64 {
        self.refresh_expires_at.saturating_sub(now)
    }

    /// Stores a refresh response: a rotated refresh token bumps the generation.
    pub fn store_refreshed(&mut self, response: TokenResponse, now: u64) {
        if response.refresh_token.is_some() {
            self.generation = self.generation.saturating_add(1);
        }
        self.store(response, now);
    }

    /// Stores a token response: the access token replaces its resource's entry, a new refresh
    /// token replaces the old one (rotation).
    pub fn store(&mut self, response: TokenResponse, now: u64) {
        if let Some(rt) = response.refresh_token {
            self.refresh_token = Some(rt);
        }
        let Some(resource) = response.scopes.iter().find_map(|s| resource_of(s)) else {
            return;
        };
        let resource = resource.to_owned();
        for s in response.scopes.iter().filter(|s| resource_of(s).is_some()) {
            if !self.granted_scopes.contains(s) {
                self.granted_scopes.push(s.clone());
            }
        }
        let scopes = response
            .scopes
            .iter()
            .filter(|s| resource_of(s).is_some_and(|r| r.eq_ignore_ascii_case(&resource)))
            .cloned()
            .collect();
        self.access_tokens
            .retain(|t| !t.resource.eq_ignore_ascii_case(&resource));
        self.access_tokens.push(CachedToken {
            resource,
            scopes,
            token: response.access_token,
            issued_at: now,
            expires_at: now.saturating_add(response.expires_in),
        });
    }

    /// Forgets the access token of the resource `scopes` belong to (e.g. after a 401).
    pub fn drop_token_for(&mut self, scopes: &[String]) {
        if let Some(resource) = scopes.iter().find_map(|s| resource_of(s)) {
            self.access_tokens
                .retain(|t| !t.resource.eq_ignore_ascii_case(resource));
        }
    }

    /// Whether the refresh token may still be redeemed.
    pub fn can_refresh(&self, now: u64) -> bool {
        self.refresh_token.is_some() && now < self.refresh_expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::secret::Secret;

    const READ: &str = "api://api-1/weather.read";
    const WRITE: &str = "api://api-1/weather.write";

    fn account() -> Account {
        Account {
            sub: "s".into(),
            name: "Alice".into(),
            username: None,
            tenant_id: None,
            object_id: None,
            login_hint: None,
            issuer: "i".into(),
        }
    }

    fn response(token: &str, scopes: &[&str], expires_in: u64, rt: Option<&str>) -> TokenResponse {
        TokenResponse {
            access_token: AccessToken::new(token),
            expires_in,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            id_token: None,
            refresh_token: rt.map(RefreshToken::new),
            refresh_token_expires_in: None,
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn finds_resources_of_scopes() {
        assert_eq!(resource_of(READ), Some("api://api-1"));
        assert_eq!(
            resource_of("https://graph.microsoft.com/User.Read"),
            Some("https://graph.microsoft.com")
        );
        assert_eq!(
            resource_of("User.Read"),
            Some("https://graph.microsoft.com")
        );
        assert_eq!(resource_of("openid"), None);
        assert_eq!(resource_of("offline_access"), None);
    }

    #[test]
    fn compares_granted_scopes_as_entra_writes_them() {
        // Full URIs for an API, OIDC scopes added, any order.
        let entra = s(&["openid", READ, "profile", "offline_access"]);
        assert!(scope_granted(READ, &entra));
        assert!(missing_scopes(&s(&[READ]), &entra).is_empty());
        // Scope values are compared without regard to case, the resource's too.
        assert!(scope_granted(READ, &s(&["API://api-1/Weather.Read"])));
        // Only OIDC scopes came back: the API scope is missing.
        let oidc_only = s(&["openid", "profile", "offline_access"]);
        assert_eq!(missing_scopes(&s(&[READ]), &oidc_only), s(&[READ]));
        // Another scope of the same API doesn't stand in for it.
        assert_eq!(missing_scopes(&s(&[READ, WRITE]), &s(&[WRITE])), s(&[READ]));
        // A bare name is Microsoft Graph's, never another API's.
        assert!(!scope_granted(READ, &s(&["weather.read"])));
        assert!(scope_granted(
            "https://graph.microsoft.com/User.Read",
            &s(&["User.Read", "profile", "openid"])
        ));
        assert!(scope_granted(
            "User.Read",
            &s(&["https://graph.microsoft.com/user.read"])
        ));
        // The same name under another resource is another scope.
        assert!(!scope_granted(READ, &s(&["api://api-2/weather.read"])));
        // `.default` is granted by any scope of its resource, never by OIDC scopes alone.
        assert!(scope_granted("api://api-1/.default", &s(&[WRITE])));
        assert!(!scope_granted("api://api-1/.default", &oidc_only));
        assert!(!scope_granted(
            "api://api-1/.default",
            &s(&["api://api-2/x"])
        ));
        // OIDC scopes asked for are never "missing" (Entra may leave them out).
        assert!(missing_scopes(&s(&["openid", "offline_access", READ]), &s(&[READ])).is_empty());
        assert!(missing_scopes(&[], &[]).is_empty());
        assert_eq!(missing_scopes(&s(&[READ]), &[]), s(&[READ]));
    }

    #[test]
    fn a_cached_token_covers_only_scopes_it_was_granted() {
        let session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response(
                "at",
                &["api://API-1/Weather.Read", "openid"],
                3600,
                Some("rt"),
            ),
            0,
        );
        assert!(session.token_for(&s(&[READ]), 10).is_some());
        assert!(session.has_granted(&s(&[READ])));
        // A response granting only OIDC scopes caches no token and grants nothing.
        let bare = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &["openid", "profile"], 3600, Some("rt")),
            0,
        );
        assert!(bare.token_for(&s(&[READ]), 10).is_none());
        assert!(!bare.has_granted(&s(&[READ])));
        assert_eq!(
            bare.plan(&s(&[READ]), 10),
            Plan::Refresh(RefreshToken::new("rt"))
        );
    }

    #[test]
    fn uses_a_cached_token_only_with_the_margin_to_spare() {
        let session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &[READ, "openid"], 3600, Some("rt")),
            1000,
        );
        assert_eq!(
            session.token_for(&s(&[READ]), 1000).unwrap().token.expose(),
            "at"
        );
        assert!(session
            .token_for(&s(&[READ]), 1000 + 3600 - RENEWAL_MARGIN_SECS - 1)
            .is_some());
        assert!(session
            .token_for(&s(&[READ]), 1000 + 3600 - RENEWAL_MARGIN_SECS)
            .is_none());
        assert!(
            session.token_for(&s(&[WRITE]), 1000).is_none(),
            "a scope not granted"
        );
        assert!(
            session.token_for(&s(&["openid"]), 1000).is_none(),
            "no resource"
        );
    }

    #[test]
    fn short_tokens_get_a_proportional_margin() {
        let session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &[READ], 40, None),
            0,
        );
        assert!(session.token_for(&s(&[READ]), 29).is_some());
        assert!(session.token_for(&s(&[READ]), 30).is_none());
    }

    #[test]
    fn keeps_one_token_per_resource_and_rotates_refresh_tokens() {
        let mut session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at1", &[READ], 3600, Some("rt1")),
            0,
        );
        session.store(response("other", &["api://api-2/x.read"], 3600, None), 0);
        session.store(response("at2", &[READ, WRITE], 3600, Some("rt2")), 10);
        assert_eq!(session.access_tokens.len(), 2);
        assert_eq!(
            session
                .token_for(&s(&[READ, WRITE]), 10)
                .unwrap()
                .token
                .expose(),
            "at2"
        );
        assert_eq!(
            session
                .token_for(&s(&["api://api-2/x.read"]), 10)
                .unwrap()
                .token
                .expose(),
            "other"
        );
        assert_eq!(session.refresh_token.as_ref().unwrap().expose(), "rt2");
        session.drop_token_for(&s(&[READ]));
        assert!(session.token_for(&s(&[READ]), 10).is_none());
        assert_eq!(session.access_tokens.len(), 1);
    }

    #[test]
    fn the_refresh_budget_is_fixed_at_sign_in() {
        let mut session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &[READ], 3600, Some("rt")),
            100,
        );
        assert_eq!(session.refresh_expires_at, 100 + SPA_REFRESH_LIFETIME_SECS);
        session.store(response("at2", &[READ], 3600, Some("rt2")), 5000);
        assert_eq!(session.refresh_expires_at, 100 + SPA_REFRESH_LIFETIME_SECS);
        assert!(session.can_refresh(100 + SPA_REFRESH_LIFETIME_SECS - 1));
        assert!(!session.can_refresh(100 + SPA_REFRESH_LIFETIME_SECS));
    }

    #[test]
    fn plans_cached_then_refresh_then_sign_in_again() {
        let session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &[READ], 3600, Some("rt")),
            0,
        );
        assert_eq!(
            session.plan(&s(&[READ]), 10),
            Plan::Cached(AccessToken::new("at"))
        );
        assert_eq!(
            session.plan(&s(&[READ]), 3500),
            Plan::Refresh(RefreshToken::new("rt"))
        );
        assert_eq!(
            session.plan(&s(&[WRITE]), 10),
            Plan::Refresh(RefreshToken::new("rt"))
        );
        assert_eq!(
            session.plan(&s(&[READ]), SPA_REFRESH_LIFETIME_SECS),
            Plan::SignInAgain
        );
        let no_rt = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &[READ], 3600, None),
            0,
        );
        assert_eq!(no_rt.plan(&s(&[READ]), 3500), Plan::SignInAgain);
        assert!(session.has_granted(&s(&[READ])));
        assert!(!session.has_granted(&s(&[READ, WRITE])));
        let mut dropped = session.clone();
        dropped.drop_token_for(&s(&[READ]));
        assert!(
            dropped.has_granted(&s(&[READ])),
            "a dropped token's scopes stay granted"
        );
    }

    #[test]
    fn rotation_bumps_the_generation() {
        let mut session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &[READ], 3600, Some("rt1")),
            0,
        );
        assert_eq!(session.generation, 0);
        session.store_refreshed(response("at2", &[READ], 3600, Some("rt2")), 10);
        assert_eq!(session.generation, 1);
        session.store_refreshed(response("at3", &[READ], 3600, None), 20);
        assert_eq!(session.generation, 1, "no new refresh token, no rotation");
        assert_eq!(session.refresh_token.unwrap().expose(), "rt2");
    }

    #[test]
    fn describes_the_time_left() {
        assert_eq!(describe_remaining(0), "less than a minute");
        assert_eq!(describe_remaining(59), "less than a minute");
        assert_eq!(describe_remaining(60 * 4 + 30), "4 min");
        assert_eq!(describe_remaining(3600 * 23 + 60 * 5), "23 h 5 min");
        assert_eq!(describe_remaining(7200), "2 h");
        let session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &[READ], 3600, Some("rt")),
            100,
        );
        assert_eq!(session.remaining(100), SPA_REFRESH_LIFETIME_SECS);
        assert_eq!(session.remaining(u64::MAX), 0);
    }

    #[test]
    fn round_trips_through_json_without_exposing_debug() {
        let session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id-secret"),
            response("at-secret", &[READ], 3600, Some("rt-secret")),
            0,
        );
        let json = serde_json::to_string(&session).unwrap();
        let back: Session = crate::wire::read_object(&json).unwrap();
        assert_eq!(back.access_tokens[0].token.expose(), "at-secret");
        let debug = format!("{back:?}");
        for secret in ["id-secret", "at-secret", "rt-secret"] {
            assert!(!debug.contains(secret));
        }
    }

    #[test]
    fn reads_stored_sessions_by_the_old_rules() {
        let session = Session::new(
            "f".into(),
            account(),
            IdToken::new("id"),
            response("at", &[READ], 3600, None),
            0,
        );
        let json = serde_json::to_string(&session).unwrap();
        // `None` is written as null, and read back as None.
        assert!(json.contains(r#""refresh_token":null"#));
        let read = |text: &str| crate::wire::read_object::<Session>(text);
        assert!(read(&json).unwrap().refresh_token.is_none());
        // Sessions written before `granted_scopes` existed still read.
        let old = json.replace(r#","granted_scopes":["api://api-1/weather.read"]"#, "");
        assert_ne!(old, json);
        assert!(read(&old).unwrap().granted_scopes.is_empty());
        for bad in [
            json.replace(r#""generation":0"#, r#""generation":-1"#),
            json.replace(r#""generation":0"#, r#""generation":"0""#),
            json.replace(r#""id_token":"id""#, r#""id_token":7"#),
            json.replace(r#""granted_scopes":["#, r#""granted_scopes":null,"x":["#),
            json.replacen(r#""account":{"#, r#""account":{"sub":"other","#, 1),
            json.replacen('{', r#"{"family":"g","#, 1),
            json.replacen(
                r#""account":{"sub":"s","name":"Alice","username":null,"tenant_id":null,"object_id":null,"issuer":"i","login_hint":null}"#,
                r#""account":["s","Alice",null,null,null,"i",null]"#,
                1,
            ),
            "garbage".to_owned(),
        ] {
            assert!(read(&bad).is_err(), "{bad}");
        }
    }
}
