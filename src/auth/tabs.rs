//! How tabs of one browser keep one sign-in consistent.
//!
//! A duplicated tab copies sessionStorage, refresh token included. Entra rotates refresh tokens
//! (and stricter providers revoke a whole grant when a rotated one is replayed), so two tabs must
//! never redeem the same refresh token. The rules:
//! - a refresh happens under one cross-tab lock per session `family`;
//! - after a rotation the tab publishes the new `generation` number in localStorage (not a
//!   secret) and broadcasts the new session to live tabs of the same family, which adopt it;
//! - a tab whose generation is behind the published one never redeems its (stale) refresh token:
//!   it asks live tabs for the current session, and failing that signs in again silently.

use serde::{Deserialize, Serialize};

use super::session::Session;

/// What tabs tell each other over the BroadcastChannel, written as `{"t": variant, ...fields}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum TabMessage {
    /// A tab rotated its refresh token: here is its session now.
    Rotated {
        #[serde(deserialize_with = "crate::wire::object")]
        session: Box<Session>,
    },
    /// A tab holding `generation` of `family` needs the current session.
    Need { family: String, generation: u32 },
    /// The user signed out: every tab forgets its session.
    SignOut,
}

/// What a tab does with a message.
#[derive(Debug)]
pub enum Reaction {
    Adopt(Box<Session>),
    Reply(TabMessage),
    SignOut,
    Ignore,
}

/// Decides what to do with `message`, given this tab's session and the family's published
/// generation (a tab that is itself behind never answers a `Need`: its token may be spent).
pub fn react(own: Option<&Session>, published: Option<u32>, message: TabMessage) -> Reaction {
    match (own, message) {
        (_, TabMessage::SignOut) => Reaction::SignOut,
        (Some(own), TabMessage::Rotated { session })
            if session.family == own.family && session.generation > own.generation =>
        {
            Reaction::Adopt(session)
        }
        (Some(own), TabMessage::Need { family, generation })
            if family == own.family && own.generation > generation && !is_stale(own, published) =>
        {
            Reaction::Reply(TabMessage::Rotated {
                session: Box::new(own.clone()),
            })
        }
        _ => Reaction::Ignore,
    }
}

/// Whether a session offered by a peer is current enough to adopt: never behind what the family
/// published.
pub fn is_current(offered: &Session, published: Option<u32>) -> bool {
    !is_stale(offered, published)
}

/// Is this tab's refresh token behind the family's latest (published) generation?
pub fn is_stale(own: &Session, published: Option<u32>) -> bool {
    published.is_some_and(|g| g > own.generation)
}

