//! The one error type of the crate: every way a request can fail to be
//! authorized, with its stable code, HTTP status and RFC 6750 challenge.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a request was not authorized.
///
/// Every variant has a stable machine-readable [`code`](Error::code), an HTTP
/// [`status`](Error::status) and an RFC 6750 `WWW-Authenticate` challenge
/// ([`www_authenticate`](Error::www_authenticate)). Messages never contain the
/// token itself. By family: a malformed request
/// ([`InvalidRequest`](Error::InvalidRequest)) is 400; no credentials
/// ([`MissingAuthorization`](Error::MissingAuthorization),
/// [`UnsupportedScheme`](Error::UnsupportedScheme)) and a bad token
/// ([`InvalidToken`](Error::InvalidToken)) are 401; a policy's
/// [`Denied`](Error::Denied) is 403; an unreachable issuer
/// ([`KeysUnavailable`](Error::KeysUnavailable)) or introspection endpoint
/// ([`IntrospectionUnavailable`](Error::IntrospectionUnavailable),
/// [`IntrospectionBusy`](Error::IntrospectionBusy)) is 503.
///
// The table below is the one list of the codes: a unit test fails when a
// code is missing from it or it names one that does not exist.
#[doc = include_str!("docs/responses.md")]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request has no `Authorization` header.
    #[error("Authorization header is missing")]
    MissingAuthorization,
    /// The `Authorization` header uses a scheme other than `Bearer`.
    #[error("Authorization header does not use the Bearer scheme")]
    UnsupportedScheme,
    /// The request is malformed: see [`RequestError`].
    #[error("Invalid request: {0}")]
    InvalidRequest(#[from] RequestError),
    /// The token is well formed but not valid: see [`TokenError`].
    #[error("Invalid token: {0}")]
    InvalidToken(#[from] TokenError),
    /// The token needs a key we do not have, and the issuer's key set could not
    /// be fetched. Retry later.
    // The reason names issuer URLs and statuses: kept out of the message that
    // unauthenticated clients see (it is logged when the fetch fails).
    #[error("Signing keys are unavailable, retry later")]
    KeysUnavailable {
        /// Why the key set could not be obtained (no secrets, no token).
        reason: Cow<'static, str>,
        /// When a retry may succeed.
        retry_after: Duration,
    },
    /// The token is valid but the policy does not allow the request.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The request's DPoP proof is refused: see [`DpopError`](crate::DpopError).
    #[error("Invalid DPoP proof: {0}")]
    InvalidDpopProof(#[from] crate::dpop::DpopError),
    /// The server requires a DPoP nonce and the proof carries none, or an
    /// old one: retry with the one in the response's `DPoP-Nonce` header.
    #[error("Invalid DPoP proof: the server requires a fresh nonce")]
    UseDpopNonce,
    /// The store that remembers DPoP proofs is full or unreachable: the
    /// proof cannot be checked for replay, so it is refused. Retry later.
    #[error("DPoP proofs cannot be checked now, retry later")]
    DpopReplayUnavailable {
        /// When a retry may succeed.
        retry_after: Duration,
    },
    /// An opaque token needs token introspection, and the issuer's
    /// introspection endpoint failed (unreachable, timed out, 5xx, refused
    /// this service's client credentials, or answered a document that is not
    /// an introspection response). Retry later.
    // The reason names URLs and statuses: logged, never shown to clients.
    #[error("Token introspection is unavailable, retry later")]
    IntrospectionUnavailable {
        /// Why the introspection failed (no secret, no token).
        reason: Cow<'static, str>,
        /// When a retry may succeed.
        retry_after: Duration,
    },
    /// An opaque token needs token introspection, and as many introspection
    /// calls as allowed are in flight: refused at once rather than queued, so
    /// that a flood of tokens cannot turn this service against its issuer.
    #[error("Too many token introspections in flight, retry later")]
    IntrospectionBusy {
        /// When a retry may succeed.
        retry_after: Duration,
    },
}

/// Why a request is malformed (HTTP 400, `error="invalid_request"`): its
/// credentials cannot even be read as one bearer token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request carries more than one `Authorization` header.
    #[error("more than one Authorization header")]
    MultipleAuthorizationHeaders,
    /// The `Authorization` header contains bytes that are not visible ASCII.
    #[error("the Authorization header contains bytes that are not visible ASCII")]
    NonAsciiHeader,
    /// `Bearer` is followed by no token.
    #[error("the bearer token is empty")]
    EmptyToken,
    /// The token contains whitespace or characters outside the token68 alphabet.
    #[error("the bearer token contains characters outside the token68 alphabet")]
    InvalidTokenCharacters,
    /// The token is longer than the configured limit.
    #[error("the bearer token is longer than {limit} bytes")]
    TokenTooLong {
        /// The configured limit in bytes.
        limit: usize,
    },
}

impl RequestError {
    /// The stable machine-readable code of this malformed request.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::MultipleAuthorizationHeaders => "multiple_authorization_headers",
            RequestError::NonAsciiHeader => "non_ascii_header",
            RequestError::EmptyToken => "empty_token",
            RequestError::InvalidTokenCharacters => "invalid_token_characters",
            RequestError::TokenTooLong { .. } => "token_too_long",
        }
    }
}

