//! The code every fuzz target runs, shared word for word with the stable
//! corpus replay test (`tests/it/fuzz_corpus.rs` includes this file), so that a
//! crash input found by `cargo fuzz` fails `cargo test` too.
//!
//! Each function takes the raw fuzz input, feeds it to the library and
//! panics when an oracle is violated (besides any panic of the library
//! itself). Depends only on `policy_core` (feature `testing`), `tokio` and
//! `serde_json`.

#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use policy_core::testing::TestIssuer;
use policy_core::{Algorithm, BearerConfig, Error, Validator, extract_bearer};
use serde_json::Value;

/// The keys of the issuer behind the validation targets, in order: the
/// generated kids are `es256-1`, `rs256-2`, …, `hs256-10` (the seed corpus
/// names them, so that mutated tokens reach signature verification). The
/// first one signs by default; the HS256 key is published as an `oct` JWK,
/// which the validator must never use.
pub const ALGORITHMS: &[Algorithm] = &[
    Algorithm::ES256,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::HS256,
];

/// The algorithm names the validator allows by default.
const ALLOWED_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// The audience of the validator behind the validation targets.
pub const AUDIENCE: &str = "https://api.example.com";

/// The issuer the discovery target expects.
pub const DISCOVERY_ISSUER: &str = "https://issuer.example/oidc";

/// Separates the header from the payload in a `validate_signed` input (a
/// byte that never occurs in UTF-8 JSON).
pub const SEPARATOR: u8 = 0xff;

/// Whether a `serde_json` refusal is one the library's parsers do not share
/// by design, in members they skip: nesting past serde_json's recursion
/// limit, or a number too large for an `f64` (valid JSON grammar either way).
fn beyond_recursion_limit(e: &serde_json::Error) -> bool {
    let message = e.to_string();
    message.contains("recursion limit") || message.contains("number out of range")
}

