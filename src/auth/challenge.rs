//! `WWW-Authenticate: Bearer` challenges (RFC 6750 §3, auth-param syntax of RFC 9110 §11.2),
//! read leniently: odd spacing, several parameters, quoted strings with escapes, several
//! challenges in one header. Garbage yields no challenge rather than an error.

use super::session::{resource_of, OIDC_SCOPES};

/// What a resource server's Bearer challenge asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BearerChallenge {
    /// `invalid_token`, `insufficient_scope`, `insufficient_claims`, `invalid_request`, ...
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// Space-delimited scopes the resource needs (`insufficient_scope`).
    pub scope: Option<String>,
    /// Continuous access evaluation: base64 claims to request (`insufficient_claims`).
    pub claims: Option<String>,
}

/// What the client should do about a 401/403 from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeAction {
    /// Drop the access token, renew once, retry once.
    RenewAndRetry,
    /// Ask for these extra scopes (incremental consent).
    RequestScopes(Vec<String>),
    /// Drop the access token and re-authorize with this `claims` request parameter.
    ReauthorizeWithClaims(String),
    /// Nothing the client can fix by itself.
    GiveUp,
}

impl BearerChallenge {
    /// The action RFC 6750 §3.1 implies for this challenge on a response with `status`.
    pub fn action(&self, status: u16) -> ChallengeAction {
        match (status, self.error.as_deref()) {
            (401, Some("insufficient_claims")) => match &self.claims {
                Some(c) if !c.is_empty() => ChallengeAction::ReauthorizeWithClaims(c.clone()),
                _ => ChallengeAction::GiveUp,
            },
            (401, Some("invalid_token") | None) => ChallengeAction::RenewAndRetry,
            (403, Some("insufficient_scope")) => match self.scope.as_deref().and_then(scope_tokens)
            {
                Some(scopes) => ChallengeAction::RequestScopes(scopes),
                None => ChallengeAction::GiveUp,
            },
            _ => ChallengeAction::GiveUp,
        }
    }
}

/// Space-delimited scope tokens (RFC 6749 §3.3: NQCHAR only); `None` if empty or odd.
fn scope_tokens(s: &str) -> Option<Vec<String>> {
    let nqchar = |c: char| c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c);
    let tokens: Vec<String> = s
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    (!tokens.is_empty() && tokens.iter().all(|t| t.chars().all(nqchar))).then_some(tokens)
}

/// The full scopes an `insufficient_scope` challenge asks for: `weather.write` means the API's
/// own `api://{id}/weather.write`. `None` when any of them belongs to another resource, or to
/// none (`openid`): an API may not make the app ask for other resources' permissions.
pub fn qualify_scopes(requested: &[String], ours: &[String]) -> Option<Vec<String>> {
    let resource = ours.iter().find_map(|s| resource_of(s))?;
    requested
        .iter()
        .map(|s| {
            if OIDC_SCOPES.contains(&s.as_str()) {
                return None;
            }
            let full = if s.contains("://") {
                s.clone()
            } else {
                format!("{resource}/{s}")
            };
            (resource_of(&full) == Some(resource)).then_some(full)
        })
        .collect()
}