/// Why a well-formed token is not valid (HTTP 401, `error="invalid_token"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is not three base64url segments holding JSON.
    #[error("the token is not a well-formed JWT ({0})")]
    Malformed(&'static str),
    /// The header's `alg` is not in the allow-list (this includes `none` and HMAC).
    #[error("the signing algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The header's `alg` does not agree with the key's `alg` or key type.
    #[error("the signing algorithm does not match the key")]
    AlgorithmMismatch,
    /// The issuer's key set has no key with this token's `kid`.
    #[error("the signing key is unknown")]
    UnknownKey,
    /// The issuer's key set publishes two different keys for this token's
    /// algorithm under its `kid`: which one signs is anyone's guess.
    #[error("the signing key is ambiguous")]
    AmbiguousKey,
    /// The signature does not verify.
    #[error("the signature is invalid")]
    InvalidSignature,
    /// The header lists critical extensions (`crit`), none of which we understand.
    #[error("the token uses critical header extensions")]
    CriticalHeader,
    /// The header's `typ` is not the one required.
    #[error("the token type is not accepted")]
    WrongType,
    /// `exp` is in the past (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is none of the configured issuers.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// A required claim is absent.
    #[error("the claim `{0}` is missing")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type or an impossible value.
    #[error("the claim `{0}` is invalid")]
    InvalidClaim(&'static str),
    /// The claims do not fit the type the API reads them into (the axum
    /// `Claims<T>` extractor): a claim it needs is absent or of another type.
    #[error("the token's claims do not have the form this API expects")]
    UnexpectedClaims,
    /// A token bound to a key (`cnf.jkt`, RFC 9449) presented as a bearer
    /// token: it is valid only with the `DPoP` scheme and a proof.
    #[error("the token is bound to a key: present it with the DPoP scheme and a proof")]
    DpopBoundToken,
    /// A token bound to no key presented with the `DPoP` scheme.
    #[error("the token is not bound to a key")]
    DpopUnboundToken,
    /// A bearer token where DPoP is required (the validator's or issuer's
    /// mode, or the route's policy).
    #[error("this resource requires a DPoP-bound token and proof")]
    DpopRequired,
    /// Token introspection says the token is not active (revoked, expired,
    /// unknown to the issuer).
    #[error("the token is not active")]
    Inactive,
    /// The token's `aud` does not name this resource, on an endpoint where a
    /// token meant for another resource is no credential
    /// ([`Requirements::audience_as_authentication`](crate::Requirements::audience_as_authentication):
    /// the MCP endpoint).
    #[error("the token is not intended for this resource")]
    AudienceNotThisResource,
}

/// Why a valid token does not satisfy a [`Policy`](crate::Policy) (HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denied {
    /// Scopes that all must be granted are missing.
    #[error("Insufficient scope: missing {}", .missing.join(" "))]
    MissingScopes {
        /// The required scopes the token does not carry.
        missing: Vec<String>,
    },
    /// None of the scopes of which one suffices was granted.
    #[error("Insufficient scope: requires one of {}", .any_of.join(" "))]
    NoneOfScopes {
        /// The scopes of which any one would have sufficed.
        any_of: Vec<String>,
    },
    /// The token's `aud` does not contain the audience the policy requires.
    #[error("The token is not intended for this resource")]
    WrongAudience,
    /// The token was signed by a trusted issuer that the policy does not
    /// accept ([`Policy::issuers`](crate::Policy::issuers), `issuers(...)` in
    /// `#[requires]`).
    #[error("The token's issuer is not accepted by this resource")]
    IssuerNotAllowed,
    /// The policy needs an audience but none was configured on the policy or the
    /// validator: a server misconfiguration, refused (fail closed) as a 403.
    #[error("No audience is configured for this resource")]
    NoAudienceConfigured,
    /// The token's organization is not the organization of the request.
    #[error("The token is not valid for this organization")]
    OrganizationMismatch,
    /// The request names its organization more than once, with different values.
    #[error("The request names more than one organization")]
    AmbiguousOrganization,
    /// The policy needs an organization but the request names none.
    #[error("The request does not name an organization")]
    MissingOrganization,
    /// A token carrying `organization_id` was presented to a global API.
    #[error("Organization tokens are not accepted by this resource")]
    OrganizationTokenNotAllowed,
    /// The policy requires DPoP ([`Policy::dpop`](crate::Policy::dpop),
    /// `dpop = required`) and the token is not bound to the key of a DPoP
    /// proof: what a decision away from the route says (a handler's own
    /// check, an MCP tool's, [`Policy::decide`](crate::Policy::decide)) when
    /// the route did not decide this policy and let a bearer token through.
    /// A route that decides it answers 401 `dpop_required` before this.
    #[error("This resource requires a DPoP-bound token")]
    DpopBindingRequired,
    /// The policy's check function refused the request (`check = ...` in
    /// `#[requires]`, [`Policy::check_with`](crate::Policy::check_with)): it
    /// returned `false` (`reason: None`), or this denial with a reason, made
    /// with [`Denied::check_failed`].
    ///
    /// The message is the `reason` when there is one, and the response shows
    /// it to the client; without one it names nothing about the rule (the
    /// check's name goes to the `debug` log, not to the client). Like the
    /// other denials that no scope would fix, the challenge is
    /// `error="insufficient_scope"` with an `error_description` and no
    /// `scope`.
    #[error("{}", .reason.as_deref().unwrap_or(CHECK_FAILED))]
    CheckFailed {
        /// The check function's own reason, shown to the client.
        reason: Option<Cow<'static, str>>,
    },
}

