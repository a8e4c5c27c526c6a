//! ID tokens as arbitrary strings: `decode`, then `check_claims` with fixed expectations.
//!
//! Properties: no panic; `decode` accepts only three base64url (no padding) segments whose
//! header and payload are JSON, the payload an object, and reports them faithfully
//! (signing input, signature bytes); `check_claims` succeeds only when an independent
//! validator (`nimbus_fuzz::jwt::acceptable`) agrees on alg/iss/tid/aud/azp/exp/iat/nonce/sub,
//! for a plain and a `{tenantid}` issuer and with no, our or another allowed tenant.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use nimbus::auth::id_token::{check_claims, decode, Expectations};
use nimbus::auth::secret::Nonce;
use nimbus_fuzz::jwt::{acceptable, tenant_lists, CLIENT_ID, ISSUER, ISSUER_TEMPLATE, NONCE, NOW};
use serde_json::Value;

fuzz_target!(|token: &str| {
    let decoded = decode(token);
    let Ok(jwt) = decoded else {
        return;
    };
    // What decode accepted must really be a three-segment compact JWS.
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "decode accepted {} segments", parts.len());
    let seg = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s)
            .unwrap_or_else(|e| panic!("decode accepted bad base64url {s:?}: {e}"))
    };
    // The core checks the whole header (UTF-8, escapes, unique names) before reading `alg`
    // and `kid`; the oracle reads it leniently, falling back to the `alg` the core found.
    let header_bytes = seg(parts[0]);
    let header: Value = serde_json::from_slice(&header_bytes)
        .or_else(|_| serde_json::from_str(&String::from_utf8_lossy(&header_bytes)))
        .unwrap_or_else(|_| serde_json::json!({ "alg": jwt.header.alg }));
    let payload: Value = serde_json::from_slice(&seg(parts[1])).expect("payload JSON");
    assert!(payload.is_object(), "payload is not an object");
    assert_eq!(jwt.signature, seg(parts[2]), "signature bytes");
    assert_eq!(jwt.signing_input, format!("{}.{}", parts[0], parts[1]));
    if let Some(alg) = header.get("alg").and_then(Value::as_str) {
        if !alg.contains('\u{FFFD}') {
            assert_eq!(alg, jwt.header.alg, "alg");
        }
    }

    let nonce = Nonce::new(NONCE);
    for issuer in [ISSUER, ISSUER_TEMPLATE] {
        for tenants in tenant_lists() {
            let expect = Expectations {
                issuer,
                client_id: CLIENT_ID,
                nonce: &nonce,
                now: NOW,
                allowed_tenants: &tenants,
            };
            let got = check_claims(&jwt, &expect);
            let want = acceptable(&header, &payload, issuer, &tenants);
            assert_eq!(
                got.is_ok(),
                want.is_ok(),
                "issuer {issuer}, tenants {tenants:?}: check_claims = {got:?}, reference = {want:?}\nheader {header}\npayload {payload}"
            );
        }
    }
});