/// The cross-tab lock and localStorage key of a session family.
pub fn family_key(client_id: &str, family: &str) -> String {
    format!("rt-generation.{client_id}.{family}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::id_token::Account;
    use crate::auth::secret::{AccessToken, IdToken, RefreshToken};
    use crate::auth::token::TokenResponse;
    use crate::wire::read_object;

    fn session(family: &str, generation: u32) -> Session {
        let mut s = Session::new(
            family.into(),
            Account {
                sub: "s".into(),
                name: "A".into(),
                username: None,
                tenant_id: None,
                object_id: None,
                login_hint: None,
                issuer: "i".into(),
            },
            IdToken::new("id"),
            TokenResponse {
                access_token: AccessToken::new("at"),
                expires_in: 60,
                scopes: vec!["api://x/weather.read".into()],
                id_token: None,
                refresh_token: Some(RefreshToken::new("rt")),
                refresh_token_expires_in: None,
            },
            0,
        );
        s.generation = generation;
        s
    }

    #[test]
    fn adopts_a_newer_rotation_of_the_same_family() {
        let own = session("f", 1);
        let msg = TabMessage::Rotated {
            session: Box::new(session("f", 2)),
        };
        assert!(matches!(react(Some(&own), None, msg), Reaction::Adopt(s) if s.generation == 2));
    }

    #[test]
    fn ignores_older_or_foreign_rotations() {
        let own = session("f", 3);
        for other in [session("f", 3), session("f", 2), session("g", 9)] {
            let msg = TabMessage::Rotated {
                session: Box::new(other),
            };
            assert!(matches!(react(Some(&own), None, msg), Reaction::Ignore));
        }
        let msg = TabMessage::Rotated {
            session: Box::new(session("f", 9)),
        };
        assert!(matches!(react(None, None, msg), Reaction::Ignore));
    }

    #[test]
    fn answers_a_need_only_with_something_newer() {
        let own = session("f", 2);
        let need = |g| TabMessage::Need {
            family: "f".into(),
            generation: g,
        };
        assert!(matches!(
            react(Some(&own), None, need(1)),
            Reaction::Reply(TabMessage::Rotated { .. })
        ));
        assert!(matches!(react(Some(&own), None, need(2)), Reaction::Ignore));
        let foreign = TabMessage::Need {
            family: "g".into(),
            generation: 0,
        };
        assert!(matches!(react(Some(&own), None, foreign), Reaction::Ignore));
    }

    #[test]
    fn a_tab_that_is_behind_itself_never_answers() {
        let own = session("f", 1);
        let need = TabMessage::Need {
            family: "f".into(),
            generation: 0,
        };
        assert!(matches!(react(Some(&own), Some(2), need), Reaction::Ignore));
        assert!(!is_current(&own, Some(2)));
        assert!(is_current(&own, Some(1)));
        assert!(is_current(&own, None));
    }

    #[test]
    fn sign_out_reaches_every_tab() {
        assert!(matches!(
            react(None, None, TabMessage::SignOut),
            Reaction::SignOut
        ));
        assert!(matches!(
            react(Some(&session("f", 0)), None, TabMessage::SignOut),
            Reaction::SignOut
        ));
    }

    #[test]
    fn staleness_compares_with_the_published_generation() {
        let own = session("f", 2);
        assert!(!is_stale(&own, None));
        assert!(!is_stale(&own, Some(2)));
        assert!(is_stale(&own, Some(3)));
    }

    #[test]
    fn messages_round_trip_as_json() {
        let text = serde_json::to_string(&TabMessage::Need {
            family: "f".into(),
            generation: 4,
        })
        .unwrap();
        assert_eq!(text, r#"{"t":"Need","family":"f","generation":4}"#);
        assert!(read_object::<TabMessage>("garbage").is_err());
        assert!(matches!(
            read_object::<TabMessage>(&text),
            Ok(TabMessage::Need { generation: 4, .. })
        ));
        assert_eq!(
            serde_json::to_string(&TabMessage::SignOut).unwrap(),
            r#"{"t":"SignOut"}"#
        );
        let rotated = serde_json::to_string(&TabMessage::Rotated {
            session: Box::new(session("f", 7)),
        })
        .unwrap();
        assert!(rotated.starts_with(r#"{"t":"Rotated","session":{"family":"f","generation":7,"#));
        let Ok(TabMessage::Rotated { session: back }) = read_object::<TabMessage>(&rotated) else {
            panic!("{rotated}")
        };
        assert_eq!(back.generation, 7);
    }

    #[test]
    fn odd_messages_are_not_read() {
        for bad in [
            r#"{"t":"Adopt"}"#,
            r#"{"family":"f","generation":1}"#,
            r#"{"t":"Need","family":"f"}"#,
            r#"{"t":"Need","family":"f","generation":-1}"#,
            r#"{"t":"Need","family":"f","generation":4294967296}"#,
            r#"{"t":"Need","t":"SignOut","family":"f","generation":1}"#,
            r#"{"t":"Need","family":"f","family":"g","generation":1}"#,
            r#"["Need","f",1]"#,
            r#"{"t":"Rotated","session":["f",1]}"#,
        ] {
            assert!(read_object::<TabMessage>(bad).is_err(), "{bad}");
        }
    }
}
