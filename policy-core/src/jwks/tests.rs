use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;

// A P-256 public key (RFC 7515 appendix A.3).
const EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"ec1",
    "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

/// A 2048-bit odd modulus without the ROCA fingerprint (fixed test vector).
const N2048: &str = "slo7fIHB_NvAj4E5bY5ZQtap36-dHX6bHGdSvPnCaZqrTmDclVJTLdH5dQQjy9yEKE9OLSSWwBIdbrmhy63GDtdaqOHN34n1TqI63zU5ns8qnPJ91RLdvAjTbgScqKAdt9WANKuqwllJP7pGU3_LFnTc3N0U8T1GfyLml9p5t28CJPYnahOLPPnIMM_nbtWjjse9U4Mu6sLwxJ2ElXG8vaVbt4tal8WgA5Oojcv-H_IlQiUmI63VZASV4mqi6KQKC7l56sxITYVr2KUjkm1TG8IiCOSRvaR_C6rptcJYzRZi24BBzzrBM5mezcUAAqyN7S-L2fnHVhNCjjSlJG2ctw";

/// A 1024-bit odd modulus: parses, but aws-lc would never verify with it.
const N1024: &str = "5cfl_qmkwLu8hzt9D6ueM30czE43o7nH1d1yPS0S_18htjj30fiXSqgvu-QSI4c3rV_l47tVsHuo8Z5ovCbHoeumMKEyi_au64GA6uAjtnUBwgQfpYvf8qKaNBT-EbwPa_vNBpKmp5KLbKTwRaZIXkOrGVyC_qRbCQkQPaHGF_s";

/// A 2048-bit modulus of the ROCA form `k·M + 65537^a mod M` (fixed test
/// vector built for this test: k random, M the primorial of the detection primes).
const ROCA_N: &str = "iPXTHLtGSpSQf879zlSQr4ZsUCtLO0CIuBYEOpvnkYYuZsj7qlMmXK_3gKEyMbcLL6rgGs_-leQ0Ekk_yaDZMC9AerfOvjNfqkNu30tMiSdKTBlny2EZEIX6zy4gRskNzntMlQHVJ3MFaHJa9cdt39PeJ1paCtlh2bDgsKphfw8VgiMf0Ej9-IYYDDMQCednFPtpEXNqZBHcuij3_zqVSiaL1ic9dNunw3qRvpHOcDAt1grW7qwMM1HsNYp9u_weFMftxQLczPvJy4eVJT7D8zd9ZZdVG8hoZY2q3kk-TpvEqFpe8XZbYbXOM5qP-wCSCWYQw2Z2jn4w_I5mhtuAhw";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_jwk(kid: &str, n: &str, e: &str) -> Value {
    json!({"kty": "RSA", "kid": kid, "n": n, "e": e})
}

fn judge(jwk: Value) -> Result<VerifyingKey, Unusable> {
    VerifyingKey::from_value(jwk, DEFAULT_ALGORITHMS)
}

fn set_of(keys: &[Value]) -> Result<KeySet, KeySetError> {
    KeySet::parse(
        json!({ "keys": keys }).to_string().as_bytes(),
        DEFAULT_ALGORITHMS,
    )
}

/// A fresh P-256 key pair and its public JWK (with `kid` when given).
fn ec_key(kid: Option<&str>) -> (EcdsaKeyPair, Value) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let mut jwk =
        json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])});
    if let Some(kid) = kid {
        jwk["kid"] = json!(kid);
    }
    (pair, jwk)
}

fn sign(pair: &EcdsaKeyPair, message: &[u8]) -> Vec<u8> {
    pair.sign(&SystemRandom::new(), message)
        .unwrap()
        .as_ref()
        .to_vec()
}

#[test]
fn elliptic_curve_key_is_usable_only_for_its_curve() {
    let set = set_of(&[serde_json::from_str(EC_JWK).unwrap()]).unwrap();
    let key = set.key(0).unwrap();
    assert!(key.for_algorithm(Algorithm::ES256).is_some());
    assert!(key.for_algorithm(Algorithm::ES384).is_none());
    assert!(key.for_algorithm(Algorithm::RS256).is_none());
}

