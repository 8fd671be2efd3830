//! Unit tests of the validator: algorithm and `typ` rules, token shape, builder checks.

use super::verify::{allowed_algorithm, media_type_eq, split};
use super::*;
use crate::algorithm::Algorithm;
use crate::error::{RequestError, TokenError};
use crate::issuers::Issuer;
use crate::jwks::DEFAULT_ALGORITHMS;

#[test]
fn none_and_hmac_are_never_allowed() {
    for name in [
        "none", "None", "NONE", "nOnE", "HS256", "HS384", "HS512", "", "RS256 ",
    ] {
        assert_eq!(
            allowed_algorithm(name, DEFAULT_ALGORITHMS),
            Err(TokenError::AlgorithmNotAllowed),
            "{name}"
        );
    }
    assert_eq!(
        allowed_algorithm("ES256", DEFAULT_ALGORITHMS),
        Ok(Algorithm::ES256)
    );
    assert_eq!(
        allowed_algorithm("ES256", &[Algorithm::RS256]),
        Err(TokenError::AlgorithmNotAllowed)
    );
}

#[test]
fn typ_compares_case_insensitively_with_or_without_application() {
    for (header, required) in [
        ("at+jwt", "at+jwt"),
        ("application/at+jwt", "at+jwt"),
        ("AT+JWT", "application/at+jwt"),
        ("Application/At+Jwt", "APPLICATION/at+jwt"),
    ] {
        assert!(media_type_eq(header, required), "{header} vs {required}");
    }
    assert!(!media_type_eq("JWT", "at+jwt"));
    assert!(!media_type_eq("", "at+jwt"));
    assert!(!media_type_eq("application/", "at+jwt"));
}

#[test]
fn tokens_must_have_three_segments() {
    for token in ["a", "a.b", "a.b.c.d", ".b.c", "a..c"] {
        assert!(split(token).is_err(), "{token}");
    }
    assert!(
        split("a.b.").is_ok(),
        "an empty signature fails later, as a bad signature"
    );
}

#[test]
fn builder_refuses_bad_configuration() {
    assert_eq!(
        Validator::builder().build().err(),
        Some(ConfigError::MissingIssuer)
    );
    assert!(matches!(
        Validator::builder().issuer("not a url").build(),
        Err(ConfigError::InvalidUrl { .. })
    ));
    assert!(matches!(
        Validator::builder()
            .issuer("https://i")
            .algorithms([Algorithm::HS256])
            .build(),
        Err(ConfigError::InvalidAlgorithms(_))
    ));
    assert!(matches!(
        Validator::builder()
            .issuer("https://i")
            .algorithms([])
            .build(),
        Err(ConfigError::InvalidAlgorithms(_))
    ));
    assert!(matches!(
        Validator::builder()
            .issuer("https://i")
            .jwks_uri("nope")
            .build(),
        Err(ConfigError::InvalidUrl { .. })
    ));
}

#[tokio::test]
async fn validate_applies_the_bearer_limits_to_tokens_from_anywhere() {
    // Unreachable issuer: each refusal below happens before any key is needed.
    let validator = Validator::builder()
        .issuer("https://issuer.invalid/oidc")
        .max_token_len(64)
        .build()
        .unwrap();
    let refused = |token: String| {
        let validator = validator.clone();
        async move { validator.validate(&token).await.unwrap_err() }
    };
    assert_eq!(
        refused("a".repeat(1 << 20)).await,
        Error::InvalidRequest(RequestError::TokenTooLong { limit: 64 })
    );
    assert_eq!(
        refused("a.b c".into()).await,
        Error::InvalidRequest(RequestError::InvalidTokenCharacters)
    );
    assert_eq!(
        refused(String::new()).await,
        Error::InvalidRequest(RequestError::EmptyToken)
    );
    // Within the limits, the token itself is judged.
    assert_eq!(
        refused("a.b".into()).await,
        Error::InvalidToken(TokenError::Malformed(
            "a JWT has three dot-separated segments"
        ))
    );
}

#[tokio::test]
async fn new_keys_of_one_issuer_drop_only_that_issuers_cached_tokens() {
    use crate::testing::TestIssuer;
    use crate::token_cache::PresentedToken;
    let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
    let given = |issuer: &TestIssuer| StaticKeys::jwks(issuer.jwks_json().to_string());
    let validator = Validator::builder()
        .issuer(a.issuer())
        .keys(given(&a))
        .add_issuer(Issuer::new(b.issuer()).keys(given(&b)))
        .build()
        .unwrap();
    let (token_a, token_b) = (a.token().sign(), b.token().sign());
    validator.validate(&token_a).await.unwrap();
    validator.validate(&token_b).await.unwrap();
    let cache = validator.inner.cache.as_ref().unwrap();
    assert!(cache.get(PresentedToken(token_a.as_bytes())).is_some());

    // B moves to a new key: its cached token's key left B's set. A's token
    // was signed by a key B never had, and must not be judged by B's keys.
    let old = b.current_kid();
    b.rotate();
    b.remove_key(&old);
    validator.reload_keys(&b.issuer(), given(&b)).unwrap();
    assert!(cache.get(PresentedToken(token_b.as_bytes())).is_none());
    assert!(cache.get(PresentedToken(token_a.as_bytes())).is_some());
}

