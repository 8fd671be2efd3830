//! Property tests: whatever arrives in the `Authorization` header or as a
//! token, extraction and validation never panic, never accept, and answer
//! 400 or 401 (never 503: the fixture's cache is warm and its unknown-`kid`
//! refetch window is already used, so an unknown kid is a plain 401).

use std::sync::OnceLock;
use std::time::Duration;

use crate::common::API;
use crate::common::http::is_token68;
use crate::common::jws::b64url;

use bearer_policy::{
    Algorithm, BearerConfig, DEFAULT_MAX_TOKEN_LEN, Error, TokenError, Validator, extract_bearer,
};
use policy_core::testing::TestIssuer;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

/// Every algorithm name the validator allows by default.
const ALLOWED: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    issuer: TestIssuer,
    validator: Validator,
    /// A valid RS256 token of the issuer's only key.
    token: String,
    kid: String,
    /// JWKS requests after warm-up; no property may cause another.
    jwks_requests: usize,
}

/// One issuer (one RS256 key) and one validator for the whole binary, with a
/// warm cache and the unknown-kid window (1 hour) already opened.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (issuer, validator, token) = runtime.block_on(async {
            let issuer = TestIssuer::start().await;
            let validator = issuer
                .validator_builder(API)
                .unknown_kid_refetch_interval(Duration::from_secs(3600))
                .build()
                .unwrap();
            let token = issuer.token().for_global_api(API).scopes(["read"]).sign();
            validator.validate(&token).await.unwrap();
            let unknown = issuer.token().kid("warm-up-unknown-kid").sign();
            assert_eq!(
                validator.validate(&unknown).await.unwrap_err(),
                Error::InvalidToken(TokenError::UnknownKey)
            );
            (issuer, validator, token)
        });
        let jwks_requests = issuer.jwks_requests();
        assert_eq!(
            jwks_requests, 2,
            "start-up fetch and one unknown-kid refetch"
        );
        let kid = issuer.current_kid();
        Fixture {
            runtime,
            issuer,
            validator,
            token,
            kid,
            jwks_requests,
        }
    })
}

impl Fixture {
    fn validate(&self, token: &str) -> Result<bearer_policy::AuthInfo, Error> {
        self.runtime.block_on(self.validator.validate(token))
    }

    fn authenticate(&self, values: &[Vec<u8>]) -> Result<bearer_policy::AuthInfo, Error> {
        self.runtime.block_on(
            self.validator
                .authenticate(values.iter().map(Vec::as_slice)),
        )
    }

    fn assert_no_refetch(&self) {
        assert_eq!(
            self.issuer.jwks_requests(),
            self.jwks_requests,
            "a property caused a JWKS fetch"
        );
    }
}

/// The invariant for a request's `Authorization` values: extraction and
/// authentication agree, every error is 400 or 401, and a token is
/// extracted only from one well-formed bearer header and is then rejected
/// with 401.
fn check_header_values(values: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let fx = fixture();
    let config = BearerConfig::default();
    let extracted = extract_bearer(values.iter().map(Vec::as_slice), &config);
    let authenticated = fx.authenticate(values);
    match extracted {
        Err(error) => {
            let status = error.status().as_u16();
            prop_assert!(
                status == 400 || status == 401,
                "{error:?} has status {status}"
            );
            prop_assert_eq!(error.status() == 400, error.is_malformed_request());
            prop_assert_eq!(authenticated.err(), Some(error));
        }
        Ok(token) => {
            prop_assert_eq!(values.len(), 1);
            let header = std::str::from_utf8(&values[0]).unwrap();
            prop_assert!(
                header
                    .get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case("bearer ")),
                "{header:?}"
            );
            prop_assert_eq!(
                token,
                header[7..]
                    .trim_start_matches(' ')
                    .trim_end_matches([' ', '\t'])
            );
            prop_assert!(is_token68(token), "{token:?}");
            prop_assert!(token.len() <= config.max_token_len);
            let error = authenticated.err();
            prop_assert!(
                matches!(error, Some(Error::InvalidToken(_))),
                "{token:?}: {error:?}"
            );
        }
    }
    fx.assert_no_refetch();
    Ok(())
}

