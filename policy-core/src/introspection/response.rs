//! An introspection response (RFC 7662 §2.2) judged: `active`, `token_type`,
//! then the claims through the same strict parsing as a JWT's
//! ([`claims::parse_claims`]), `iss` against the introspecting issuer.

use crate::claims::{self, RawClaims};
use crate::error::TokenError;

/// What a valid introspection response says of a token.
#[derive(Debug)]
pub(super) enum Verdict {
    /// Active, an access token, its claims well typed; the clock is the caller's to check.
    Active(RawClaims),
    /// Not to be accepted: not active, not an access token, a claim of the
    /// wrong type, another issuer. A 401, like the same fault in a JWT.
    Refused(TokenError),
}

/// A document that is not a valid introspection response: the issuer's
/// fault, a 503, never a 401.
pub(super) type InvalidResponse = &'static str;

/// The `token_type` values that mean an access token (compared
/// case-insensitively; RFC 6750 `Bearer`, RFC 9449 `DPoP`, and the names some
/// servers use). No `token_type` also means an access token.
const ACCESS_TOKEN_TYPES: &[&str] = &[
    "bearer",
    "dpop",
    "access_token",
    "urn:ietf:params:oauth:token-type:access_token",
];

/// Judges `body`, the answer of `issuer`'s introspection endpoint.
pub(super) fn parse(body: &[u8], issuer: &str) -> Result<Verdict, InvalidResponse> {
    // serde's derive refuses a duplicated `active` or `token_type` and a
    // value of another type: such a document is broken, not a token's fault.
    #[derive(serde::Deserialize)]
    struct Envelope {
        active: bool,
        #[serde(default)]
        token_type: Option<String>,
    }
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|_| "not an introspection response (a JSON object with a boolean `active`)")?;
    if !envelope.active {
        return Ok(Verdict::Refused(TokenError::Inactive));
    }
    if let Some(token_type) = &envelope.token_type
        && !ACCESS_TOKEN_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(token_type))
    {
        // A refresh token (or any other) reported active is no access token.
        return Ok(Verdict::Refused(TokenError::WrongType));
    }
    let raw = match claims::parse_claims(body) {
        Ok(raw) => raw,
        // Text that is not JSON: the document's fault.
        Err(TokenError::Malformed(_)) => return Err("the response is not valid JSON text"),
        Err(e) => return Ok(Verdict::Refused(e)),
    };
    if raw.iss.as_deref().is_some_and(|iss| iss != issuer) {
        return Ok(Verdict::Refused(TokenError::WrongIssuer));
    }
    Ok(Verdict::Active(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://issuer.test/oidc";

    fn active(body: &str) -> RawClaims {
        match parse(body.as_bytes(), ISSUER) {
            Ok(Verdict::Active(raw)) => raw,
            other => panic!("{body}: {other:?}"),
        }
    }

    fn refused(body: &str) -> TokenError {
        match parse(body.as_bytes(), ISSUER) {
            Ok(Verdict::Refused(e)) => e,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn an_active_response_yields_the_claims_with_their_types() {
        let raw = active(
            r#"{"active":true,"iss":"https://issuer.test/oidc","sub":"u","client_id":"c",
               "aud":["a","b"],"scope":"read write","exp":2000000000,"nbf":5,
               "organization_id":"o","token_type":"Bearer","cnf":{"jkt":"x"}}"#,
        );
        assert_eq!(raw.sub.as_deref(), Some("u"));
        assert_eq!(raw.client_id.as_deref(), Some("c"));
        assert_eq!(raw.audience, ["a", "b"]);
        assert_eq!(raw.scopes, ["read", "write"]);
        assert_eq!(raw.exp, Some(2_000_000_000));
        assert_eq!(raw.nbf, Some(5));
        assert_eq!(raw.organization_id.as_deref(), Some("o"));
    }

    #[test]
    fn sub_exp_iss_and_token_type_may_be_missing() {
        let raw = active(r#"{"active":true,"client_id":"machine","scope":"read"}"#);
        assert_eq!(raw.sub, None);
        assert_eq!(raw.exp, None);
        assert_eq!(raw.iss, None);
    }

    #[test]
    fn inactive_is_refused_whatever_else_it_says() {
        assert_eq!(refused(r#"{"active":false}"#), TokenError::Inactive);
        assert_eq!(
            refused(r#"{"active":false,"scope":["not","checked"]}"#),
            TokenError::Inactive
        );
    }

    #[test]
    fn access_token_types_are_accepted_and_others_refused() {
        for t in ["Bearer", "bearer", "DPoP", "access_token"] {
            active(&format!(r#"{{"active":true,"token_type":"{t}"}}"#));
        }
        for t in ["refresh_token", "id_token", "Basic", ""] {
            assert_eq!(
                refused(&format!(r#"{{"active":true,"token_type":"{t}"}}"#)),
                TokenError::WrongType,
                "{t}"
            );
        }
    }

    #[test]
    fn claims_of_the_wrong_type_are_refused_as_for_a_jwt() {
        let cases = [
            (r#"{"active":true,"scope":["a","b"]}"#, "scope"),
            (r#"{"active":true,"exp":"2000000000"}"#, "exp"),
            (r#"{"active":true,"aud":7}"#, "aud"),
            (r#"{"active":true,"sub":"a","sub":"b"}"#, "sub"),
            (
                r#"{"active":true,"organization_id":false}"#,
                "organization_id",
            ),
        ];
        for (body, claim) in cases {
            assert_eq!(refused(body), TokenError::InvalidClaim(claim), "{body}");
        }
    }

    #[test]
    fn another_issuer_is_refused() {
        assert_eq!(
            refused(r#"{"active":true,"iss":"https://evil.test/oidc"}"#),
            TokenError::WrongIssuer
        );
    }

    #[test]
    fn documents_that_are_not_introspection_responses_are_the_issuers_fault() {
        for body in [
            &b""[..],
            b"[]",
            b"null",
            b"{}",
            br#"{"active":"true"}"#,
            br#"{"active":1}"#,
            br#"{"active":true,"active":false}"#,
            br#"{"active":true,"token_type":7}"#,
            br#"{"active":true} trailing"#,
            b"{\"active\":true,\"note\":\"\\ud800\"}",
            b"<html>502</html>",
        ] {
            assert!(
                parse(body, ISSUER).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