/// Finds the `Bearer` challenge in a `WWW-Authenticate` value and reads its parameters.
pub fn parse_bearer(header: &str) -> Option<BearerChallenge> {
    if header.len() > 16 * 1024 {
        return None;
    }
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut found: Option<BearerChallenge> = None;
    let mut in_bearer = false;
    loop {
        p.skip_ws_and_commas();
        let Some(word) = p.token() else {
            // Unreadable: stop here and keep what was read.
            return found;
        };
        p.skip_ws();
        if p.peek() == Some(b'=') {
            // An auth-param of the current challenge.
            p.i += 1;
            p.skip_ws();
            let value = if p.peek() == Some(b'"') {
                // An unclosed quote ends the header: keep what was read before it.
                match p.quoted() {
                    Some(v) => v,
                    None => return found,
                }
            } else {
                p.token().unwrap_or_default()
            };
            if in_bearer {
                if let Some(ch) = found.as_mut() {
                    let slot = match word.to_ascii_lowercase().as_str() {
                        "error" => &mut ch.error,
                        "error_description" => &mut ch.error_description,
                        "scope" => &mut ch.scope,
                        "claims" => &mut ch.claims,
                        _ => continue,
                    };
                    if slot.is_none() {
                        *slot = Some(value);
                    }
                }
            }
        } else {
            // A new challenge's scheme. Only the first Bearer challenge counts.
            in_bearer = word.eq_ignore_ascii_case("bearer") && found.is_none();
            if in_bearer {
                found = Some(BearerChallenge::default());
            }
            // token68 forms (`Basic abc==`) carry nothing for us: skip them.
            if !in_bearer {
                while let Some(c) = p.peek() {
                    if c == b',' {
                        break;
                    }
                    p.i += 1;
                }
            }
        }
        if p.peek().is_none() {
            return found;
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    /// RFC 9110 `token` (tchar+), plus `/` so that unquoted scope values survive.
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            let tchar = c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&c);
            if !tchar {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// RFC 9110 `quoted-string` with `\` escapes; `None` when it never closes.
    fn quoted(&mut self) -> Option<String> {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let escaped = self.peek()?;
                    self.i += 1;
                    out.push(escaped);
                }
                _ => out.push(c),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(h: &str) -> BearerChallenge {
        parse_bearer(h).unwrap_or_else(|| panic!("no challenge in {h:?}"))
    }

    #[test]
    fn reads_invalid_token() {
        let c = parse(r#"Bearer error="invalid_token", error_description="The token expired""#);
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(c.error_description.as_deref(), Some("The token expired"));
        assert_eq!(c.action(401), ChallengeAction::RenewAndRetry);
    }

    #[test]
    fn reads_insufficient_scope_with_several_scopes() {
        let c = parse(
            r#"Bearer realm="api", error="insufficient_scope", scope="weather.write api://x/weather.read""#,
        );
        assert_eq!(
            c.action(403),
            ChallengeAction::RequestScopes(vec![
                "weather.write".into(),
                "api://x/weather.read".into()
            ])
        );
    }

    #[test]
    fn reads_insufficient_claims() {
        let c = parse(
            r#"Bearer authorization_uri="https://login.example/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ==""#,
        );
        assert_eq!(
            c.action(401),
            ChallengeAction::ReauthorizeWithClaims("eyJhY2Nlc3NfdG9rZW4iOnt9fQ==".into())
        );
    }

    #[test]
    fn tolerates_odd_spacing_case_and_unquoted_values() {
        let c = parse("  bearer   error = invalid_token ,scope=weather.read,,  ");
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(c.scope.as_deref(), Some("weather.read"));
        let c = parse("BEARER\terror=\"invalid_token\"");
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
    }

    #[test]
    fn unescapes_quoted_strings() {
        let c = parse(r#"Bearer error_description="say \"hi\", ok\\", error="invalid_token""#);
        assert_eq!(c.error_description.as_deref(), Some(r#"say "hi", ok\"#));
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
    }

    #[test]
    fn finds_bearer_among_several_challenges() {
        let c = parse(
            r#"Basic realm="x", Negotiate abc==, Bearer error="insufficient_scope", scope="a""#,
        );
        assert_eq!(c.scope.as_deref(), Some("a"));
        assert_eq!(c.error.as_deref(), Some("insufficient_scope"));
        let c = parse(r#"Bearer error="invalid_token", Basic realm="x", error="ignored""#);
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
    }

    #[test]
    fn a_bare_bearer_means_renew() {
        let c = parse("Bearer");
        assert_eq!(c, BearerChallenge::default());
        assert_eq!(c.action(401), ChallengeAction::RenewAndRetry);
        assert_eq!(c.action(403), ChallengeAction::GiveUp);
    }

    #[test]
    fn garbage_is_not_a_challenge() {
        let c = parse(r#"Bearer error="invalid_token", error_description="never closed"#);
        assert_eq!(
            c.error.as_deref(),
            Some("invalid_token"),
            "what came before an unclosed quote is kept"
        );
        let blank = parse("Bearer error=\"insufficient_scope\", scope=\"\u{b}\"");
        assert_eq!(blank.action(403), ChallengeAction::GiveUp);
        for h in [
            "",
            "   ",
            "Basic realm=\"x\"",
            "\"\"\"",
            "=,=,=",
            "Bearer error=\"never closed",
            "\u{0}\u{1}",
        ] {
            let c = parse_bearer(h);
            assert!(
                c.is_none() || c.as_ref().unwrap().error.is_none(),
                "{h:?} -> {c:?}"
            );
        }
        assert!(parse_bearer(&"a".repeat(20_000)).is_none());
    }

    #[test]
    fn qualifies_scopes_of_the_same_resource_only() {
        let ours = vec!["api://api-1/weather.read".to_owned()];
        let ask = |v: &[&str]| {
            qualify_scopes(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &ours)
        };
        assert_eq!(
            ask(&["weather.write"]),
            Some(vec!["api://api-1/weather.write".to_owned()])
        );
        assert_eq!(
            ask(&["api://api-1/weather.write"]),
            Some(vec!["api://api-1/weather.write".to_owned()])
        );
        assert_eq!(ask(&["https://graph.microsoft.com/Mail.ReadWrite"]), None);
        assert_eq!(ask(&["api://other/x.read"]), None);
        assert_eq!(ask(&["weather.write", "api://evil/x"]), None);
        assert_eq!(ask(&["openid"]), None);
        assert_eq!(
            qualify_scopes(&["weather.write".to_owned()], &["openid".to_owned()]),
            None
        );
    }

    #[test]
    fn claims_without_a_value_or_scope_without_scopes_give_up() {
        assert_eq!(
            parse(r#"Bearer error="insufficient_claims""#).action(401),
            ChallengeAction::GiveUp
        );
        assert_eq!(
            parse(r#"Bearer error="insufficient_scope""#).action(403),
            ChallengeAction::GiveUp
        );
        assert_eq!(
            parse(r#"Bearer error="invalid_request""#).action(400),
            ChallengeAction::GiveUp
        );
    }
}