/// The invariant for a token string: never accepted; a 400 `invalid_request`
/// when it is no bearer token at all (not token68, or over the length limit:
/// `validate` applies the bearer limits first), else a 401 token error.
fn check_rejected(token: &str) -> Result<Error, TestCaseError> {
    let fx = fixture();
    let error = match fx.validate(token) {
        Ok(auth) => {
            return Err(TestCaseError::fail(format!(
                "{token:?} was accepted: {auth:?}"
            )));
        }
        Err(error) => error,
    };
    if is_token68(token) && token.len() <= DEFAULT_MAX_TOKEN_LEN {
        prop_assert!(
            matches!(error, Error::InvalidToken(_)),
            "{token:?}: {error:?}"
        );
        prop_assert_eq!(error.status().as_u16(), 401);
    } else {
        prop_assert!(
            matches!(error, Error::InvalidRequest(_)),
            "{token:?}: {error:?}"
        );
        prop_assert_eq!(error.status().as_u16(), 400);
    }
    fx.assert_no_refetch();
    Ok(error)
}

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

/// A header value that looks more or less like a bearer credential.
fn bearer_like() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just("Bearer"),
            Just("bearer"),
            Just("BEARER"),
            Just("bEaReR"),
            Just("Basic"),
            Just("Bearerx"),
            Just("Token"),
            Just("")
        ],
        prop_oneof![4 => Just(" ".to_owned()), 1 => "[ \t]{0,3}"],
        prop_oneof![4 => "[A-Za-z0-9._~+/-]{0,120}={0,2}", 1 => "[A-Za-z0-9._~+/=-]{0,120}"],
        prop_oneof![3 => Just(String::new()), 1 => "[ \t=,\"\\\\]{1,3}", 1 => "[ -~]{1,5}"],
        prop::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(scheme, separator, token, tail, noise)| {
            let mut value = format!("{scheme}{separator}{token}{tail}").into_bytes();
            // Occasionally a stray byte (control, obs-text).
            if noise.len() == 2 {
                let at = usize::from(noise[0]) % (value.len() + 1);
                value.insert(at, noise[1]);
            }
            value
        })
}