/// The message of a check that refused without a reason of its own.
const CHECK_FAILED: &str = "The request does not meet an access rule of this resource";

impl Denied {
    /// The denial a check function returns to refuse with a reason of its
    /// own: 403 `check_failed`, with `reason` as the message of the response
    /// (the JSON body's `error` and the challenge's `error_description`).
    ///
    /// The client reads the reason: write what the caller may know ("only
    /// staff may delete products"), never a secret, a claim of someone else,
    /// or configuration (the allowed domains, a tenant list). Characters that
    /// a header cannot carry are dropped from the challenge, not from the body.
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// use bearer_policy::{AuthInfo, Denied};
    ///
    /// fn verified_email(auth: &AuthInfo) -> Result<(), Denied> {
    ///     match auth.claim("email_verified") {
    ///         Some(serde_json::Value::Bool(true)) => Ok(()),
    ///         _ => Err(Denied::check_failed("verify your email address first")),
    ///     }
    /// }
    /// assert_eq!(
    ///     Denied::check_failed("verify your email address first").to_string(),
    ///     "verify your email address first"
    /// );
    /// ```
    pub fn check_failed(reason: impl Into<Cow<'static, str>>) -> Denied {
        Denied::CheckFailed {
            reason: Some(reason.into()),
        }
    }