/// Whether a `serde_json` refusal is about string contents in members that the
/// JWKS and discovery parsers skip (invalid UTF-8, a lone surrogate, a
/// malformed `\u` escape): harmless in a document of the configured issuer.
fn unvalidated_string(e: &serde_json::Error) -> bool {
    let message = e.to_string();
    message.contains("invalid unicode code point")
        || message.contains("surrogate")
        || message.contains("escape")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `haystack` with every `needle` replaced by `with`, byte for byte.
fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while !rest.is_empty() {
        if rest.starts_with(needle) {
            out.extend_from_slice(with);
            rest = &rest[needle.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

// ===== bearer_header =====

/// `extract_bearer` over the `\n`-separated header values of `data`.
///
/// Oracle: an extracted token is a non-empty token68 string within the
/// length limit, taken from the only header value, which starts with the
/// `Bearer` scheme; every refusal is a 400 or a 401.
pub fn bearer_header(data: &[u8]) {
    let config = BearerConfig::default();
    let values: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    match extract_bearer(values.iter().copied(), &config) {
        Ok(token) => {
            assert_eq!(values.len(), 1, "a token from several header values");
            let value = values.first().copied().unwrap_or_default();
            assert!(
                value.len() > 6 && value[..6].eq_ignore_ascii_case(b"bearer"),
                "a token without the Bearer scheme"
            );
            assert!(!token.is_empty() && token.len() <= config.max_token_len);
            let body = token.trim_end_matches('=');
            assert!(!body.is_empty());
            assert!(body.bytes().all(|b| b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')));
            let value = std::str::from_utf8(value).expect("an accepted header is ASCII");
            assert!(value.contains(token));
        }
        Err(e) => {
            let status = e.status().as_u16();
            assert!(status == 400 || status == 401, "{e:?} answered {status}");
            assert_eq!(e.is_malformed_request(), status == 400);
        }
    }
}

// ===== validate_token / validate_signed =====

/// A validator whose keys are loaded once, with the issuer that serves them,
/// on a runtime of its own.
pub struct TokenTarget {
    runtime: tokio::runtime::Runtime,
    issuer: TestIssuer,
    validator: Validator,
}

impl TokenTarget {
    /// Starts the issuer with one key of each of [`ALGORITHMS`] and loads
    /// its keys. Unknown-kid refetches are limited to one an hour and the
    /// periodic refresh to one a day, so runs are (nearly) deterministic.
    pub fn new() -> TokenTarget {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let (issuer, validator) = runtime.block_on(async {
            let issuer = TestIssuer::with_algorithms(ALGORITHMS).await;
            let validator = issuer
                .validator_builder(AUDIENCE)
                .unknown_kid_refetch_interval(Duration::from_secs(3600))
                .refresh_bounds(Duration::from_secs(86_400), Duration::from_secs(86_400))
                .build()
                .expect("a valid configuration");
            validator.ready().await.expect("the issuer's keys load");
            (issuer, validator)
        });
        TokenTarget {
            runtime,
            issuer,
            validator,
        }
    }

    /// The issuer.
    pub fn issuer(&self) -> &TestIssuer {
        &self.issuer
    }

    /// Validates `data` (if UTF-8) as a token.
    ///
    /// Oracle: arbitrary bytes never validate (the seeds were signed by
    /// other keys, and forging is the fuzzer's only way in), and the refusal
    /// is a 401 `invalid_token`, or a 400 `invalid_request` for text that is
    /// no bearer token at all (empty, too long, not token68: `validate`
    /// applies the bearer limits); the keys are loaded and the issuer is up,
    /// so never a 503.
    pub fn validate_token(&self, data: &[u8]) {
        let Ok(token) = std::str::from_utf8(data) else {
            return;
        };
        let outcome = self.runtime.block_on(self.validator.validate(token));
        match outcome {
            Ok(auth) => panic!("arbitrary bytes validated: {:?}", auth.sub()),
            Err(Error::InvalidToken(_) | Error::InvalidRequest(_)) => {}
            Err(other) => panic!(
                "refused with {other:?} ({}), not invalid_token or invalid_request",
                other.status()
            ),
        }
    }

    /// Splits `data` at the first [`SEPARATOR`] into header and payload JSON
    /// (without one, the header is `{"alg":"ES256","kid":"es256-1"}` and the
    /// payload all of `data`), replaces `$ISS`, `$NOW` and `$EXP` (now + 1 h)
    /// in both, signs them with the key the header's `kid` names (the
    /// current key if none) as a compromised-but-honest issuer would, and
    /// validates the token.
    ///
    /// Oracle: an accepted token has an allowed `alg`, no `crit`, the
    /// configured `iss`, an `exp` in the future and a `nbf` in the past
    /// (within the 60 s leeway), and its `AuthInfo` reports the payload's
    /// `sub` and `organization_id`; a refusal is a 401.
    pub fn validate_signed(&self, data: &[u8]) {
        let (header, payload) = match data.iter().position(|&b| b == SEPARATOR) {
            Some(at) => (data[..at].to_vec(), data[at + 1..].to_vec()),
            None => (
                br#"{"alg":"ES256","kid":"es256-1"}"#.to_vec(),
                data.to_vec(),
            ),
        };
        let now = now();
        let issuer = self.issuer.issuer();
        let substitute = |bytes: Vec<u8>| {
            let bytes = replace(&bytes, b"$ISS", issuer.as_bytes());
            let bytes = replace(&bytes, b"$NOW", now.to_string().as_bytes());
            replace(&bytes, b"$EXP", (now + 3600).to_string().as_bytes())
        };
        let (header, payload) = (substitute(header), substitute(payload));
        let header_value: Option<Value> = serde_json::from_slice(&header).ok();
        let kid = header_value
            .as_ref()
            .and_then(|h| h.get("kid"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let token = self.issuer.sign_raw(&kid, &header, &payload);
        let outcome = self.runtime.block_on(self.validator.validate(&token));
        let auth = match outcome {
            Ok(auth) => auth,
            Err(Error::InvalidToken(_)) => return,
            Err(other) => panic!(
                "refused with {other:?} ({}), not invalid_token",
                other.status()
            ),
        };
        let Some(header) = header_value else {
            let e = serde_json::from_slice::<Value>(&header).expect_err("not JSON");
            panic!("accepted a header that is not JSON text: {e}");
        };
        let alg = header.get("alg").and_then(Value::as_str);
        assert!(
            alg.is_some_and(|a| ALLOWED_ALGORITHMS.contains(&a)),
            "accepted with alg {alg:?}"
        );
        assert!(header.get("crit").is_none(), "accepted with crit");
        assert_eq!(auth.issuer(), issuer);
        let checked_at = self::now();
        assert!(
            auth.expires_at().saturating_add(61) > checked_at,
            "accepted with exp {} at {checked_at}",
            auth.expires_at()
        );
        if let Some(nbf) = auth.not_before() {
            assert!(
                nbf.saturating_sub(61) <= checked_at,
                "accepted with nbf {nbf} at {checked_at}"
            );
        }
        // The payload as serde_json reads it must agree (unless it nests past
        // serde_json's recursion limit, which the strict parser need not have).
        let payload: Value = match serde_json::from_slice(&payload) {
            Ok(payload) => payload,
            Err(e) if beyond_recursion_limit(&e) => return,
            Err(e) => panic!("accepted a payload that is not JSON text: {e}"),
        };
        assert_eq!(
            payload.get("iss").and_then(Value::as_str),
            Some(issuer.as_str())
        );
        let exp = payload
            .get("exp")
            .and_then(Value::as_f64)
            .expect("exp is a number");
        assert_eq!(exp.trunc() as i64, auth.expires_at());
        assert_eq!(
            payload
                .get("nbf")
                .map(|nbf| nbf.as_f64().expect("nbf is a number").trunc() as i64),
            auth.not_before()
        );
        assert_eq!(auth.sub(), payload.get("sub").and_then(Value::as_str));
        assert_eq!(
            auth.organization_id(),
            payload.get("organization_id").and_then(Value::as_str)
        );
    }
}

impl Default for TokenTarget {
    fn default() -> Self {
        TokenTarget::new()
    }
}

// ===== jwks_document / discovery_document / jwt_json =====

/// Parses `data` as a JWKS document.
///
/// Oracle: an accepted document is a JSON object whose `keys` array has at
/// least as many entries as there are usable keys, and at least one.
pub fn jwks_document(data: &[u8]) {
    if let Some(usable) = policy_core::__fuzz::parse_jwks(data) {
        // Members the parser skips are not validated (strings may hold invalid
        // UTF-8): harmless in a document of the configured issuer.
        let document: Value = match serde_json::from_slice(data) {
            Ok(document) => document,
            Err(e) if unvalidated_string(&e) || beyond_recursion_limit(&e) => return,
            Err(e) => panic!("accepted a JWKS that is not JSON: {e}"),
        };
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .expect("an accepted JWKS has a keys array");
        assert!(
            usable >= 1 && usable <= keys.len(),
            "{usable} usable of {}",
            keys.len()
        );
    }
}

/// Parses `data` as PEM public keys given to the builder (`StaticKeys::pem`).
///
/// Oracle: accepted text holds at least as many `PUBLIC KEY` blocks as there
/// are usable keys, at least one, and no private key block (a `BEGIN` line
/// naming a private key).
pub fn pem_keys(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(usable) = policy_core::__fuzz::parse_pem(text) {
        // The PEM parser is lenient: a block may open anywhere in a line, and
        // `-----BEGIN PUBLIC KEY-  ----` still opens one.
        let blocks = text.matches("-----BEGIN PUBLIC KEY").count();
        assert!(
            usable >= 1 && usable <= blocks,
            "{usable} usable of {blocks} blocks"
        );
        // A private key block begins with `-----BEGIN ` and a label naming
        // one (text that merely contains the words is no block).
        let private_block = text.lines().any(|line| {
            line.split_once("-----BEGIN ")
                .is_some_and(|(_, label)| label.contains("PRIVATE KEY"))
        });
        assert!(!private_block, "accepted text with a private key block");
    }
}

/// Parses `data` as the discovery document of [`DISCOVERY_ISSUER`].
///
/// Oracle: an accepted document names exactly that issuer and an `http(s)`
/// JWKS URI.
pub fn discovery_document(data: &[u8]) {
    if let Some(jwks_uri) = policy_core::__fuzz::parse_discovery(data, DISCOVERY_ISSUER) {
        let document: Value = match serde_json::from_slice(data) {
            Ok(document) => document,
            Err(e) if unvalidated_string(&e) || beyond_recursion_limit(&e) => return,
            Err(e) => panic!("accepted a discovery document that is not JSON: {e}"),
        };
        assert_eq!(
            document.get("issuer").and_then(Value::as_str),
            Some(DISCOVERY_ISSUER)
        );
        assert_eq!(
            document.get("jwks_uri").and_then(Value::as_str),
            Some(jwks_uri.as_str())
        );
        // WHATWG URL parsing (reqwest's) is lenient: `HTTP:/host/x` is an
        // http URL with host `host`. The scheme is what matters here.
        // It also strips leading spaces and control characters.
        let lower = jwks_uri
            .trim_start_matches(|c: char| c <= ' ')
            .to_ascii_lowercase();
        assert!(
            lower.starts_with("http:") || lower.starts_with("https:"),
            "{jwks_uri}"
        );
    }
}

/// Parses `data` as a decoded JOSE header and as a decoded JWT payload.
///
/// Oracle: whatever the strict parsers accept is one JSON object for
/// `serde_json` too (the parsers skip unread members without a depth limit,
/// so only `serde_json`'s recursion limit may tell them apart), and an
/// accepted header has a string `alg`.
pub fn jwt_json(data: &[u8]) {
    let header = policy_core::__fuzz::parse_header(data);
    let claims = policy_core::__fuzz::parse_claims(data);
    if !(header || claims) {
        return;
    }
    match serde_json::from_slice::<Value>(data) {
        Ok(value) => {
            assert!(
                value.is_object(),
                "accepted a JSON value that is not an object"
            );
            if header {
                assert!(value.get("alg").is_some_and(Value::is_string));
            }
        }
        Err(e) => assert!(
            beyond_recursion_limit(&e),
            "accepted what serde_json refuses: {e}"
        ),
    }
}

/// Target `dpop_proof`: the raw value of a `DPoP` header.
///
/// Oracle: an accepted proof is three non-empty dot-separated segments of
/// the base64url alphabet within the size limit, whose signing input is
/// the first two segments.
pub fn dpop_proof(data: &[u8]) {
    let Some(signing_input) = policy_core::__fuzz::parse_dpop_proof(data) else {
        return;
    };
    assert!(data.len() <= 8 * 1024, "accepted an over-long proof");
    let segments: Vec<&[u8]> = data.split(|&b| b == b'.').collect();
    assert_eq!(
        segments.len(),
        3,
        "accepted a proof of {} segments",
        segments.len()
    );
    assert!(
        segments.iter().all(|s| !s.is_empty()),
        "accepted an empty segment"
    );
    assert_eq!(signing_input, segments[0].len() + 1 + segments[1].len());
    assert!(
        data.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
        "accepted a character outside base64url"
    );
}