/// `alg` header values: the allowed ones, refused ones, and noise.
fn algorithm_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(ALLOWED).prop_map(str::to_owned),
        prop::sample::select(
            &[
                "none", "None", "NONE", "HS256", "HS384", "HS512", "rs256", "RS256 ", "", "ES512"
            ][..]
        )
        .prop_map(str::to_owned),
        "[A-Za-z0-9+]{0,8}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_header_bytes_answer_400_or_401(values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..3)) {
        check_header_values(&values)?;
    }

    #[test]
    fn bearer_like_headers_answer_400_or_401(
        values in prop_oneof![
            1 => Just(Vec::new()),
            6 => bearer_like().prop_map(|value| vec![value]),
            1 => prop::collection::vec(bearer_like(), 2..4),
        ],
    ) {
        check_header_values(&values)?;
    }

    #[test]
    fn bearer_header_around_a_real_token_with_noise_answers_400_or_401(
        prefix in "[ -~]{0,3}",
        suffix in "[ -~\t]{0,3}",
        scheme in prop::sample::select(&["Bearer ", "bearer  ", "Bearer\t", "Bearer", "Basic "][..]),
    ) {
        let fx = fixture();
        let value = format!("{prefix}{scheme}{}{suffix}", fx.token);
        let outcome = fx.authenticate(&[value.clone().into_bytes()]);
        // Only untouched token text with nothing but trailing spaces or tabs may validate.
        let untouched = prefix.is_empty()
            && scheme.trim_end().eq_ignore_ascii_case("bearer")
            && scheme.ends_with(' ')
            && suffix.trim_end_matches([' ', '\t']).is_empty();
        match outcome {
            Ok(auth) => {
                prop_assert!(untouched, "{value:?} was accepted");
                prop_assert_eq!(auth.sub(), Some("user-1"));
            }
            Err(error) => {
                prop_assert!(!untouched, "{value:?}: {error:?}");
                let status = error.status().as_u16();
                prop_assert!(status == 400 || status == 401, "{value:?}: {error:?}");
            }
        }
        fx.assert_no_refetch();
    }

    #[test]
    fn arbitrary_token68_strings_are_rejected_with_400_or_401(token in "[A-Za-z0-9._~+/=-]{0,300}") {
        check_rejected(&token)?;
    }

    #[test]
    fn base64url_segments_with_random_dots_are_rejected_with_401(
        token in "[A-Za-z0-9_-]{0,80}(\\.[A-Za-z0-9_-]{0,80}){0,4}\\.?",
    ) {
        check_rejected(&token)?;
    }

    #[test]
    fn arbitrary_bytes_are_rejected_with_400_or_401(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_rejected(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn json_segments_with_random_headers_get_the_precise_401(
        alg in algorithm_name(),
        kid in prop_oneof![Just(None), Just(Some(String::new())), "[a-z0-9-]{1,24}".prop_map(Some)],
        use_real_kid in any::<bool>(),
        crit in any::<bool>(),
        signature in prop::collection::vec(any::<u8>(), 0..300),
        extra in prop::collection::btree_map("[a-z]{1,6}", any::<i32>(), 0..4),
    ) {
        let fx = fixture();
        let kid = if use_real_kid { Some(fx.kid.clone()) } else { kid };
        let mut header = json!({"alg": alg, "typ": "at+jwt"});
        if let Some(kid) = &kid {
            header["kid"] = json!(kid);
        }
        if crit {
            header["crit"] = json!(["exp"]);
        }
        let mut payload = fx.issuer.token().for_global_api(API).payload();
        for (name, value) in extra {
            payload[name] = Value::from(value);
        }
        let token = format!(
            "{}.{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload.to_string().as_bytes()),
            b64url(&signature)
        );
        let error = check_rejected(&token)?;
        let known_kid = kid.as_deref().is_none_or(|k| k == fx.kid);
        let expected = if !ALLOWED.contains(&alg.as_str()) {
            TokenError::AlgorithmNotAllowed
        } else if crit {
            TokenError::CriticalHeader
        } else if !known_kid {
            // Warm cache, window used: no fetch, a plain 401.
            TokenError::UnknownKey
        } else if alg == "RS256" {
            TokenError::InvalidSignature
        } else {
            // The only key is an RSA key declaring RS256.
            TokenError::AlgorithmMismatch
        };
        prop_assert_eq!(error, Error::InvalidToken(expected), "{}", header);
    }

    #[test]
    fn unknown_kids_signed_with_the_real_key_are_401_unknown_key(kid in "[ -~]{0,40}") {
        let fx = fixture();
        prop_assume!(kid != fx.kid);
        let token = fx.issuer.token().for_global_api(API).kid(kid).sign();
        let error = check_rejected(&token)?;
        prop_assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey));
    }

    #[test]
    fn one_character_changed_in_a_valid_token_is_rejected_with_400_or_401(
        index in any::<prop::sample::Index>(),
        replacement in prop::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/~".to_vec()),
    ) {
        let fx = fixture();
        let mut bytes = fx.token.clone().into_bytes();
        let at = index.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        check_rejected(&String::from_utf8(bytes).unwrap())?;
    }

    #[test]
    fn one_character_inserted_or_removed_in_a_valid_token_is_rejected_with_401(
        index in any::<prop::sample::Index>(),
        inserted in prop::option::of(prop::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".to_vec())),
    ) {
        let fx = fixture();
        let mut bytes = fx.token.clone().into_bytes();
        match inserted {
            Some(byte) => bytes.insert(index.index(bytes.len() + 1), byte),
            None => {
                bytes.remove(index.index(bytes.len()));
            }
        }
        check_rejected(&String::from_utf8(bytes).unwrap())?;
    }
}

#[test]
fn fixture_token_is_valid() {
    let fx = fixture();
    let auth = fx.validate(&fx.token).unwrap();
    assert_eq!(auth.scopes(), ["read"]);
    assert_eq!(fx.issuer.algorithm_of(&fx.kid), Some(Algorithm::RS256));
    fx.assert_no_refetch();
}
