//! Unit tests of the DPoP module's parts that need no server; the checks
//! over HTTP are in `tests/it/dpop.rs`.

use std::time::Duration;

use super::*;

/// One refusal of every [`DpopError`] variant, for the responses table test.
pub(crate) fn every_error() -> Vec<DpopError> {
    vec![
        DpopError::MissingProof,
        DpopError::MultipleProofs,
        DpopError::Malformed("x"),
        DpopError::WrongType,
        DpopError::AlgorithmNotAllowed,
        DpopError::InvalidKey,
        DpopError::InvalidSignature,
        DpopError::MissingClaim("jti"),
        DpopError::MethodMismatch,
        DpopError::UriMismatch,
        DpopError::TooOld,
        DpopError::IssuedInFuture,
        DpopError::TokenHashMismatch,
        DpopError::KeyMismatch,
        DpopError::Replayed,
    ]
}

/// How many arms [`variant`] has.
pub(crate) const VARIANTS: usize = 15;

/// A number per variant, with no wildcard arm.
pub(crate) fn variant(error: &DpopError) -> usize {
    match error {
        DpopError::MissingProof => 0,
        DpopError::MultipleProofs => 1,
        DpopError::Malformed(_) => 2,
        DpopError::WrongType => 3,
        DpopError::AlgorithmNotAllowed => 4,
        DpopError::InvalidKey => 5,
        DpopError::InvalidSignature => 6,
        DpopError::MissingClaim(_) => 7,
        DpopError::MethodMismatch => 8,
        DpopError::UriMismatch => 9,
        DpopError::TooOld => 10,
        DpopError::IssuedInFuture => 11,
        DpopError::TokenHashMismatch => 12,
        DpopError::KeyMismatch => 13,
        DpopError::Replayed => 14,
    }
}

#[test]
fn the_in_memory_store_refuses_a_replay_and_refuses_new_proofs_when_full() {
    let store = InMemoryReplayStore::new(2);
    let ttl = Duration::from_secs(60);
    assert_eq!(store.record_now("a", ttl), Ok(Recorded::New));
    assert_eq!(store.record_now("a", ttl), Ok(Recorded::Seen));
    assert_eq!(store.record_now("b", ttl), Ok(Recorded::New));
    assert_eq!(store.record_now("c", ttl), Err(ReplayStoreError::Full));
    assert_eq!(
        store.record_now("a", ttl),
        Ok(Recorded::Seen),
        "still remembered"
    );
    assert_eq!(store.len(), 2);
}

#[test]
fn the_in_memory_store_forgets_expired_proofs_to_make_room() {
    let store = InMemoryReplayStore::new(1);
    assert_eq!(store.record_now("a", Duration::ZERO), Ok(Recorded::New));
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        store.record_now("b", Duration::from_secs(60)),
        Ok(Recorded::New)
    );
    assert_eq!(
        store.record_now("a", Duration::from_secs(60)),
        Err(ReplayStoreError::Full)
    );
    assert_eq!(store.len(), 1);
}

#[test]
fn an_expired_proof_id_may_be_recorded_again() {
    let store = InMemoryReplayStore::new(4);
    assert_eq!(store.record_now("a", Duration::ZERO), Ok(Recorded::New));
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        store.record_now("a", Duration::from_secs(60)),
        Ok(Recorded::New)
    );
    assert_eq!(
        store.record_now("a", Duration::from_secs(60)),
        Ok(Recorded::Seen)
    );
}

#[test]
fn modes_parse_from_their_names() {
    for mode in [DpopMode::Allowed, DpopMode::Required, DpopMode::Disabled] {
        assert_eq!(mode.as_str().parse::<DpopMode>(), Ok(mode));
    }
    assert!("Required".parse::<DpopMode>().is_err());
}

fn challenge(accepts_bearer: bool, dpop_request: bool) -> challenge::DpopChallenge {
    challenge::DpopChallenge {
        algs: "ES256 EdDSA".into(),
        accepts_bearer,
        dpop_request,
        nonce: None,
    }
}

#[test]
fn the_bearer_challenge_comes_first_and_the_error_goes_on_the_scheme_used() {
    let missing = challenge(true, false).value(&Error::MissingAuthorization, None);
    assert_eq!(
        missing.as_deref(),
        Some("Bearer, DPoP algs=\"ES256 EdDSA\"")
    );
    let bad_proof = Error::InvalidDpopProof(DpopError::Replayed);
    assert_eq!(
        challenge(true, true).value(&bad_proof, None).as_deref(),
        Some(
            "Bearer, DPoP algs=\"ES256 EdDSA\", error=\"invalid_dpop_proof\", \
             error_description=\"the DPoP proof was already used\""
        )
    );
    let bearer_bad = Error::InvalidToken(TokenError::DpopBoundToken);
    let value = challenge(true, false).value(&bearer_bad, None).unwrap();
    assert!(
        value.starts_with("Bearer error=\"invalid_token\""),
        "{value}"
    );
    assert!(value.ends_with(", DPoP algs=\"ES256 EdDSA\""), "{value}");
    let dpop_bad = Error::InvalidToken(TokenError::DpopUnboundToken);
    let value = challenge(true, true).value(&dpop_bad, None).unwrap();
    assert!(
        value.starts_with("Bearer, DPoP algs=\"ES256 EdDSA\", error=\"invalid_token\""),
        "{value}"
    );
}

#[test]
fn required_mode_challenges_with_dpop_alone_even_a_bearer_request() {
    let required = challenge(false, false);
    let value = required
        .value(&Error::InvalidToken(TokenError::DpopRequired), None)
        .unwrap();
    assert!(
        value.starts_with("DPoP algs=\"ES256 EdDSA\", error=\"invalid_token\""),
        "{value}"
    );
    assert_eq!(
        required
            .value(&Error::MissingAuthorization, None)
            .as_deref(),
        Some("DPoP algs=\"ES256 EdDSA\"")
    );
    let unavailable = Error::DpopReplayUnavailable {
        retry_after: Duration::from_secs(1),
    };
    assert_eq!(required.value(&unavailable, None), None);
}

#[test]
fn a_denial_keeps_one_challenge_of_the_scheme_used() {
    let denied = Error::Denied(crate::Denied::WrongAudience);
    let bearer = challenge(true, false).value(&denied, None).unwrap();
    assert!(
        bearer.starts_with("Bearer error=\"insufficient_scope\""),
        "{bearer}"
    );
    assert!(!bearer.contains("DPoP"), "{bearer}");
    let dpop = challenge(true, true).value(&denied, None).unwrap();
    assert!(dpop.starts_with("DPoP algs="), "{dpop}");
    assert!(dpop.contains("error=\"insufficient_scope\""), "{dpop}");
}

#[test]
fn the_thumbprint_is_rfc_7638s_for_its_example_key() {
    // RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(serde_json::json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    }))
    .unwrap();
    assert_eq!(
        check::thumbprint(&jwk).unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn a_token_hash_is_base64url_sha256_of_the_token() {
    // RFC 9449 §7.1's example access token and its `ath`.
    assert_eq!(
        check::token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}