#[test]
fn declared_alg_restricts_the_key() {
    let jwk = EC_JWK.replace(r#""kid":"ec1""#, r#""kid":"ec1","alg":"ES384""#);
    // ES384 declared on a P-256 key: unusable, so the set has no usable key.
    assert_eq!(
        KeySet::parse(
            format!(r#"{{"keys":[{jwk}]}}"#).as_bytes(),
            DEFAULT_ALGORITHMS
        )
        .err(),
        Some(KeySetError::NoUsableKeys)
    );
}

#[test]
fn unusable_keys_are_skipped_and_counted() {
    let doc = format!(
        r#"{{"keys":[{EC_JWK}, {{"kty":"oct","k":"c2VjcmV0","kid":"h"}}, 7, {{"kty":"RSA","kid":"broken"}},
        {{"kty":"EC","crv":"P-256","use":"enc","kid":"enc","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}]}}"#
    );
    let set = KeySet::parse(doc.as_bytes(), DEFAULT_ALGORITHMS).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set.skipped, 4);
    assert_eq!(
        set.verify(Some("h"), Algorithm::ES256, b"x", b"y"),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn documents_without_usable_keys_are_refused() {
    assert_eq!(
        KeySet::parse(b"not json", DEFAULT_ALGORITHMS).err(),
        Some(KeySetError::NotJson)
    );
    assert_eq!(
        KeySet::parse(br#"{"keys":[]}"#, DEFAULT_ALGORITHMS).err(),
        Some(KeySetError::NoUsableKeys)
    );
    assert_eq!(
        KeySet::parse(br#"{"nokeys":1}"#, DEFAULT_ALGORITHMS).err(),
        Some(KeySetError::NotJson)
    );
}

#[test]
fn disallowed_algorithms_are_not_parsed() {
    let set = KeySet::parse(
        format!(r#"{{"keys":[{EC_JWK}]}}"#).as_bytes(),
        &[Algorithm::RS256],
    );
    assert_eq!(set.err(), Some(KeySetError::NoUsableKeys));
}

#[test]
fn rsa_moduli_outside_2048_to_8192_bits_are_unusable() {
    assert!(judge(rsa_jwk("ok", N2048, "AQAB")).is_ok());
    assert_eq!(
        judge(rsa_jwk("small", N1024, "AQAB")).err(),
        Some(Unusable::WeakRsa)
    );
    let mut huge = vec![0xffu8; 1025]; // 8200 bits
    huge[0] = 0x80;
    assert_eq!(
        judge(rsa_jwk("huge", &b64(&huge), "AQAB")).err(),
        Some(Unusable::WeakRsa)
    );
    let exactly_8192 = vec![0xffu8; 1024];
    assert!(judge(rsa_jwk("max", &b64(&exactly_8192), "AQAB")).is_ok());
    // Leading zero bytes do not make a small modulus large.
    let padded = [vec![0u8; 200], URL_SAFE_NO_PAD.decode(N1024).unwrap()].concat();
    assert_eq!(
        judge(rsa_jwk("padded", &b64(&padded), "AQAB")).err(),
        Some(Unusable::WeakRsa)
    );
}

#[test]
fn rsa_exponents_must_be_odd_at_least_3_and_at_most_33_bits() {
    for (e, usable) in [
        ("AQAB", true),      // 65537
        ("Aw", true),        // 3
        ("AQAAAAE", true),   // 2^32 + 1: 33 bits, the most aws-lc takes
        ("AQ", false),       // 1
        ("Ag", false),       // 2
        ("AQAA", false),     // 65536: even
        ("AQAAAAAB", false), // 2^40 + 1: too large
    ] {
        let outcome = judge(rsa_jwk("k", N2048, e));
        assert_eq!(outcome.is_ok(), usable, "e = {e}: {:?}", outcome.err());
    }
}

#[test]
fn a_set_of_only_weak_rsa_keys_never_counts_as_usable() {
    // What replaced the working keys before: a rotation to one RSA-1024 key.
    assert_eq!(
        set_of(&[rsa_jwk("weak", N1024, "AQAB")]).err(),
        Some(KeySetError::NoUsableKeys)
    );
}

#[test]
fn keys_with_private_parameters_are_skipped() {
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        let mut jwk: Value = serde_json::from_str(EC_JWK).unwrap();
        jwk[member] = json!("AQAB");
        assert_eq!(judge(jwk).err(), Some(Unusable::PrivateKey), "{member}");
        let mut rsa = rsa_jwk("r", N2048, "AQAB");
        rsa[member] = json!("AQAB");
        assert_eq!(judge(rsa).err(), Some(Unusable::PrivateKey), "{member}");
    }
    // The public keys beside a leaked one keep working.
    let mut leaked: Value = serde_json::from_str(EC_JWK).unwrap();
    leaked["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
    let set = set_of(&[leaked, rsa_jwk("r", N2048, "AQAB")]).unwrap();
    assert_eq!((set.len(), set.skipped), (1, 1));
}

#[test]
fn roca_moduli_are_skipped() {
    assert!(roca::has_fingerprint(
        &URL_SAFE_NO_PAD.decode(ROCA_N).unwrap()
    ));
    assert!(!roca::has_fingerprint(
        &URL_SAFE_NO_PAD.decode(N2048).unwrap()
    ));
    assert_eq!(
        judge(rsa_jwk("roca", ROCA_N, "AQAB")).err(),
        Some(Unusable::Roca)
    );
    let set = set_of(&[
        rsa_jwk("roca", ROCA_N, "AQAB"),
        rsa_jwk("ok", N2048, "AQAB"),
    ])
    .unwrap();
    assert_eq!((set.len(), set.skipped), (1, 1));
}

#[test]
fn keys_not_meant_for_verifying_signatures_are_skipped() {
    let with = |member: &str, value: Value| {
        let mut jwk: Value = serde_json::from_str(EC_JWK).unwrap();
        jwk[member] = value;
        judge(jwk)
    };
    assert_eq!(
        with("use", json!("enc")).err(),
        Some(Unusable::NotForSignatures)
    );
    assert_eq!(
        with("use", json!("other")).err(),
        Some(Unusable::NotForSignatures)
    );
    assert!(with("use", json!("sig")).is_ok());
    assert_eq!(
        with("key_ops", json!(["encrypt"])).err(),
        Some(Unusable::NotForSignatures)
    );
    assert_eq!(
        with("key_ops", json!(["sign"])).err(),
        Some(Unusable::NotForSignatures)
    );
    assert_eq!(
        with("key_ops", json!([])).err(),
        Some(Unusable::NotForSignatures)
    );
    assert!(with("key_ops", json!(["verify"])).is_ok());
    assert!(with("key_ops", json!(["sign", "verify"])).is_ok());
}

#[test]
fn a_kid_naming_two_keys_is_ambiguous_and_refused() {
    let (first, first_jwk) = ec_key(Some("shared"));
    let (_, second_jwk) = ec_key(Some("shared"));
    let set = set_of(&[first_jwk.clone(), second_jwk]).unwrap();
    let signature = sign(&first, b"input");
    assert_eq!(
        set.verify(Some("shared"), Algorithm::ES256, b"input", &signature),
        Err(TokenError::AmbiguousKey)
    );
    assert_eq!(set.ambiguous_kids(), 1);
    // The same key published twice is one key.
    let set = set_of(&[first_jwk.clone(), first_jwk]).unwrap();
    assert_eq!(set.len(), 1);
    assert!(
        set.verify(Some("shared"), Algorithm::ES256, b"input", &signature)
            .is_ok()
    );
}

#[test]
fn a_token_without_kid_is_tried_against_at_most_four_keys_of_its_algorithm() {
    let keys: Vec<(EcdsaKeyPair, Value)> = (0..6).map(|_| ec_key(None)).collect();
    // An RSA key first: not of the token's algorithm, so it does not use up a try.
    let mut published = vec![rsa_jwk("r", N2048, "AQAB")];
    published.extend(keys.iter().map(|(_, jwk)| jwk.clone()));
    let set = set_of(&published).unwrap();
    for (i, (pair, _)) in keys.iter().enumerate() {
        let outcome = set.verify(None, Algorithm::ES256, b"input", &sign(pair, b"input"));
        if i < MAX_KEYS_TRIED_WITHOUT_KID {
            assert!(outcome.is_ok(), "key {i}: {outcome:?}");
        } else {
            assert_eq!(outcome, Err(TokenError::InvalidSignature), "key {i}");
        }
    }
    // One or two keys without kid keep working.
    let (pair, jwk) = ec_key(None);
    let one = set_of(&[jwk]).unwrap();
    assert!(
        one.verify(None, Algorithm::ES256, b"m", &sign(&pair, b"m"))
            .is_ok()
    );
    assert_eq!(
        one.verify(None, Algorithm::RS256, b"m", b"sig"),
        Err(TokenError::AlgorithmMismatch)
    );
}

#[test]
fn a_set_keeps_at_most_max_jwks_keys() {
    let keys: Vec<Value> = (0..MAX_JWKS_KEYS + 6)
        .map(|i| ec_key(Some(&format!("k{i}"))).1)
        .collect();
    let set = set_of(&keys).unwrap();
    assert_eq!((set.len(), set.skipped), (MAX_JWKS_KEYS, 6));
    assert_eq!(
        set.verify(
            Some(&format!("k{MAX_JWKS_KEYS}")),
            Algorithm::ES256,
            b"m",
            b"s"
        ),
        Err(TokenError::UnknownKey)
    );
    assert_eq!(
        set.verify(Some("k0"), Algorithm::ES256, b"m", b"s"),
        Err(TokenError::InvalidSignature)
    );
}

#[test]
fn a_cached_token_is_kept_only_while_its_key_still_allows_its_algorithm() {
    let mut rs256 = rsa_jwk("r", N2048, "AQAB");
    rs256["alg"] = json!("RS256");
    let before = set_of(&[rs256.clone()]).unwrap();
    let thumbprint = before.key(0).unwrap().thumbprint;
    assert!(before.contains(Some("r"), Algorithm::RS256, &thumbprint));
    // The same key, republished for PS256 only.
    let mut ps256 = rs256;
    ps256["alg"] = json!("PS256");
    let after = set_of(&[ps256]).unwrap();
    assert_eq!(after.key(0).unwrap().thumbprint, thumbprint);
    assert!(!after.contains(Some("r"), Algorithm::RS256, &thumbprint));
    assert!(after.contains(Some("r"), Algorithm::PS256, &thumbprint));
}

#[test]
fn one_key_listed_once_per_algorithm_is_one_key_for_those_algorithms_only() {
    let listed = |kid: Option<&str>, alg: &str| {
        let mut jwk = json!({"kty": "RSA", "n": N2048, "e": "AQAB", "alg": alg});
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        jwk
    };
    for kid in [Some("r"), None] {
        let set = set_of(&[listed(kid, "RS256"), listed(kid, "PS256")]).unwrap();
        assert_eq!(set.len(), 1, "{kid:?}");
        let thumbprint = set.key(0).unwrap().thumbprint;
        for alg in [Algorithm::RS256, Algorithm::PS256] {
            assert!(set.contains(kid, alg, &thumbprint), "{kid:?} {alg:?}");
        }
        assert!(!set.contains(kid, Algorithm::RS384, &thumbprint), "{kid:?}");
        assert_eq!(set.ambiguous_kids(), 0);
    }
    // Under different kids, they stay two entries.
    let set = set_of(&[listed(Some("a"), "RS256"), listed(Some("b"), "PS256")]).unwrap();
    assert_eq!(set.len(), 2);
}

fn given(keys: Vec<Value>) -> Result<KeySet, KeySetError> {
    let document = json!({ "keys": keys }).to_string();
    KeySet::parse_given(document.as_bytes(), DEFAULT_ALGORITHMS)
}

fn refused(keys: Vec<Value>) -> Vec<(String, String)> {
    match given(keys) {
        Err(KeySetError::RefusedKeys(refused)) => {
            refused.into_iter().map(|r| (r.key, r.reason)).collect()
        }
        other => panic!("{:?}", other.map(|set| set.len())),
    }
}

#[test]
fn a_given_set_names_every_key_a_fetched_set_would_skip() {
    let ec: Value = serde_json::from_str(EC_JWK).unwrap();
    let mut no_kid = rsa_jwk("x", N1024, "AQAB");
    no_kid.as_object_mut().unwrap().remove("kid");
    let named = |key: &str, reason: Unusable| (key.to_owned(), reason.reason().to_owned());
    assert_eq!(
        refused(vec![
            ec.clone(),
            rsa_jwk("weak", N1024, "AQAB"),
            rsa_jwk("roca", ROCA_N, "AQAB"),
            no_kid,
            json!({"kty": "oct", "k": "c2VjcmV0", "kid": "h"}),
            json!({"kty": "RSA", "kid": "d", "n": N2048, "e": "AQAB", "d": "AQAB"}),
        ]),
        vec![
            named("keys[1] (kid \"weak\")", Unusable::WeakRsa),
            named("keys[2] (kid \"roca\")", Unusable::Roca),
            named("keys[3]", Unusable::WeakRsa),
            named("keys[4] (kid \"h\")", Unusable::Symmetric),
            named("keys[5] (kid \"d\")", Unusable::PrivateKey),
        ]
    );
    // The same set fetched: one usable key, five skipped.
    let fetched = set_of(&[ec.clone(), rsa_jwk("weak", N1024, "AQAB")]).unwrap();
    assert_eq!((fetched.len(), fetched.skipped), (1, 1));
    // A different key under a kid already used.
    let (_, other) = ec_key(Some("ec1"));
    assert_eq!(
        refused(vec![ec.clone(), other]),
        vec![(
            "keys[1] (kid \"ec1\")".to_owned(),
            "a different key has the same kid, keys[0] (kid \"ec1\")".to_owned()
        )]
    );
    // The same key twice is one key, not a conflict.
    assert_eq!(given(vec![ec.clone(), ec]).unwrap().len(), 1);
    // Past the key cap.
    let many: Vec<Value> = (0..=MAX_JWKS_KEYS)
        .map(|i| ec_key(Some(&format!("k{i}"))).1)
        .collect();
    assert_eq!(
        refused(many),
        vec![(
            format!("keys[{MAX_JWKS_KEYS}] (kid \"k{MAX_JWKS_KEYS}\")"),
            format!("more than {MAX_JWKS_KEYS} keys")
        )]
    );
}

#[test]
fn a_given_key_must_verify_one_allowed_algorithm() {
    let mut rs256 = rsa_jwk("r", N2048, "AQAB");
    rs256["alg"] = json!("RS256");
    let document = json!({ "keys": [rs256] }).to_string();
    let under = |allowed: &[Algorithm]| KeySet::parse_given(document.as_bytes(), allowed);
    assert!(under(&[Algorithm::RS256, Algorithm::PS256]).is_ok());
    assert_eq!(
        under(&[Algorithm::PS256, Algorithm::ES256])
            .err()
            .map(|e| e.to_string()),
        Some("keys[0] (kid \"r\"): verifies none of the allowed algorithms".to_owned())
    );
}

#[test]
fn a_message_names_a_few_refused_keys_and_counts_the_rest() {
    let keys: Vec<Value> = (0..8)
        .map(|i| json!({"kty": "oct", "k": "c2VjcmV0", "kid": format!("h{i}")}))
        .collect();
    let message = given(keys).err().unwrap().to_string();
    assert!(
        message.starts_with("keys[0] (kid \"h0\"): a symmetric"),
        "{message}"
    );
    assert!(message.ends_with("; and 3 more"), "{message}");
}