#[test]
fn the_builders_own_issuer_takes_its_settings_in_any_order() {
    // The JWKS URI given before the issuer still applies: its error proves it.
    assert_eq!(
        Validator::builder()
            .jwks_uri("nope")
            .issuer("https://i")
            .build()
            .err(),
        Some(ConfigError::InvalidUrl {
            what: "JWKS",
            url: "nope".into()
        })
    );
    // Settings for an issuer never named are a mistake, not a default.
    assert_eq!(
        Validator::builder()
            .jwks_uri("https://i/jwks")
            .build()
            .err(),
        Some(ConfigError::MissingIssuer)
    );
    assert_eq!(
        Validator::builder()
            .keys(StaticKeys::jwks("{}"))
            .add_issuer(Issuer::new("https://other"))
            .build()
            .err(),
        Some(ConfigError::MissingIssuer)
    );
    // The last URL wins, and the builder's issuer comes first.
    let validator = Validator::builder()
        .add_issuer(Issuer::new("https://second"))
        .issuer("https://a")
        .issuer("https://first")
        .build()
        .unwrap();
    assert_eq!(
        validator.issuers().collect::<Vec<_>>(),
        ["https://first", "https://second"]
    );
}

#[test]
fn an_added_issuer_inheriting_the_audience_is_named_once_at_build() {
    use crate::test_support::logged_at;
    let build = |builder: ValidatorBuilder| {
        logged_at(tracing::Level::WARN, || {
            builder.build().unwrap();
        })
    };
    let logs = build(
        Validator::builder()
            .issuer("https://first.invalid")
            .add_issuer(Issuer::new("https://inherits.invalid"))
            .add_issuer(Issuer::new("https://own.invalid").audience("https://other-api.example"))
            .audience("https://api.example.com"),
    );
    assert_eq!(
        logs.matches("inherits the validator's").count(),
        1,
        "{logs}"
    );
    assert!(logs.contains("https://inherits.invalid"), "{logs}");
    assert!(!logs.contains("https://own.invalid"), "{logs}");
    assert!(!logs.contains("https://first.invalid"), "{logs}");
    // Nothing to inherit without a validator audience; one issuer is not "added".
    let quiet = build(
        Validator::builder()
            .issuer("https://first.invalid")
            .add_issuer(Issuer::new("https://inherits.invalid")),
    );
    assert_eq!(quiet, "");
    let single = build(
        Validator::builder()
            .issuer("https://first.invalid")
            .audience("https://api.example.com"),
    );
    assert_eq!(single, "");
}

/// The cached-token path of `authenticate` accepts exactly what
/// `extract_bearer` would: a second value, a tab or another scheme around a
/// cached token go the whole way and are refused as before.
#[tokio::test]
async fn a_cached_token_is_found_only_in_a_header_extract_bearer_accepts() {
    let issuer = crate::testing::TestIssuer::start().await;
    let validator = issuer.validator("https://api.example.com");
    let token = issuer
        .token()
        .for_global_api("https://api.example.com")
        .sign();
    let authenticate = |values: Vec<String>| {
        let validator = validator.clone();
        async move {
            let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
            validator.authenticate(values).await
        }
    };
    // Verified once, then cached.
    authenticate(vec![format!("Bearer {token}")]).await.unwrap();
    // Trailing blanks are the HTTP layer's to trim, and `extract_bearer` ignores them.
    for accepted in [
        format!("Bearer {token}"),
        format!("bEaReR   {token}"),
        format!("Bearer {token} \t"),
    ] {
        assert!(
            authenticate(vec![accepted.clone()]).await.is_ok(),
            "{accepted}"
        );
    }
    let refused = [
        (
            vec![format!("Bearer {token}"), format!("Bearer {token}")],
            "multiple_authorization_headers",
        ),
        (
            vec![format!("Bearer \t{token}")],
            "invalid_token_characters",
        ),
        (vec![format!("Bearer\t{token}")], "invalid_token_characters"),
        (vec![format!("Basic {token}")], "unsupported_scheme"),
        (vec![format!("Bearer{token}")], "unsupported_scheme"),
    ];
    for (values, code) in refused {
        let error = authenticate(values.clone()).await.unwrap_err();
        assert_eq!(error.code(), code, "{values:?}");
    }
}
