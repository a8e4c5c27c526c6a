//! Provider metadata (OpenID Connect Discovery 1.0 §3, §4.3) and the issuer rules of the
//! Microsoft identity platform, where multi-tenant authorities publish a `{tenantid}` template.

use serde::{Deserialize, Serialize};

use super::error::AuthError;
use crate::url::parse_absolute;
use crate::wire;

/// The placeholder Entra's multi-tenant metadata uses in `issuer`.
pub const TENANT_TEMPLATE: &str = "{tenantid}";

/// The fields of the discovery document this client uses, checked. Other members are
/// ignored (OIDC Discovery §3 lets providers add their own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub end_session_endpoint: Option<String>,
    pub jwks_uri: String,
    /// RFC 9207 §3: when true, `iss` is required in every authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// The issuer this authority must publish: the authority itself, without a trailing slash.
pub fn expected_issuer(authority: &str) -> String {
    authority.trim_end_matches('/').to_owned()
}

/// `common` and `organizations` serve every Entra tenant; their issuer is a template.
fn is_multi_tenant(authority: &str) -> bool {
    authority
        .trim_end_matches('/')
        .split('/')
        .any(|seg| seg.eq_ignore_ascii_case("common") || seg.eq_ignore_ascii_case("organizations"))
}

/// Does `actual` match the issuer `pattern`, where `{tenantid}` stands for one tenant id?
pub fn issuer_matches(pattern: &str, actual: &str) -> bool {
    match pattern.split_once(TENANT_TEMPLATE) {
        None => pattern == actual,
        Some((prefix, suffix)) => actual
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(is_tenant_id),
    }
}

