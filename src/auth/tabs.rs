//! How tabs of one browser keep one sign-in consistent.
//!
//! A duplicated tab copies sessionStorage, refresh token included. Entra rotates refresh tokens
//! (and stricter providers revoke a whole grant when a rotated one is replayed), so two tabs must
//! never redeem the same refresh token. The rules:
//! - a refresh happens under one cross-tab lock per session `family`;
//! - after a rotation the tab publishes the new `generation` number in localStorage (not a
//!   secret) and tells live tabs of the same family, which adopt the new session;
//! - a tab whose generation is behind the published one never redeems its (stale) refresh token:
//!   it asks live tabs for the current session, and failing that signs in again silently.
//!
//! **No token crosses the channel in the clear.** Every same-origin page can listen on a
//! BroadcastChannel and post to it, so what goes over it is either a signal (a family id, a
//! generation number, "signed out") or a session *sealed* with AES-256-GCM under the family's
//! [`ChannelKey`]. That key is made at sign-in and kept only in the session in this tab's
//! sessionStorage, the place the tokens already are; a duplicated tab gets it with its copy of
//! the session. A listener without that sessionStorage gets ciphertext, and can't forge a
//! session either: the seal authenticates the family and generation (associated data) and the
//! session itself, so a tab adopts only what a tab of its own family sealed.
//!
//! This module is the pure part: the messages, what a tab does with one, the associated data,
//! the envelope's encoding and the checks on an opened session. Sealing and opening are WebCrypto
//! (`platform::crypto`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::secret::ChannelKey;
use super::session::Session;

/// AES-GCM's 96-bit nonce (NIST SP 800-38D §8.2: random, fresh for every message).
pub const NONCE_BYTES: usize = 12;

/// The largest sealed session read (a session is a few KB; this leaves ample room).
pub const MAX_SEALED_BYTES: usize = 256 * 1024;

/// What tabs tell each other over the BroadcastChannel, written as `{"t": variant, ...fields}`.
/// No variant can hold a secret: a session travels only as [`Sealed`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", deny_unknown_fields)]
pub enum TabMessage {
    /// A tab of `family` now holds `generation`; `sealed` is its session, for that family's tabs.
    Rotated {
        family: String,
        generation: u32,
        #[serde(deserialize_with = "crate::wire::object")]
        sealed: Sealed,
    },
    /// A tab holding `generation` of `family` needs the current session.
    Need { family: String, generation: u32 },
    /// The user signed out: every tab forgets its session.
    SignOut,
}

/// A session sealed with AES-256-GCM: the random nonce and the ciphertext with its tag, both
/// base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    pub nonce: String,
    pub data: String,
}

impl Sealed {
    pub fn new(nonce: &[u8; NONCE_BYTES], ciphertext: &[u8]) -> Self {
        Self {
            nonce: URL_SAFE_NO_PAD.encode(nonce),
            data: URL_SAFE_NO_PAD.encode(ciphertext),
        }
    }

    /// The nonce and ciphertext, or `None` for a malformed or oversized envelope.
    pub fn decode(&self) -> Option<([u8; NONCE_BYTES], Vec<u8>)> {
        if self.data.len() > MAX_SEALED_BYTES.div_ceil(3) * 4 {
            return None;
        }
        let nonce = URL_SAFE_NO_PAD.decode(&self.nonce).ok()?.try_into().ok()?;
        let data = URL_SAFE_NO_PAD.decode(&self.data).ok()?;
        // At least the 16-byte tag.
        (data.len() >= 16).then_some((nonce, data))
    }
}

/// The associated data a sealed session is bound to: the family and generation the message
/// names, so a listener can't relabel a sealed session as another family's or a newer one.
pub fn associated_data(family: &str, generation: u32) -> Vec<u8> {
    format!("nimbus tab session v1\n{family}\n{generation}").into_bytes()
}

/// What is sealed for the other tabs: the session without its channel key (they have it).
pub fn plaintext(session: &Session) -> Option<String> {
    let mut shared = session.clone();
    shared.channel_key = None;
    serde_json::to_string(&shared).ok()
}

/// What a tab does with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Reaction {
    /// Open `sealed` with this family's key and adopt it if [`accept_opened`] agrees.
    Open {
        family: String,
        generation: u32,
        sealed: Sealed,
    },
    /// Seal this tab's session and post it as [`TabMessage::Rotated`].
    Share,
    SignOut,
    Ignore,
}