    /// The stable machine-readable code of this denial.
    pub fn code(&self) -> &'static str {
        match self {
            Denied::MissingScopes { .. } | Denied::NoneOfScopes { .. } => "insufficient_scope",
            Denied::WrongAudience => "wrong_audience",
            Denied::IssuerNotAllowed => "issuer_not_allowed",
            Denied::NoAudienceConfigured => "no_audience_configured",
            Denied::OrganizationMismatch => "organization_mismatch",
            Denied::MissingOrganization => "missing_organization",
            Denied::AmbiguousOrganization => "ambiguous_organization",
            Denied::OrganizationTokenNotAllowed => "organization_token_not_allowed",
            Denied::DpopBindingRequired => "dpop_binding_required",
            Denied::CheckFailed { .. } => "check_failed",
        }
    }
}

impl TokenError {
    /// The stable machine-readable code of this token error.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed(_) => "malformed_token",
            TokenError::AlgorithmNotAllowed => "algorithm_not_allowed",
            TokenError::AlgorithmMismatch => "algorithm_mismatch",
            TokenError::UnknownKey => "unknown_key",
            TokenError::AmbiguousKey => "ambiguous_key",
            TokenError::InvalidSignature => "invalid_signature",
            TokenError::CriticalHeader => "critical_header",
            TokenError::WrongType => "wrong_token_type",
            TokenError::Expired => "token_expired",
            TokenError::NotYetValid => "token_not_yet_valid",
            TokenError::WrongIssuer => "wrong_issuer",
            TokenError::MissingClaim(_) => "missing_claim",
            TokenError::InvalidClaim(_) => "invalid_claim",
            TokenError::UnexpectedClaims => "unexpected_claims",
            TokenError::DpopBoundToken => "dpop_bound_token",
            TokenError::DpopUnboundToken => "dpop_unbound_token",
            TokenError::DpopRequired => "dpop_required",
            TokenError::Inactive => "token_inactive",
            TokenError::AudienceNotThisResource => "audience_not_this_resource",
        }
    }
}

impl Error {
    /// The stable machine-readable code, e.g. `missing_authorization` or `token_expired`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::MissingAuthorization => "missing_authorization",
            Error::UnsupportedScheme => "unsupported_scheme",
            Error::InvalidRequest(e) => e.code(),
            Error::InvalidToken(e) => e.code(),
            Error::KeysUnavailable { .. } => "keys_unavailable",
            Error::Denied(d) => d.code(),
            Error::InvalidDpopProof(e) => e.code(),
            Error::UseDpopNonce => "use_dpop_nonce",
            Error::DpopReplayUnavailable { .. } => "dpop_replay_unavailable",
            Error::IntrospectionUnavailable { .. } => "introspection_unavailable",
            Error::IntrospectionBusy { .. } => "introspection_busy",
        }
    }

    /// Whether this is a malformed request (400 `invalid_request`).
    pub fn is_malformed_request(&self) -> bool {
        matches!(self, Error::InvalidRequest(_))
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Error::MissingAuthorization
            | Error::UnsupportedScheme
            | Error::InvalidToken(_)
            | Error::InvalidDpopProof(_)
            | Error::UseDpopNonce => StatusCode::UNAUTHORIZED,
            Error::Denied(_) => StatusCode::FORBIDDEN,
            Error::KeysUnavailable { .. }
            | Error::DpopReplayUnavailable { .. }
            | Error::IntrospectionUnavailable { .. }
            | Error::IntrospectionBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `Retry-After` delay for a 503, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::KeysUnavailable { retry_after, .. }
            | Error::DpopReplayUnavailable { retry_after }
            | Error::IntrospectionUnavailable { retry_after, .. }
            | Error::IntrospectionBusy { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The RFC 6750 `WWW-Authenticate` value, or `None` where no challenge applies
    /// (503). `resource_metadata` is the RFC 9728 metadata URL to advertise in
    /// the bare challenge of a request without credentials.
    pub fn www_authenticate(&self, resource_metadata: Option<&str>) -> Option<String> {
        let value = match self {
            Error::MissingAuthorization | Error::UnsupportedScheme => match resource_metadata {
                Some(url) => format!("Bearer resource_metadata=\"{}\"", quoted(url)),
                None => "Bearer".to_owned(),
            },
            Error::InvalidRequest(_) => format!(
                "Bearer error=\"invalid_request\", error_description=\"{}\"",
                quoted(&self.to_string())
            ),
            Error::InvalidToken(e) => format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                quoted(&e.to_string())
            ),
            Error::Denied(
                Denied::MissingScopes { missing: scopes } | Denied::NoneOfScopes { any_of: scopes },
            ) => format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                quoted(&scopes.join(" "))
            ),
            Error::Denied(d) => format!(
                "Bearer error=\"insufficient_scope\", error_description=\"{}\"",
                quoted(&d.to_string())
            ),
            Error::InvalidDpopProof(e) => format!(
                "DPoP error=\"invalid_dpop_proof\", error_description=\"{}\"",
                quoted(&e.to_string())
            ),
            Error::UseDpopNonce => format!(
                "DPoP error=\"use_dpop_nonce\", error_description=\"{}\"",
                quoted(&self.to_string())
            ),
            Error::KeysUnavailable { .. }
            | Error::DpopReplayUnavailable { .. }
            | Error::IntrospectionUnavailable { .. }
            | Error::IntrospectionBusy { .. } => return None,
        };
        Some(value)
    }
}