/// A tenant id as Entra writes it in `tid`: a GUID.
pub fn is_tenant_id(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Parses and checks a discovery document fetched from `{authority}/.well-known/openid-configuration`.
pub fn parse_metadata(authority: &str, body: &str) -> Result<ProviderMetadata, AuthError> {
    if wire::too_large(body) {
        return Err(AuthError::DiscoveryMalformed("the document is too large"));
    }
    let meta: ProviderMetadata = wire::read_object(body).map_err(|_| {
        AuthError::DiscoveryMalformed("not a JSON discovery document with the required fields")
    })?;
    let expected = expected_issuer(authority);
    let issuer_ok = meta.issuer == expected
        || (is_multi_tenant(authority) && meta.issuer.contains(TENANT_TEMPLATE) && {
            // The template must be the authority with its tenant segment replaced.
            let (pre, post) = meta.issuer.split_once(TENANT_TEMPLATE).unwrap_or(("", ""));
            expected.starts_with(pre) && expected.ends_with(post)
        });
    if !issuer_ok {
        return Err(AuthError::DiscoveryIssuerMismatch {
            expected,
            found: meta.issuer.chars().take(200).collect(),
        });
    }
    let authority_origin = parse_absolute(authority)
        .map(|u| u.origin())
        .ok_or(AuthError::DiscoveryMalformed("the authority is not a URL"))?;
    let same_host = |url: &str| {
        parse_absolute(url).is_some_and(|u| {
            u.is_secure_enough() && u.origin() == authority_origin && !u.has_fragment
        })
    };
    if !same_host(&meta.authorization_endpoint) {
        return Err(AuthError::DiscoveryEndpoint("authorization_endpoint"));
    }
    if !same_host(&meta.token_endpoint) {
        return Err(AuthError::DiscoveryEndpoint("token_endpoint"));
    }
    if !same_host(&meta.jwks_uri) {
        return Err(AuthError::DiscoveryEndpoint("jwks_uri"));
    }
    if let Some(end) = &meta.end_session_endpoint {
        if !same_host(end) {
            return Err(AuthError::DiscoveryEndpoint("end_session_endpoint"));
        }
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str =
        "https://login.microsoftonline.com/3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90/v2.0";

    fn doc(issuer: &str, host: &str) -> String {
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"{host}/t/oauth2/v2.0/authorize",
            "token_endpoint":"{host}/t/oauth2/v2.0/token","jwks_uri":"{host}/t/discovery/v2.0/keys",
            "end_session_endpoint":"{host}/t/oauth2/v2.0/logout","extra":[1,2]}}"#
        )
    }

    #[test]
    fn accepts_a_single_tenant_document() {
        let m = parse_metadata(AUTH, &doc(AUTH, "https://login.microsoftonline.com")).unwrap();
        assert_eq!(m.issuer, AUTH);
        assert!(!m.authorization_response_iss_parameter_supported);
    }

    #[test]
    fn rejects_an_issuer_mismatch() {
        let other = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0";
        assert!(matches!(
            parse_metadata(AUTH, &doc(other, "https://login.microsoftonline.com")),
            Err(AuthError::DiscoveryIssuerMismatch { .. })
        ));
    }

    #[test]
    fn allows_the_tenant_template_only_for_multi_tenant_authorities() {
        let common = "https://login.microsoftonline.com/common/v2.0";
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(
            parse_metadata(common, &doc(template, "https://login.microsoftonline.com")).is_ok()
        );
        assert!(parse_metadata(AUTH, &doc(template, "https://login.microsoftonline.com")).is_err());
        let evil_template = "https://evil.example/{tenantid}/v2.0";
        assert!(parse_metadata(
            common,
            &doc(evil_template, "https://login.microsoftonline.com")
        )
        .is_err());
    }

    #[test]
    fn rejects_endpoints_on_another_host() {
        assert_eq!(
            parse_metadata(AUTH, &doc(AUTH, "https://evil.example")),
            Err(AuthError::DiscoveryEndpoint("authorization_endpoint"))
        );
    }

    #[test]
    fn rejects_malformed_documents() {
        let good = doc(AUTH, "https://login.microsoftonline.com");
        let twice = good.replacen('{', r#"{"token_endpoint":"https://x/t","#, 1);
        let twice_unknown = good.replacen('{', r#"{"extra":0,"#, 1);
        let positional = format!(
            r#"["{AUTH}","{h}/a","{h}/t","{h}/l","{h}/k",false]"#,
            h = "https://login.microsoftonline.com"
        );
        let wrong_type = good.replacen(
            '{',
            r#"{"authorization_response_iss_parameter_supported":"yes","#,
            1,
        );
        for body in [
            "",
            "<html>",
            "{}",
            r#"{"issuer":1}"#,
            "[]",
            &twice,
            &twice_unknown,
            &positional,
            &wrong_type,
        ] {
            assert_eq!(
                parse_metadata(AUTH, body),
                Err(AuthError::DiscoveryMalformed(
                    "not a JSON discovery document with the required fields"
                )),
                "{body}"
            );
        }
        let padded = format!("{good}{}", " ".repeat(wire::MAX_BODY_BYTES));
        assert_eq!(
            parse_metadata(AUTH, &padded),
            Err(AuthError::DiscoveryMalformed("the document is too large"))
        );
    }

    #[test]
    fn reads_the_iss_parameter_promise_and_round_trips() {
        let body = doc(AUTH, "https://login.microsoftonline.com").replacen(
            '{',
            r#"{"authorization_response_iss_parameter_supported":true,"#,
            1,
        );
        let m = parse_metadata(AUTH, &body).unwrap();
        assert!(m.authorization_response_iss_parameter_supported);
        let back: ProviderMetadata =
            wire::read_object(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn matches_issuer_templates() {
        let t = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(issuer_matches(
            t,
            "https://login.microsoftonline.com/3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90/v2.0"
        ));
        assert!(!issuer_matches(
            t,
            "https://login.microsoftonline.com/evil/v2.0"
        ));
        assert!(!issuer_matches(
            t,
            "https://login.microsoftonline.com/3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90/v2.0/x"
        ));
        assert!(issuer_matches("https://a/b", "https://a/b"));
        assert!(!issuer_matches("https://a/b", "https://a/b/"));
    }
}
