//! `WWW-Authenticate` values: arbitrary text into `parse_bearer` and `.action(401/403)`, and
//! rendered challenges built from arbitrary values that must read back exactly.
//!
//! Properties: no panic; a challenge is found only if the text names `Bearer` (any case); the
//! action agrees with RFC 6750 §3.1 as restated here; `Bearer error="v1", scope="v2"` (values
//! escaped as quoted-strings, optionally behind other challenges, with odd spacing and case)
//! parses back to exactly v1 and v2.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use nimbus::auth::challenge::{parse_bearer, BearerChallenge, ChallengeAction};
use nimbus_fuzz::quote;

/// What the action must be, restated from RFC 6750 §3.1 and the module's contract.
fn expected_action(c: &BearerChallenge, status: u16) -> ChallengeAction {
    let err = c.error.as_deref();
    if status == 401 && err == Some("insufficient_claims") {
        return match c.claims.as_deref() {
            Some(claims) if !claims.is_empty() => {
                ChallengeAction::ReauthorizeWithClaims(claims.to_owned())
            }
            _ => ChallengeAction::GiveUp,
        };
    }
    if status == 401 && (err.is_none() || err == Some("invalid_token")) {
        return ChallengeAction::RenewAndRetry;
    }
    if status == 403 && err == Some("insufficient_scope") {
        // RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR,
        // NQCHAR = %x21 / %x23-5B / %x5D-7E. Anything else: give up.
        let scopes: Vec<String> = c
            .scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let nqchar = |b: u8| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b);
        return if scopes.is_empty() || !scopes.iter().all(|t| t.bytes().all(nqchar)) {
            ChallengeAction::GiveUp
        } else {
            ChallengeAction::RequestScopes(scopes)
        };
    }
    ChallengeAction::GiveUp
}

fn check_actions(c: &BearerChallenge) {
    for status in [400, 401, 403, 404, 500] {
        let got = c.action(status);
        let want = expected_action(c, status);
        assert_eq!(got, want, "status {status}, {c:?}");
        if let ChallengeAction::RequestScopes(s) = &got {
            // Split on ASCII whitespace (SP HT LF FF CR), as RFC 6749 §3.3 delimits scopes.
            assert!(!s.is_empty());
            assert!(s
                .iter()
                .all(|s| !s.is_empty() && !s.bytes().any(|b| b.is_ascii_whitespace())));
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Rendered {
    error: String,
    scope: String,
    /// Another challenge first, such as `Basic realm="x"` or `Negotiate abc==`.
    before: Option<u8>,
    /// Spelling of the scheme and the parameter names.
    case: u8,
    /// Spaces or tabs around `=` and `,`.
    spacing: u8,
    scope_first: bool,
    realm: Option<String>,
}

fn ws(n: u8) -> &'static str {
    ["", " ", "  ", "\t", " \t "][usize::from(n) % 5]
}

fn render(r: &Rendered) -> String {
    let scheme = ["Bearer", "bearer", "BEARER", "BeArEr"][usize::from(r.case) % 4];
    let (err_name, scope_name) = if r.case & 4 != 0 {
        ("ERROR", "Scope")
    } else {
        ("error", "scope")
    };
    let (a, b) = (ws(r.spacing), ws(r.spacing >> 3));
    let mut params = vec![
        format!("{err_name}{a}={a}{}", quote(&r.error)),
        format!("{scope_name}{a}={a}{}", quote(&r.scope)),
    ];
    if r.scope_first {
        params.swap(0, 1);
    }
    if let Some(realm) = &r.realm {
        params.insert(0, format!("realm={}", quote(realm)));
    }
    let before = match r.before.map(|b| b % 3) {
        None => String::new(),
        Some(0) => "Basic realm=\"x\", ".to_owned(),
        Some(1) => "Negotiate abc==, ".to_owned(),
        Some(_) => "DPoP algs=\"ES256 PS256\", error=\"ignored\", ".to_owned(),
    };
    format!("{before}{scheme} {}", params.join(&format!("{b},{b}")))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    if u.arbitrary::<bool>().unwrap_or(false) {
        let Ok(r) = Rendered::arbitrary(&mut u) else {
            return;
        };
        let header = render(&r);
        if header.len() > 16 * 1024 {
            return;
        }
        let c = parse_bearer(&header).unwrap_or_else(|| panic!("no challenge in {header:?}"));
        assert_eq!(
            c.error.as_deref(),
            Some(r.error.as_str()),
            "error of {header:?}"
        );
        assert_eq!(
            c.scope.as_deref(),
            Some(r.scope.as_str()),
            "scope of {header:?}"
        );
        assert_eq!(c.claims, None);
        assert_eq!(c.error_description, None);
        check_actions(&c);
    } else if let Ok(header) = std::str::from_utf8(u.take_rest()) {
        let Some(c) = parse_bearer(header) else {
            return;
        };
        assert!(
            header.to_ascii_lowercase().contains("bearer"),
            "a challenge without Bearer in {header:?}"
        );
        assert!(header.len() <= 16 * 1024);
        check_actions(&c);
    }
});