/// Makes a string safe inside an RFC 7230 quoted-string: no quotes, backslashes
/// or control characters (scope text and our own messages never need them).
pub(crate) fn quoted(s: &str) -> Cow<'_, str> {
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\')
                .collect(),
        )
    }
}

/// A configuration or key-set problem, reported by [`Validator::ready`](crate::Validator::ready)
/// and by the builder. At request time these surface as [`Error::KeysUnavailable`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A URL in the configuration is not a valid absolute `http`/`https` URL.
    #[error("invalid {what} URL: {url}")]
    InvalidUrl {
        /// Which URL (issuer, JWKS).
        what: &'static str,
        /// The URL as given.
        url: String,
    },
    /// No issuer is configured; or keys or a JWKS URI were given for the
    /// builder's [`issuer`](crate::ValidatorBuilder::issuer) without one; or
    /// an issuer with static keys is the empty string.
    #[error("no issuer configured")]
    MissingIssuer,
    /// The discovery document names another issuer than the one configured.
    #[error("the discovery document names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The `issuer` of the discovery document.
        found: String,
    },
    /// The algorithm allow-list is empty or holds an algorithm that cannot be used with a JWKS.
    #[error("invalid algorithm allow-list: {0}")]
    InvalidAlgorithms(&'static str),
    /// An HTTP request to the issuer failed (connection, timeout, status).
    #[error("request to {url} failed: {reason}")]
    Fetch {
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Keys given to the builder ([`StaticKeys`](crate::StaticKeys)) could not
    /// be read or hold no usable verification key.
    #[error("invalid keys from {origin}: {reason}")]
    InvalidKeys {
        /// Which keys: `static JWKS`, `static PEM keys` or the file's path.
        origin: String,
        /// What was wrong with them.
        reason: String,
    },
    /// The same issuer was configured twice.
    #[error("issuer {0:?} is configured more than once")]
    DuplicateIssuer(String),
    /// An operation named an issuer the validator does not trust.
    #[error("issuer {0:?} is not configured")]
    UnknownIssuer(String),
    /// [`Validator::reload_keys`](crate::Validator::reload_keys) on an issuer
    /// whose keys are fetched, not given.
    #[error("issuer {0:?} fetches its keys; only static keys can be reloaded")]
    NotStatic(String),
    /// A DPoP setting is unusable (a public URL, the proof algorithms, the
    /// nonce secret, the Redis URL).
    #[error("invalid DPoP configuration: {0}")]
    InvalidDpop(String),
    /// A document from the issuer could not be parsed or was unusable.
    #[error("invalid document from {url}: {reason}")]
    InvalidDocument {
        /// The URL requested.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// Token introspection is misconfigured: two issuers introspect and no
    /// rule picks one for an opaque token, or a setting is out of range.
    #[error("invalid token introspection configuration: {0}")]
    InvalidIntrospection(&'static str),
    /// The MCP endpoint's canonical URI (the validator's audience) is
    /// missing or not an absolute `http`/`https` URI without a query or fragment.
    #[error("the MCP endpoint needs the validator's audience as its canonical URI: {0}")]
    McpResource(String),
    /// `#[requires]` protects an MCP tool, prompt or resource that the
    /// server does not publish: its policy could never apply (a misspelt or
    /// renamed item).
    #[error("`#[requires]` protects the MCP {kind} {name:?}, which the server does not publish")]
    UnpublishedMcpItem {
        /// Tool, prompt or resource.
        kind: crate::McpKind,
        /// Its name, or a resource's URI.
        name: String,
    },
}

impl fmt::Display for crate::Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_rfc_6750() {
        assert_eq!(Error::MissingAuthorization.status(), 401);
        assert_eq!(Error::UnsupportedScheme.status(), 401);
        assert_eq!(Error::from(RequestError::EmptyToken).status(), 400);
        assert_eq!(
            Error::from(RequestError::TokenTooLong { limit: 8 }).status(),
            400
        );
        assert_eq!(Error::InvalidToken(TokenError::Expired).status(), 401);
        assert_eq!(Error::Denied(Denied::WrongAudience).status(), 403);
        let unavailable = Error::KeysUnavailable {
            reason: "down".into(),
            retry_after: Duration::from_secs(5),
        };
        assert_eq!(unavailable.status(), 503);
        assert_eq!(unavailable.www_authenticate(None), None);
        assert_eq!(unavailable.retry_after(), Some(Duration::from_secs(5)));
        assert!(
            !unavailable.to_string().contains("down"),
            "no internals in the message"
        );
    }

    #[test]
    fn challenges_carry_the_rfc_6750_error_attribute() {
        assert_eq!(
            Error::MissingAuthorization
                .www_authenticate(None)
                .as_deref(),
            Some("Bearer")
        );
        assert_eq!(
            Error::MissingAuthorization
                .www_authenticate(Some(
                    "https://api.example.com/.well-known/oauth-protected-resource"
                ))
                .as_deref(),
            Some(
                "Bearer resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\""
            )
        );
        let bad = Error::InvalidToken(TokenError::Expired)
            .www_authenticate(None)
            .unwrap();
        assert!(bad.starts_with("Bearer error=\"invalid_token\""), "{bad}");
        let scope = Error::Denied(Denied::MissingScopes {
            missing: vec!["api:read".into(), "api:write".into()],
        })
        .www_authenticate(None)
        .unwrap();
        assert_eq!(
            scope,
            "Bearer error=\"insufficient_scope\", scope=\"api:read api:write\""
        );
        let malformed = Error::from(RequestError::EmptyToken)
            .www_authenticate(None)
            .unwrap();
        assert!(
            malformed.starts_with("Bearer error=\"invalid_request\""),
            "{malformed}"
        );
    }

    #[test]
    fn a_failed_check_is_a_403_like_the_other_denials_that_are_not_about_scopes() {
        let failed = Error::Denied(Denied::CheckFailed { reason: None });
        assert_eq!(failed.status(), 403);
        assert_eq!(failed.code(), "check_failed");
        // No `scope` attribute: no scope would help. The description names
        // nothing about the rule.
        assert_eq!(
            failed.www_authenticate(None).as_deref(),
            Some(
                "Bearer error=\"insufficient_scope\", error_description=\"The request does not \
                 meet an access rule of this resource\""
            )
        );
        assert_eq!(
            Error::Denied(Denied::WrongAudience)
                .www_authenticate(None)
                .map(|c| c.split(',').next().map(str::to_owned)),
            failed
                .www_authenticate(None)
                .map(|c| c.split(',').next().map(str::to_owned)),
        );
        // A reason of the check's own is its message, made safe for the header.
        let reason = Error::Denied(Denied::check_failed("only \"staff\"\nmay delete"));
        assert_eq!(reason.code(), "check_failed");
        assert_eq!(reason.to_string(), "only \"staff\"\nmay delete");
        assert_eq!(
            reason.www_authenticate(None).as_deref(),
            Some("Bearer error=\"insufficient_scope\", error_description=\"only staffmay delete\"")
        );
    }

    #[test]
    fn invalid_token_messages_begin_as_the_logto_guide_expects() {
        assert!(
            Error::InvalidToken(TokenError::InvalidSignature)
                .to_string()
                .starts_with("Invalid token")
        );
        assert_eq!(
            Error::MissingAuthorization.to_string(),
            "Authorization header is missing"
        );
    }

    #[test]
    fn quoting_drops_characters_that_would_break_the_header() {
        assert_eq!(quoted("a\"b\\c\nd"), "abcd");
        assert_eq!(quoted("plain"), "plain");
    }

    /// One error of every variant that has a code, nested variants included.
    fn every_error() -> Vec<Error> {
        let every: Vec<Error> = vec![
            Error::MissingAuthorization,
            Error::UnsupportedScheme,
            RequestError::MultipleAuthorizationHeaders.into(),
            RequestError::NonAsciiHeader.into(),
            RequestError::EmptyToken.into(),
            RequestError::InvalidTokenCharacters.into(),
            RequestError::TokenTooLong { limit: 8 }.into(),
            TokenError::Malformed("three segments").into(),
            TokenError::AlgorithmNotAllowed.into(),
            TokenError::AlgorithmMismatch.into(),
            TokenError::UnknownKey.into(),
            TokenError::AmbiguousKey.into(),
            TokenError::InvalidSignature.into(),
            TokenError::CriticalHeader.into(),
            TokenError::WrongType.into(),
            TokenError::Expired.into(),
            TokenError::NotYetValid.into(),
            TokenError::WrongIssuer.into(),
            TokenError::MissingClaim("sub").into(),
            TokenError::InvalidClaim("exp").into(),
            TokenError::UnexpectedClaims.into(),
            TokenError::AudienceNotThisResource.into(),
            Error::KeysUnavailable {
                reason: "down".into(),
                retry_after: Duration::from_secs(1),
            },
            Denied::MissingScopes {
                missing: vec!["a".into()],
            }
            .into(),
            Denied::NoneOfScopes {
                any_of: vec!["a".into()],
            }
            .into(),
            Denied::WrongAudience.into(),
            Denied::IssuerNotAllowed.into(),
            Denied::NoAudienceConfigured.into(),
            Denied::OrganizationMismatch.into(),
            Denied::AmbiguousOrganization.into(),
            Denied::MissingOrganization.into(),
            Denied::OrganizationTokenNotAllowed.into(),
            Denied::DpopBindingRequired.into(),
            Denied::CheckFailed { reason: None }.into(),
            TokenError::DpopBoundToken.into(),
            TokenError::DpopUnboundToken.into(),
            TokenError::DpopRequired.into(),
            Error::UseDpopNonce,
            Error::DpopReplayUnavailable {
                retry_after: Duration::from_secs(1),
            },
            TokenError::Inactive.into(),
            Error::IntrospectionUnavailable {
                reason: "down".into(),
                retry_after: Duration::from_secs(1),
            },
            Error::IntrospectionBusy {
                retry_after: Duration::from_secs(1),
            },
        ];
        let every: Vec<Error> = every
            .into_iter()
            .chain(
                crate::dpop::tests::every_error()
                    .into_iter()
                    .map(Error::from),
            )
            .collect();
        // Each variant once: a variant added to the enums must be added here
        // too (the matches below stop compiling), or the count is off.
        let variants: std::collections::BTreeSet<usize> = every.iter().map(variant).collect();
        assert_eq!(variants.len(), every.len(), "a variant is listed twice");
        assert_eq!(
            variants.len(),
            VARIANTS,
            "a variant is missing from the list"
        );
        every
    }

    /// How many arms `variant` has.
    const VARIANTS: usize = 42 + crate::dpop::tests::VARIANTS;

    /// A number per variant, with no wildcard arm: a new variant is a
    /// compile error here until it has its own number (and `VARIANTS` grows).
    fn variant(error: &Error) -> usize {
        match error {
            Error::MissingAuthorization => 0,
            Error::UnsupportedScheme => 1,
            Error::InvalidRequest(e) => match e {
                RequestError::MultipleAuthorizationHeaders => 2,
                RequestError::NonAsciiHeader => 3,
                RequestError::EmptyToken => 4,
                RequestError::InvalidTokenCharacters => 5,
                RequestError::TokenTooLong { .. } => 6,
            },
            Error::InvalidToken(e) => match e {
                TokenError::Malformed(_) => 7,
                TokenError::AlgorithmNotAllowed => 8,
                TokenError::AlgorithmMismatch => 9,
                TokenError::UnknownKey => 10,
                TokenError::AmbiguousKey => 11,
                TokenError::InvalidSignature => 12,
                TokenError::CriticalHeader => 13,
                TokenError::WrongType => 14,
                TokenError::Expired => 15,
                TokenError::NotYetValid => 16,
                TokenError::WrongIssuer => 17,
                TokenError::MissingClaim(_) => 18,
                TokenError::InvalidClaim(_) => 19,
                TokenError::UnexpectedClaims => 20,
                TokenError::DpopBoundToken => 32,
                TokenError::DpopUnboundToken => 33,
                TokenError::DpopRequired => 34,
                TokenError::Inactive => 37,
                TokenError::AudienceNotThisResource => 40,
            },
            Error::KeysUnavailable { .. } => 21,
            Error::Denied(d) => match d {
                Denied::MissingScopes { .. } => 22,
                Denied::NoneOfScopes { .. } => 23,
                Denied::WrongAudience => 24,
                Denied::NoAudienceConfigured => 25,
                Denied::OrganizationMismatch => 26,
                Denied::AmbiguousOrganization => 27,
                Denied::MissingOrganization => 28,
                Denied::OrganizationTokenNotAllowed => 29,
                Denied::CheckFailed { .. } => 30,
                Denied::IssuerNotAllowed => 31,
                Denied::DpopBindingRequired => 41,
            },
            Error::UseDpopNonce => 35,
            Error::DpopReplayUnavailable { .. } => 36,
            Error::IntrospectionUnavailable { .. } => 38,
            Error::IntrospectionBusy { .. } => 39,
            Error::InvalidDpopProof(e) => 42 + crate::dpop::tests::variant(e),
        }
    }

    /// The responses table on `Error`: its rows, and the codes of their last column.
    fn documented_codes() -> Vec<String> {
        let table = include_str!("docs/responses.md");
        let rows = table
            .lines()
            .filter(|line| line.starts_with("| ") && !line.starts_with("| case"));
        rows.flat_map(|row| {
            let code_column = row
                .trim_end_matches('|')
                .rsplit('|')
                .next()
                .unwrap_or_default();
            code_column
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
    }

    #[test]
    fn every_code_is_in_the_responses_table_on_error() {
        let documented = documented_codes();
        for error in every_error() {
            assert!(
                documented.iter().any(|code| code == error.code()),
                "`{}` ({error:?}) is missing from the `code` column of docs/responses.md",
                error.code()
            );
        }
    }

    #[test]
    fn the_responses_table_names_only_codes_that_exist() {
        let codes: Vec<&str> = every_error().iter().map(Error::code).collect();
        let documented = documented_codes();
        assert!(
            documented.len() >= 28,
            "the table was not read: {documented:?}"
        );
        for code in documented {
            assert!(
                codes.contains(&code.as_str()),
                "docs/responses.md names `{code}`, which no error has"
            );
        }
    }

    #[test]
    fn the_responses_table_gives_each_code_its_status() {
        let table = include_str!("docs/responses.md");
        for error in every_error() {
            let row = table
                .lines()
                .find(|line| {
                    line.trim_end().ends_with('|') && line.contains(&format!("`{}`", error.code()))
                })
                .unwrap_or_default();
            assert!(
                row.contains(&format!("| {} |", error.status().as_u16())),
                "the row of `{}` does not give its status {}: {row}",
                error.code(),
                error.status()
            );
        }
    }
}
