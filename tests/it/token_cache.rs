//! The verified-token cache keeps every safety rule of a full validation:
//! byte-identical tokens only, `exp` rechecked on every hit, entries dropped
//! when their key leaves the key set, invalid tokens never cached, policies
//! checked on every request.

use std::time::Duration;

use crate::common::jws::{b64url, decode_json, now, segments, with_payload};
use crate::common::{API, start_issuer};
use bearer_policy::testing::TestIssuer;
use bearer_policy::{Denied, Error, Model, Policy, TokenError, Validator};

async fn setup() -> (TestIssuer, Validator) {
    let issuer = start_issuer().await;
    let validator = issuer
        .validator_builder(API)
        .leeway(Duration::ZERO)
        .unknown_kid_refetch_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    (issuer, validator)
}

#[tokio::test]
async fn a_cached_token_is_refused_once_it_expires() {
    let (issuer, validator) = setup().await;
    let expires_at = now() + 2;
    let token = issuer
        .token()
        .for_global_api(API)
        .expires_at(expires_at)
        .sign();
    // The first validation fills the cache, the second is a hit.
    validator.validate(&token).await.unwrap();
    validator.validate(&token).await.unwrap();
    while now() < expires_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        validator.validate(&token).await.unwrap_err(),
        Error::InvalidToken(TokenError::Expired)
    );
    // And stays refused (the entry is gone, the full path refuses it too).
    assert_eq!(
        validator.validate(&token).await.unwrap_err(),
        Error::InvalidToken(TokenError::Expired)
    );
}

#[tokio::test]
async fn a_hit_needs_the_byte_identical_token() {
    let (issuer, validator) = setup().await;
    let token = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    validator.validate(&token).await.unwrap();

    // Same signature, another payload: must be verified, and fails.
    let (_, payload, _) = segments(&token);
    let mut claims = decode_json(payload);
    claims["scope"] = "api:read api:admin".into();
    let forged = with_payload(&token, &claims);
    assert_eq!(
        validator.validate(&forged).await.unwrap_err(),
        Error::InvalidToken(TokenError::InvalidSignature)
    );
    // One character of the signature changed.
    let mut bytes = token.clone().into_bytes();
    let last = bytes.last_mut().unwrap();
    *last = if *last == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert!(matches!(
        validator.validate(&tampered).await.unwrap_err(),
        Error::InvalidToken(TokenError::InvalidSignature | TokenError::Malformed(_))
    ));
    // A prefix or an extension of the cached token is not a hit either.
    let extended = format!("{token}{}", b64url(b"x"));
    assert!(validator.validate(&extended).await.is_err());
    assert!(validator.validate(&token[..token.len() - 1]).await.is_err());
}

#[tokio::test]
async fn invalid_tokens_are_never_cached_as_valid() {
    let (issuer, validator) = setup().await;
    let token = issuer.token().for_global_api(API).sign();
    let (header, payload, _) = segments(&token);
    let bad = format!("{header}.{payload}.{}", b64url(&[7u8; 64]));
    for _ in 0..3 {
        assert_eq!(
            validator.validate(&bad).await.unwrap_err(),
            Error::InvalidToken(TokenError::InvalidSignature)
        );
    }
    let expired = issuer
        .token()
        .for_global_api(API)
        .expires_at(now() - 10)
        .sign();
    for _ in 0..3 {
        assert_eq!(
            validator.validate(&expired).await.unwrap_err(),
            Error::InvalidToken(TokenError::Expired)
        );
    }
}

#[tokio::test]
async fn a_cached_token_whose_key_left_the_key_set_is_refused() {
    let (issuer, validator) = setup().await;
    let old = issuer.token().for_global_api(API).sign();
    validator.validate(&old).await.unwrap();
    validator.validate(&old).await.unwrap();

    // The issuer replaces its key; a token of the new key makes us refetch.
    issuer.rotate();
    let new = issuer.token().for_global_api(API).sign();
    validator.validate(&new).await.unwrap();

    // The old key is gone from the set: its cached token must not be served.
    let error = validator.validate(&old).await.unwrap_err();
    assert_eq!(error, Error::InvalidToken(TokenError::UnknownKey));
}

#[tokio::test]
async fn policies_are_checked_on_every_hit() {
    let (issuer, validator) = setup().await;
    let token = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    let read = Policy::new(Model::GlobalApi).scopes(["api:read"]);
    let write = Policy::new(Model::GlobalApi).scopes(["api:write"]);
    for _ in 0..3 {
        let auth = validator.validate(&token).await.unwrap();
        assert_eq!(read.decide(&auth, None), Ok(()));
        assert_eq!(
            write.decide(&auth, None),
            Err(Denied::MissingScopes {
                missing: vec!["api:write".into()]
            })
        );
    }
}

#[tokio::test]
async fn cache_on_and_cache_off_agree() {
    let (issuer, cached) = setup().await;
    let uncached = issuer
        .validator_builder(API)
        .leeway(Duration::ZERO)
        .cache_capacity(0)
        .build()
        .unwrap();
    let good = issuer
        .token()
        .for_organization("acme")
        .scopes(["a", "b"])
        .sign();
    for _ in 0..2 {
        let (a, b) = (
            cached.validate(&good).await.unwrap(),
            uncached.validate(&good).await.unwrap(),
        );
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap()
        );
    }
}
