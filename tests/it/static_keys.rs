//! Keys without discovery: a JWKS document or PEM public keys given to the
//! builder verify tokens with no request at all, under the same algorithm
//! rules as fetched keys, and are replaced only by `reload_keys`.

use bearer_policy::testing::TestIssuer;
use bearer_policy::{Algorithm, ConfigError, Error, Issuer, StaticKeys, TokenError, Validator};
use serde_json::json;

use crate::common::issuer::issuer_requests;
use crate::common::jws::{b64url, hmac_token};
use crate::common::{API, start_issuer};

fn token(issuer: &TestIssuer) -> String {
    issuer.token().for_global_api(API).sign()
}

fn with_keys(issuer: &TestIssuer, keys: StaticKeys) -> Validator {
    Validator::builder()
        .issuer(issuer.issuer())
        .audience(API)
        .keys(keys)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_jwks_document_verifies_tokens_with_the_issuer_stopped() {
    let issuer = TestIssuer::start().await;
    let jwks = issuer.jwks_json().to_string();
    let token = token(&issuer);
    // While the issuer runs, it is never asked...
    let validator = with_keys(&issuer, StaticKeys::jwks(jwks.clone()));
    validator.ready().await.unwrap();
    validator.validate(&token).await.unwrap();
    assert_eq!(issuer_requests(&issuer), 0);
    // ...and once it is gone, nothing changes.
    issuer.stop().await;
    let validator = with_keys(&issuer, StaticKeys::jwks(jwks));
    validator.ready().await.unwrap();
    assert_eq!(
        validator.validate(&token).await.unwrap().issuer(),
        issuer.issuer()
    );
    // An unknown kid is a 401 at once: there is nothing to refetch.
    let unknown = issuer.token().for_global_api(API).kid("elsewhere").sign();
    assert_eq!(
        validator.validate(&unknown).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
}

#[tokio::test]
async fn pem_public_keys_of_each_type_verify_tokens_whatever_their_kid() {
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let issuer = TestIssuer::with_algorithms(&[alg]).await;
        let pem = issuer.public_key_pem(&issuer.current_kid()).unwrap();
        let validator = with_keys(&issuer, StaticKeys::pem(pem));
        let with_kid = token(&issuer);
        let without_kid = issuer.token().for_global_api(API).no_kid().sign();
        for token in [with_kid, without_kid] {
            assert_eq!(
                validator.validate(&token).await.unwrap().issuer(),
                issuer.issuer(),
                "{alg:?}"
            );
        }
        // Another issuer's key of the same type does not verify.
        let other = TestIssuer::with_algorithms(&[alg]).await;
        let forged = other
            .token()
            .for_global_api(API)
            .issuer(issuer.issuer())
            .sign();
        assert_eq!(
            validator.validate(&forged).await.unwrap_err(),
            Error::InvalidToken(TokenError::InvalidSignature),
            "{alg:?}"
        );
        assert_eq!(issuer_requests(&issuer) + issuer_requests(&other), 0);
    }
}

#[tokio::test]
async fn static_keys_obey_the_algorithm_rules_of_fetched_keys() {
    let issuer = TestIssuer::start().await;
    let pem = issuer.public_key_pem(&issuer.current_kid()).unwrap();
    let validator = with_keys(&issuer, StaticKeys::pem(pem.clone()));
    // The PEM bytes as an HMAC secret (algorithm confusion), and `none`.
    let payload = issuer.token().for_global_api(API).payload();
    let header = json!({"alg": "HS256", "kid": issuer.current_kid()});
    let confused = hmac_token(256, &header, &payload, pem.as_bytes());
    assert_eq!(
        validator.validate(&confused).await.unwrap_err(),
        Error::InvalidToken(TokenError::AlgorithmNotAllowed)
    );
    let none = issuer.sign_raw(
        &issuer.current_kid(),
        br#"{"alg":"none"}"#,
        payload.to_string().as_bytes(),
    );
    assert_eq!(
        validator.validate(&none).await.unwrap_err(),
        Error::InvalidToken(TokenError::AlgorithmNotAllowed)
    );
    // An allow-list without RS256 leaves an RSA key nothing to verify: refused at build.
    let refused = Validator::builder()
        .issuer(issuer.issuer())
        .algorithms([Algorithm::ES256])
        .keys(StaticKeys::pem(pem))
        .build();
    assert!(
        matches!(refused, Err(ConfigError::InvalidKeys { .. })),
        "{refused:?}"
    );
    // Keys and a JWKS URI for one issuer: which would win is a guess, so neither.
    let both = Validator::builder()
        .issuer(issuer.issuer())
        .jwks_uri(issuer.jwks_uri())
        .keys(StaticKeys::jwks(issuer.jwks_json().to_string()))
        .build();
    assert!(
        matches!(both, Err(ConfigError::InvalidKeys { .. })),
        "{both:?}"
    );
    // A published symmetric key is no key at all.
    let oct = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}).to_string();
    let refused = Validator::builder()
        .issuer(issuer.issuer())
        .keys(StaticKeys::jwks(oct))
        .build();
    assert!(
        matches!(refused, Err(ConfigError::InvalidKeys { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn key_files_are_read_once_at_build() {
    let issuer = start_issuer().await;
    let dir = std::env::temp_dir().join(format!("bearer-policy-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (jwks_path, pem_path) = (dir.join("jwks.json"), dir.join("key.pem"));
    std::fs::write(&jwks_path, issuer.jwks_json().to_string()).unwrap();
    std::fs::write(
        &pem_path,
        issuer.public_key_pem(&issuer.current_kid()).unwrap(),
    )
    .unwrap();
    let from_jwks = with_keys(&issuer, StaticKeys::jwks_file(&jwks_path));
    let from_pem = with_keys(&issuer, StaticKeys::pem_file(&pem_path));
    // Files changed or gone after build change nothing.
    std::fs::remove_dir_all(&dir).unwrap();
    for validator in [from_jwks, from_pem] {
        validator.validate(&token(&issuer)).await.unwrap();
    }
    let missing = Validator::builder()
        .issuer(issuer.issuer())
        .keys(StaticKeys::jwks_file(dir.join("jwks.json")))
        .build();
    match missing {
        Err(ConfigError::InvalidKeys { origin, reason }) => {
            assert!(origin.ends_with("jwks.json"), "{origin}");
            assert_eq!(reason, "cannot be read: entity not found");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reload_keys_replaces_static_keys_and_keeps_them_on_error() {
    let issuer = start_issuer().await;
    let validator = with_keys(&issuer, StaticKeys::jwks(issuer.jwks_json().to_string()));
    let old = token(&issuer);
    validator.validate(&old).await.unwrap();

    let old_kid = issuer.current_kid();
    issuer.rotate();
    issuer.remove_key(&old_kid);
    let new = token(&issuer);
    assert_eq!(
        validator.validate(&new).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
    // Bad keys are refused and the old ones stay.
    assert!(matches!(
        validator.reload_keys(&issuer.issuer(), StaticKeys::jwks("{}")),
        Err(ConfigError::InvalidKeys { .. })
    ));
    validator.validate(&old).await.unwrap();

    validator
        .reload_keys(
            &issuer.issuer(),
            StaticKeys::jwks(issuer.jwks_json().to_string()),
        )
        .unwrap();
    validator.validate(&new).await.unwrap();
    // The cached old token's key left the set: it is verified afresh, and refused.
    assert_eq!(
        validator.validate(&old).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
    assert_eq!(issuer_requests(&issuer), 0);

    assert_eq!(
        validator.reload_keys("https://elsewhere.example", StaticKeys::jwks("{}")),
        Err(ConfigError::UnknownIssuer(
            "https://elsewhere.example".into()
        ))
    );
    let fetched = issuer.validator(API);
    assert_eq!(
        fetched.reload_keys(
            &issuer.issuer(),
            StaticKeys::jwks(issuer.jwks_json().to_string())
        ),
        Err(ConfigError::NotStatic(issuer.issuer()))
    );
}

#[tokio::test]
async fn static_and_fetched_issuers_mix_and_a_static_issuer_need_not_be_a_url() {
    let fetched = TestIssuer::start().await;
    let offline = TestIssuer::with_algorithms(&[Algorithm::EdDSA]).await;
    let pem = offline.public_key_pem(&offline.current_kid()).unwrap();
    let validator = Validator::builder()
        .issuer(fetched.issuer())
        .audience(API)
        .add_issuer(Issuer::new("internal-batch-signer").keys(StaticKeys::pem(pem)))
        .build()
        .unwrap();
    validator.validate(&token(&fetched)).await.unwrap();
    let internal = offline
        .token()
        .for_global_api(API)
        .issuer("internal-batch-signer")
        .sign();
    assert_eq!(
        validator.validate(&internal).await.unwrap().issuer(),
        "internal-batch-signer"
    );
    assert_eq!(issuer_requests(&offline), 0);
    // Without static keys an issuer must be a URL (it is where discovery starts).
    assert!(matches!(
        Validator::builder().issuer("internal-batch-signer").build(),
        Err(ConfigError::InvalidUrl { .. })
    ));
}

/// The reason a given key set is refused at build.
fn refusal(issuer: &TestIssuer, keys: StaticKeys) -> String {
    match Validator::builder()
        .issuer(issuer.issuer())
        .audience(API)
        .keys(keys)
        .build()
    {
        Err(ConfigError::InvalidKeys { reason, .. }) => reason,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_given_key_that_could_never_verify_is_a_configuration_error_naming_it() {
    /// A 1024-bit odd modulus: parses, but aws-lc never verifies with it.
    const N1024: &str = "5cfl_qmkwLu8hzt9D6ueM30czE43o7nH1d1yPS0S_18htjj30fiXSqgvu-QSI4c3rV_l47tVsHuo8Z5ovCbHoeumMKEyi_au64GA6uAjtnUBwgQfpYvf8qKaNBT-EbwPa_vNBpKmp5KLbKTwRaZIXkOrGVyC_qRbCQkQPaHGF_s";
    /// A 2048-bit modulus with the ROCA structure.
    const ROCA_N: &str = "iPXTHLtGSpSQf879zlSQr4ZsUCtLO0CIuBYEOpvnkYYuZsj7qlMmXK_3gKEyMbcLL6rgGs_-leQ0Ekk_yaDZMC9AerfOvjNfqkNu30tMiSdKTBlny2EZEIX6zy4gRskNzntMlQHVJ3MFaHJa9cdt39PeJ1paCtlh2bDgsKphfw8VgiMf0Ej9-IYYDDMQCednFPtpEXNqZBHcuij3_zqVSiaL1ic9dNunw3qRvpHOcDAt1grW7qwMM1HsNYp9u_weFMftxQLczPvJy4eVJT7D8zd9ZZdVG8hoZY2q3kk-TpvEqFpe8XZbYbXOM5qP-wCSCWYQw2Z2jn4w_I5mhtuAhw";
    let issuer = start_issuer().await;
    let own = issuer.jwk(&issuer.current_kid()).unwrap();
    let ed25519 = |kid: String, seed: u8| json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64url(&[seed; 32])});
    // Another key under this issuer's kid.
    let mut stranger = issuer_of_another_key().await;
    stranger["kid"] = own["kid"].clone();
    let cases: Vec<(Vec<serde_json::Value>, String)> = vec![
        (
            vec![json!({"kty": "RSA", "kid": "weak", "n": N1024, "e": "AQAB"})],
            "keys[1] (kid \"weak\"): an RSA key outside 2048..=8192 bits or with an unusable exponent".to_owned(),
        ),
        (
            vec![json!({"kty": "RSA", "kid": "roca", "n": ROCA_N, "e": "AQAB"})],
            "keys[1] (kid \"roca\"): an RSA modulus with the ROCA fingerprint (CVE-2017-15361)".to_owned(),
        ),
        (
            vec![json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0"})],
            "keys[1] (kid \"h\"): a symmetric (`oct`) key: HMAC is never accepted".to_owned(),
        ),
        (
            vec![json!({"kty": "XYZ", "x": "AQAB"})],
            "keys[1]: a key type, curve or `alg` this crate does not verify with".to_owned(),
        ),
        (
            vec![json!({"kty": "EC", "crv": "P-256", "use": "enc", "kid": "enc",
                "x": own["x"], "y": own["y"]})],
            "keys[1] (kid \"enc\"): its `use` or `key_ops` is not signature verification".to_owned(),
        ),
        (
            vec![stranger],
            format!("keys[1] (kid {:?}): a different key has the same kid", issuer.current_kid()),
        ),
        (
            (0..64u8)
                .map(|i| ed25519(format!("ed{i}"), i + 1))
                .collect(),
            "keys[64] (kid \"ed63\"): more than 64 keys".to_owned(),
        ),
    ];
    for (extra, expected) in cases {
        let keys = [vec![own.clone()], extra].concat();
        let jwks = json!({ "keys": keys }).to_string();
        let reason = refusal(&issuer, StaticKeys::jwks(jwks.clone()));
        assert!(reason.contains(&expected), "{reason}\nexpected: {expected}");

        // Reloading the same set is refused too, and the old keys stay.
        let validator = with_keys(&issuer, StaticKeys::jwks(issuer.jwks_json().to_string()));
        let result = validator.reload_keys(&issuer.issuer(), StaticKeys::jwks(jwks));
        assert!(
            matches!(&result, Err(ConfigError::InvalidKeys { reason, .. }) if reason.contains(&expected)),
            "{result:?}"
        );
        validator.validate(&token(&issuer)).await.unwrap();
    }
}

/// The JWK of another issuer's ES256 key.
async fn issuer_of_another_key() -> serde_json::Value {
    let other = start_issuer().await;
    other.jwk(&other.current_kid()).unwrap()
}

#[tokio::test]
async fn a_given_key_for_an_algorithm_outside_the_allow_list_is_refused_naming_it() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256, Algorithm::EdDSA]).await;
    let jwks = issuer.jwks_json().to_string();
    // Every key verifies under some allowed algorithm: accepted.
    let both = Validator::builder()
        .issuer(issuer.issuer())
        .algorithms([Algorithm::ES256, Algorithm::EdDSA])
        .keys(StaticKeys::jwks(jwks.clone()))
        .build();
    assert!(both.is_ok(), "{both:?}");
    // The Ed25519 key could never verify under ES256 alone: named and refused.
    let eddsa_kid = issuer
        .kids()
        .into_iter()
        .find(|kid| issuer.algorithm_of(kid) == Some(Algorithm::EdDSA))
        .unwrap();
    match Validator::builder()
        .issuer(issuer.issuer())
        .algorithms([Algorithm::ES256])
        .keys(StaticKeys::jwks(jwks))
        .build()
    {
        Err(ConfigError::InvalidKeys { reason, .. }) => assert!(
            reason.contains(&format!(
                "(kid {eddsa_kid:?}): verifies none of the allowed algorithms"
            )),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_given_key_listed_for_two_algorithms_is_one_key_for_both() {
    // The issuer signs PS256; its key is listed for RS256 first.
    let issuer = TestIssuer::with_algorithms(&[Algorithm::PS256]).await;
    let own = issuer.jwk(&issuer.current_kid()).unwrap();
    let mut pkcs1 = own.clone();
    pkcs1["alg"] = json!("RS256");
    let jwks = json!({"keys": [pkcs1, own]}).to_string();
    let validator = with_keys(&issuer, StaticKeys::jwks(jwks));
    validator.validate(&token(&issuer)).await.unwrap();
}