/// Decides what to do with `message`, given this tab's session and the family's published
/// generation (a tab that is itself behind never answers a `Need`: its token may be spent).
/// A tab without a channel key (a session stored before keys existed) shares nothing.
pub fn react(own: Option<&Session>, published: Option<u32>, message: TabMessage) -> Reaction {
    let keyed = own.filter(|s| s.channel_key.as_ref().and_then(ChannelKey::bytes).is_some());
    match (keyed, message) {
        (_, TabMessage::SignOut) => Reaction::SignOut,
        (
            Some(own),
            TabMessage::Rotated {
                family,
                generation,
                sealed,
            },
        ) if family == own.family && generation > own.generation => Reaction::Open {
            family,
            generation,
            sealed,
        },
        (Some(own), TabMessage::Need { family, generation })
            if family == own.family && own.generation > generation && !is_stale(own, published) =>
        {
            Reaction::Share
        }
        _ => Reaction::Ignore,
    }
}

/// The session a peer sealed, once opened: adopted only if it is what the message said (this
/// family, that generation), still newer than this tab's, and the same user's. It keeps this
/// tab's channel key.
pub fn accept_opened(
    own: &Session,
    family: &str,
    generation: u32,
    plaintext: &str,
) -> Option<Session> {
    let mut opened: Session = crate::wire::read_object(plaintext).ok()?;
    let fits = opened.family == family
        && own.family == family
        && opened.generation == generation
        && generation > own.generation
        && opened.account.owner() == own.account.owner();
    if !fits {
        return None;
    }
    opened.channel_key = own.channel_key.clone();
    Some(opened)
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
    use crate::auth::secret::{AccessToken, IdToken, RefreshToken, Secret};
    use crate::auth::token::TokenResponse;
    use crate::wire::read_object;

    fn account(sub: &str) -> Account {
        Account {
            sub: sub.into(),
            name: "A".into(),
            username: None,
            tenant_id: None,
            object_id: None,
            login_hint: None,
            issuer: "i".into(),
        }
    }

    fn session(family: &str, generation: u32) -> Session {
        let mut s = Session::new(
            family.into(),
            account("s"),
            IdToken::new("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzIn0.c2ln"),
            TokenResponse {
                access_token: AccessToken::new("access-token-value"),
                expires_in: 60,
                scopes: vec!["api://x/weather.read".into()],
                id_token: None,
                refresh_token: Some(RefreshToken::new("refresh-token-value")),
                refresh_token_expires_in: None,
            },
            0,
        );
        s.generation = generation;
        s.channel_key = Some(ChannelKey::from_random(&[9; 32]));
        s
    }

    fn sealed() -> Sealed {
        Sealed::new(&[1; NONCE_BYTES], &[2; 40])
    }

    fn rotated(family: &str, generation: u32) -> TabMessage {
        TabMessage::Rotated {
            family: family.into(),
            generation,
            sealed: sealed(),
        }
    }

    #[test]
    fn opens_a_newer_rotation_of_the_same_family() {
        let own = session("f", 1);
        assert_eq!(
            react(Some(&own), None, rotated("f", 2)),
            Reaction::Open {
                family: "f".into(),
                generation: 2,
                sealed: sealed()
            }
        );
    }

    #[test]
    fn ignores_older_or_foreign_rotations_and_keyless_tabs() {
        let own = session("f", 3);
        for msg in [rotated("f", 3), rotated("f", 2), rotated("g", 9)] {
            assert_eq!(react(Some(&own), None, msg), Reaction::Ignore);
        }
        assert_eq!(react(None, None, rotated("f", 9)), Reaction::Ignore);
        let mut keyless = session("f", 0);
        keyless.channel_key = None;
        assert_eq!(
            react(Some(&keyless), None, rotated("f", 9)),
            Reaction::Ignore
        );
        keyless.channel_key = Some(ChannelKey::new("not-a-key"));
        assert_eq!(
            react(Some(&keyless), None, rotated("f", 9)),
            Reaction::Ignore
        );
    }

    #[test]
    fn answers_a_need_only_with_something_newer() {
        let own = session("f", 2);
        let need = |g| TabMessage::Need {
            family: "f".into(),
            generation: g,
        };
        assert_eq!(react(Some(&own), None, need(1)), Reaction::Share);
        assert_eq!(react(Some(&own), None, need(2)), Reaction::Ignore);
        let foreign = TabMessage::Need {
            family: "g".into(),
            generation: 0,
        };
        assert_eq!(react(Some(&own), None, foreign), Reaction::Ignore);
        let mut keyless = own.clone();
        keyless.channel_key = None;
        assert_eq!(react(Some(&keyless), None, need(0)), Reaction::Ignore);
    }

    #[test]
    fn a_tab_that_is_behind_itself_never_answers() {
        let own = session("f", 1);
        let need = TabMessage::Need {
            family: "f".into(),
            generation: 0,
        };
        assert_eq!(react(Some(&own), Some(2), need), Reaction::Ignore);
        assert!(!is_current(&own, Some(2)));
        assert!(is_current(&own, Some(1)));
        assert!(is_current(&own, None));
    }

    #[test]
    fn sign_out_reaches_every_tab() {
        assert_eq!(react(None, None, TabMessage::SignOut), Reaction::SignOut);
        assert_eq!(
            react(Some(&session("f", 0)), None, TabMessage::SignOut),
            Reaction::SignOut
        );
    }

    #[test]
    fn staleness_compares_with_the_published_generation() {
        let own = session("f", 2);
        assert!(!is_stale(&own, None));
        assert!(!is_stale(&own, Some(2)));
        assert!(is_stale(&own, Some(3)));
    }

    #[test]
    fn messages_round_trip_as_json_and_carry_no_secret() {
        let text = serde_json::to_string(&TabMessage::Need {
            family: "f".into(),
            generation: 4,
        })
        .unwrap();
        assert_eq!(text, r#"{"t":"Need","family":"f","generation":4}"#);
        assert!(read_object::<TabMessage>("garbage").is_err());
        assert_eq!(
            read_object::<TabMessage>(&text).unwrap(),
            TabMessage::Need {
                family: "f".into(),
                generation: 4
            }
        );
        assert_eq!(
            serde_json::to_string(&TabMessage::SignOut).unwrap(),
            r#"{"t":"SignOut"}"#
        );
        let text = serde_json::to_string(&rotated("f", 7)).unwrap();
        assert_eq!(
            text,
            r#"{"t":"Rotated","family":"f","generation":7,"sealed":{"nonce":"AQEBAQEBAQEBAQEB","data":"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg"}}"#
        );
        assert_eq!(read_object::<TabMessage>(&text).unwrap(), rotated("f", 7));
    }

    #[test]
    fn the_sealed_plaintext_leaves_out_the_channel_key() {
        let own = session("f", 3);
        let text = plaintext(&own).unwrap();
        assert!(
            text.contains("refresh-token-value"),
            "the payload is the session"
        );
        assert!(!text.contains(own.channel_key.as_ref().unwrap().expose()));
        assert!(!text.contains("channel_key"));
    }

    #[test]
    fn an_opened_session_is_adopted_only_if_it_is_what_the_message_said() {
        let own = session("f", 1);
        let mut theirs = session("f", 2);
        theirs.refresh_token = Some(RefreshToken::new("rotated"));
        let text = plaintext(&theirs).unwrap();
        let adopted = accept_opened(&own, "f", 2, &text).unwrap();
        assert_eq!(adopted.refresh_token.unwrap().expose(), "rotated");
        assert_eq!(adopted.generation, 2);
        assert_eq!(adopted.channel_key, own.channel_key, "keeps its own key");
        // Labelled with another generation or family than it holds, not newer, or not JSON.
        assert!(accept_opened(&own, "f", 3, &text).is_none());
        assert!(accept_opened(&own, "g", 2, &text).is_none());
        assert!(accept_opened(&session("f", 2), "f", 2, &text).is_none());
        assert!(accept_opened(&own, "f", 2, "{").is_none());
        assert!(accept_opened(&own, "f", 2, "[]").is_none());
        // Another user's session, even sealed with this family's key, is not adopted.
        let mut stranger = session("f", 2);
        stranger.account = account("other");
        assert!(accept_opened(&own, "f", 2, &plaintext(&stranger).unwrap()).is_none());
    }

    #[test]
    fn associated_data_binds_family_and_generation() {
        assert_ne!(associated_data("f", 1), associated_data("f", 2));
        assert_ne!(associated_data("f", 1), associated_data("g", 1));
        assert_eq!(associated_data("f", 1), associated_data("f", 1));
    }

    #[test]
    fn envelopes_decode_only_when_well_formed() {
        let (nonce, data) = sealed().decode().unwrap();
        assert_eq!(nonce, [1; NONCE_BYTES]);
        assert_eq!(data, vec![2; 40]);
        let bad = [
            Sealed::new(&[1; NONCE_BYTES], &[2; 15]),
            Sealed {
                nonce: "AQEB".into(),
                data: sealed().data,
            },
            Sealed {
                nonce: "!!".into(),
                data: sealed().data,
            },
            Sealed {
                nonce: sealed().nonce,
                data: "A".repeat(MAX_SEALED_BYTES.div_ceil(3) * 4 + 4),
            },
        ];
        for b in bad {
            assert!(b.decode().is_none(), "{b:?}");
        }
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
            // The old, plaintext form: a session in the clear is never read.
            r#"{"t":"Rotated","session":{"family":"f","generation":1}}"#,
            r#"{"t":"Rotated","family":"f","generation":2,"sealed":["n","d"]}"#,
            r#"{"t":"Rotated","family":"f","generation":2,"sealed":{"nonce":"n"}}"#,
            r#"{"t":"Rotated","family":"f","generation":2,"sealed":{"nonce":"n","data":"d"},"session":{}}"#,
        ] {
            assert!(read_object::<TabMessage>(bad).is_err(), "{bad}");
        }
    }
}
