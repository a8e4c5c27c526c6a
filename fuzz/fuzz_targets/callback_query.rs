//! The authorization response at the redirect URI: arbitrary bytes as the query string.
//!
//! Properties: `parse_query` and `check_callback` never panic; `parse_query` agrees with an
//! independent WHATWG-style reading and rejects repeated names; `check_callback` returns a code
//! only when the query carries exactly one `state` equal to the pending one, exactly one
//! non-empty `code` (the code returned), no `error`, an `iss` matching the issuer whenever one
//! is sent (and one whenever the metadata requires it), and the pending sign-in is fresh.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::auth::callback::check_callback;
use nimbus::auth::discovery::ProviderMetadata;
use nimbus::auth::request::{PendingSignIn, PENDING_MAX_AGE_SECS};
use nimbus::auth::secret::Secret;
use nimbus::url::{parse_query, QueryError};
use nimbus_fuzz::{reference_query, reference_query_strict, values, RefQueryError};

const STATE: &str = "s-123";
const ISSUER: &str = "https://login.example/tenant/v2.0";
const CREATED_AT: u64 = 10_000;

fn meta(iss_required: bool, template: bool) -> ProviderMetadata {
    let issuer = if template {
        "https://login.example/{tenantid}/v2.0"
    } else {
        ISSUER
    };
    let text = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": "https://login.example/a",
        "token_endpoint": "https://login.example/t",
        "jwks_uri": "https://login.example/k",
        "authorization_response_iss_parameter_supported": iss_required,
    })
    .to_string();
    nimbus::wire::read_object(&text).expect("ProviderMetadata")
}

/// Built from JSON (as the app reads it back from sessionStorage), so that optional fields the
/// core adds later need no change here.
fn pending() -> PendingSignIn {
    let text = serde_json::json!({
        "state": STATE,
        "nonce": "n-456",
        "verifier": "v",
        "return_to": "/",
        "created_at": CREATED_AT,
        "redirect_uri": "http://localhost:8080/auth/callback",
        "scopes": [],
    })
    .to_string();
    nimbus::wire::read_object(&text).expect("a PendingSignIn")
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the metadata variant and the clock; the rest is the query.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(query) = std::str::from_utf8(rest) else {
        return;
    };
    let iss_required = mode & 1 != 0;
    let template = mode & 2 != 0;
    let now = match (mode >> 2) & 3 {
        0 => CREATED_AT + 60,
        1 => CREATED_AT + PENDING_MAX_AGE_SECS + 1,
        2 => CREATED_AT - 400,
        _ => CREATED_AT + PENDING_MAX_AGE_SECS,
    };
    let fresh = now.saturating_sub(CREATED_AT) <= PENDING_MAX_AGE_SECS && CREATED_AT <= now + 300;

    let reference = reference_query(query);
    let parsed = parse_query(query);
    match (&parsed, reference_query_strict(query)) {
        (Ok(pairs), Ok(r)) => assert_eq!(*pairs, r, "parse_query disagrees on {query:?}"),
        (Err(QueryError::BadEncoding(_)), Err(RefQueryError::BadEncoding)) => {}
        (Err(QueryError::Duplicate(k)), Err(RefQueryError::Duplicate(r))) => assert_eq!(*k, r),
        (Err(QueryError::TooLong), _) if query.len() > nimbus::url::MAX_QUERY_LEN => {}
        (got, want) => panic!("parse_query({query:?}) = {got:?}, the reference says {want:?}"),
    }

    let metadata = meta(iss_required, template);
    let pend = pending();
    // Without a pending sign-in nothing is ever accepted.
    assert!(check_callback(query, None, &metadata, now).is_err());

    let result = check_callback(query, Some(&pend), &metadata, now);
    let Ok(code) = result else {
        return;
    };
    let pairs = reference.expect("accepted a query the reference cannot read");
    assert_eq!(values(&pairs, "state"), [STATE], "state");
    let codes = values(&pairs, "code");
    assert_eq!(codes.len(), 1, "code count");
    assert!(!codes[0].is_empty(), "empty code");
    assert_eq!(code.expose(), codes[0], "returned code");
    assert!(values(&pairs, "error").is_empty(), "error present");
    let iss = values(&pairs, "iss");
    assert!(iss.len() <= 1);
    if iss_required {
        assert_eq!(iss.len(), 1, "iss required but absent");
    }
    if let Some(iss) = iss.first() {
        if template {
            let tid = iss
                .strip_prefix("https://login.example/")
                .and_then(|r| r.strip_suffix("/v2.0"))
                .unwrap_or_else(|| panic!("iss {iss:?} does not fit the template"));
            assert!(nimbus_fuzz::is_guid(tid), "tenant {tid:?} is not a GUID");
        } else {
            assert_eq!(*iss, ISSUER, "iss mismatch");
        }
    }
    assert!(fresh, "accepted a stale pending sign-in at now={now}");
});
