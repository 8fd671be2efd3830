//! Known attacks on JWT access tokens and on organization-scoped routes, one
//! named test each (listed in SECURITY.md): every one must be refused with
//! the right status, and nothing an attacker names may be fetched.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use crate::common::http::is_token68;
use crate::common::jws::{B64URL_ALPHABET as B64, b64url, b64url_decode, b64url_decode_lax, now};
use crate::common::{API, App, Server, bearer};

use bearer_policy::testing::TestIssuer;
use bearer_policy::warp::{authorize, authorize_path, recover};
use bearer_policy::{
    AuthInfo, Denied, Error, Model, OrgSource, Policy, RequestError, TokenError, Validator,
};
use serde_json::{Value, json};
use warp::Filter;

/// A token signed with HMAC (`alg` is `HS256`, `HS384` or `HS512`) under `secret`.
fn hmac_token(alg: &str, header: &Value, payload: &Value, secret: &[u8]) -> String {
    let bits = alg.trim_start_matches("HS").parse().unwrap();
    crate::common::jws::hmac_token(bits, header, payload, secret)
}

// ===== helpers: issuer and validator =====

/// An issuer with an RSA, an EC and an Ed25519 key (kids `rs256-1`,
/// `es256-2`, `eddsa-3`), and a validator whose keys are loaded.
async fn setup() -> (TestIssuer, Validator) {
    let issuer = TestIssuer::with_algorithms(&[
        bearer_policy::Algorithm::RS256,
        bearer_policy::Algorithm::ES256,
        bearer_policy::Algorithm::EdDSA,
    ])
    .await;
    let validator = issuer
        .validator_builder(API)
        .timeout(Duration::from_secs(2))
        .unknown_kid_refetch_interval(Duration::from_secs(60))
        .build()
        .unwrap();
    validator.ready().await.unwrap();
    (issuer, validator)
}

fn payload(issuer: &TestIssuer) -> Value {
    issuer.token().for_global_api(API).payload()
}

/// Validates `token`, requiring a refusal; returns the error after checking
/// it is a 401 `invalid_token`.
async fn refused(validator: &Validator, token: &str) -> TokenError {
    match validator.validate(token).await {
        Ok(auth) => panic!("accepted: {auth:?}\n{token}"),
        Err(Error::InvalidToken(e)) => {
            assert_eq!(Error::InvalidToken(e.clone()).status(), 401);
            e
        }
        Err(other) => panic!("refused with {other:?}, not a 401 invalid_token\n{token}"),
    }
}

fn unsigned(header: &str, payload: &str, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64url(header.as_bytes()),
        b64url(payload.as_bytes())
    )
}

// ===== tests =====

#[tokio::test]
async fn alg_none_in_every_capitalisation_is_refused() {
    let (issuer, validator) = setup().await;
    let body = payload(&issuer).to_string();
    let real = issuer.token().for_global_api(API).sign();
    let real_signature = real.rsplit('.').next().unwrap();
    let mut spellings = 0;
    for mask in 0u8..16 {
        let alg: String = "none"
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if mask & (1 << i) != 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        for header in [
            json!({ "alg": alg }),
            json!({ "alg": alg, "typ": "at+jwt", "kid": "rs256-1" }),
        ] {
            let header = header.to_string();
            for signature in ["", real_signature, "AA"] {
                let token = unsigned(&header, &body, signature);
                assert_eq!(
                    refused(&validator, &token).await,
                    TokenError::AlgorithmNotAllowed,
                    "{header}"
                );
            }
        }
        spellings += 1;
    }
    assert_eq!(spellings, 16);
    // Not an algorithm we know either: a trailing space, an empty name.
    for alg in ["none ", "", " RS256"] {
        let token = unsigned(&json!({ "alg": alg }).to_string(), &body, real_signature);
        assert_eq!(
            refused(&validator, &token).await,
            TokenError::AlgorithmNotAllowed
        );
    }
}

/// HS256/384/512 tokens whose HMAC secret is the issuer's public key in
/// every usual form: a validator that let the header pick the algorithm
/// would accept them.
#[tokio::test]
async fn hmac_signed_with_the_public_key_as_secret_is_refused() {
    let (issuer, validator) = setup().await;
    let body = payload(&issuer);
    issuer.reset_counters();
    let mut forged = 0;
    for kid in issuer.kids() {
        let der = issuer.public_key_der(&kid).unwrap();
        let pem = issuer.public_key_pem(&kid).unwrap();
        let jwk = issuer.jwk(&kid).unwrap();
        let secrets: Vec<(&str, Vec<u8>)> = vec![
            ("der", der.clone()),
            ("pem", pem.clone().into_bytes()),
            (
                "pem without trailing newline",
                pem.trim_end().as_bytes().to_vec(),
            ),
            ("jwk json", jwk.to_string().into_bytes()),
            (
                "jwk x or n",
                b64url_decode(jwk.get("n").or(jwk.get("x")).unwrap().as_str().unwrap()),
            ),
        ];
        for alg in ["HS256", "HS384", "HS512"] {
            for (form, secret) in &secrets {
                for header in [json!({"alg": alg, "kid": kid}), json!({"alg": alg})] {
                    let token = hmac_token(alg, &header, &body, secret);
                    assert_eq!(
                        refused(&validator, &token).await,
                        TokenError::AlgorithmNotAllowed,
                        "{alg} with the {form} of {kid}"
                    );
                    forged += 1;
                }
            }
        }
    }
    assert_eq!(forged, 3 * 3 * 5 * 2);
    // Refused on the header alone: no refetch for any of them.
    assert_eq!(issuer.jwks_requests(), 0);
}

#[tokio::test]
async fn kid_naming_a_key_of_another_type_is_refused() {
    let (issuer, validator) = setup().await;
    issuer.add_key(bearer_policy::Algorithm::ES384);
    issuer.add_key(bearer_policy::Algorithm::HS256);
    let validator2 = issuer.validator_builder(API).build().unwrap();
    validator2.ready().await.unwrap();
    let body = payload(&issuer).to_string();
    // (signing key, header alg, kid named): the header names a key that
    // cannot verify that algorithm.
    let cases = [
        ("es256-2", "ES256", "rs256-1", TokenError::AlgorithmMismatch),
        ("rs256-1", "RS256", "es256-2", TokenError::AlgorithmMismatch),
        ("rs256-1", "PS256", "rs256-1", TokenError::AlgorithmMismatch),
        ("eddsa-3", "EdDSA", "es256-2", TokenError::AlgorithmMismatch),
        ("es256-2", "ES256", "eddsa-3", TokenError::AlgorithmMismatch),
        ("es384-4", "ES384", "es256-2", TokenError::AlgorithmMismatch),
        ("es256-2", "ES256", "es384-4", TokenError::AlgorithmMismatch),
        // The published `oct` key is never a key at all.
        ("hs256-5", "RS256", "hs256-5", TokenError::UnknownKey),
        (
            "hs256-5",
            "HS256",
            "hs256-5",
            TokenError::AlgorithmNotAllowed,
        ),
    ];
    for (signer, alg, kid, expected) in cases {
        let header = json!({ "alg": alg, "kid": kid }).to_string();
        let token = issuer.sign_raw(signer, header.as_bytes(), body.as_bytes());
        assert_eq!(
            refused(&validator2, &token).await,
            expected,
            "{alg} naming {kid}"
        );
    }
    drop(validator);
}

/// `jku`, `x5u` and an embedded `jwk` point at an attacker's issuer whose
/// key signed the token: they must be ignored, and the attacker's server
/// must never be contacted.
#[tokio::test]
async fn jku_x5u_and_embedded_jwk_headers_are_ignored_and_never_fetched() {
    let (issuer, validator) = setup().await;
    // The attacker's kids are rs256-1 (which the issuer has too) and rs256-2
    // (its signing key, unknown to the issuer).
    let attacker = TestIssuer::with_algorithms(&[bearer_policy::Algorithm::RS256]).await;
    let attacker_kid = attacker.add_key(bearer_policy::Algorithm::RS256);
    assert!(!issuer.kids().contains(&attacker_kid));
    let attacker_jwk = attacker.jwk(&attacker_kid).unwrap();
    let headers = [
        ("jku", json!(attacker.jwks_uri())),
        ("x5u", json!(attacker.jwks_uri())),
        ("jwk", attacker_jwk.clone()),
        (
            "x5c",
            json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        ),
    ];
    for (name, value) in &headers {
        // Signed by the attacker under its own kid, and under the issuer's kid.
        let forged = attacker
            .token()
            .issuer(issuer.issuer())
            .for_global_api(API)
            .header(*name, value.clone())
            .sign();
        assert_eq!(
            refused(&validator, &forged).await,
            TokenError::UnknownKey,
            "{name}"
        );
        let forged = attacker
            .token()
            .issuer(issuer.issuer())
            .for_global_api(API)
            .header("kid", "rs256-1")
            .header(*name, value.clone())
            .sign();
        assert_eq!(
            refused(&validator, &forged).await,
            TokenError::InvalidSignature,
            "{name}"
        );
        // A genuine token carrying the header still validates: the header is
        // ignored, not trusted and not refused.
        let genuine = issuer
            .token()
            .for_global_api(API)
            .header(*name, value.clone())
            .sign();
        validator.validate(&genuine).await.unwrap();
    }
    // All four at once, with no kid.
    let mut builder = attacker
        .token()
        .issuer(issuer.issuer())
        .for_global_api(API)
        .no_kid();
    for (name, value) in &headers {
        builder = builder.header(*name, value.clone());
    }
    assert_eq!(
        refused(&validator, &builder.sign()).await,
        TokenError::InvalidSignature
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(attacker.jwks_requests(), 0);
    assert_eq!(attacker.discovery_requests(), 0);
}

#[tokio::test]
async fn crit_header_is_refused() {
    let (issuer, validator) = setup().await;
    for crit in [
        json!(["exp"]),
        json!(["b64"]),
        json!(["http://example.com/unknown"]),
        json!([]),
        json!("b64"),
        json!(null),
    ] {
        let token = issuer
            .token()
            .for_global_api(API)
            .header("crit", crit.clone())
            .header("b64", false)
            .sign();
        assert_eq!(
            refused(&validator, &token).await,
            TokenError::CriticalHeader,
            "{crit}"
        );
    }
}

#[tokio::test]
async fn duplicate_json_keys_in_the_header_are_refused() {
    let (issuer, validator) = setup().await;
    let body = payload(&issuer).to_string();
    for header in [
        r#"{"alg":"RS256","kid":"rs256-1","alg":"none"}"#,
        r#"{"alg":"none","kid":"rs256-1","alg":"RS256"}"#,
        r#"{"alg":"RS256","alg":"RS256","kid":"rs256-1"}"#,
        r#"{"alg":"RS256","kid":"rs256-1","kid":"es256-2"}"#,
        r#"{"alg":"RS256","kid":"rs256-1","\u0061lg":"RS256"}"#,
        r#"{"alg":"RS256","kid":"rs256-1","typ":"at+jwt","typ":"JWT"}"#,
        r#"{"alg":"RS256","kid":"rs256-1","crit":["x"],"crit":["y"]}"#,
    ] {
        let token = issuer.sign_raw("rs256-1", header.as_bytes(), body.as_bytes());
        assert!(
            matches!(
                refused(&validator, &token).await,
                TokenError::Malformed(_) | TokenError::CriticalHeader
            ),
            "{header}"
        );
    }
}

#[tokio::test]
async fn duplicate_json_keys_in_the_payload_are_refused() {
    let (issuer, validator) = setup().await;
    let header = r#"{"alg":"ES256","kid":"es256-2"}"#;
    let iss = issuer.issuer();
    let exp = now() + 3600;
    let cases = [
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"sub":"a","sub":"admin"}}"#),
            "sub",
        ),
        (
            format!(r#"{{"iss":"https://evil","iss":"{iss}","exp":{exp}}}"#),
            "iss",
        ),
        (format!(r#"{{"iss":"{iss}","exp":1,"exp":{exp}}}"#), "exp"),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"\u0065xp":{exp}}}"#),
            "exp",
        ),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"nbf":1,"nbf":1}}"#),
            "nbf",
        ),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"aud":"x","aud":"{API}"}}"#),
            "aud",
        ),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"scope":"a","scope":"admin"}}"#),
            "scope",
        ),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"scp":["a"],"scp":["admin"]}}"#),
            "scp",
        ),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"organization_id":"a","organization_id":"b"}}"#),
            "organization_id",
        ),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"client_id":"a","client_id":"b"}}"#),
            "client_id",
        ),
    ];
    for (body, claim) in cases {
        let token = issuer.sign_raw("es256-2", header.as_bytes(), body.as_bytes());
        assert_eq!(
            refused(&validator, &token).await,
            TokenError::InvalidClaim(claim),
            "{body}"
        );
    }
}

/// Which character of the base64url alphabet a segment's last character is.
fn alphabet_index(c: u8) -> usize {
    B64.iter().position(|&b| b == c).unwrap()
}

/// The segment with its unused trailing bits set: same bytes, another
/// (non-canonical) encoding. `None` if the length leaves no unused bits.
fn with_trailing_bits(segment: &str) -> Option<String> {
    if segment.len().is_multiple_of(4) {
        return None;
    }
    let mut bytes = segment.as_bytes().to_vec();
    let last = bytes.last_mut().unwrap();
    *last = B64[alphabet_index(*last) ^ 1];
    let changed = String::from_utf8(bytes).unwrap();
    assert_eq!(b64url_decode_lax(&changed), b64url_decode(segment));
    Some(changed)
}

#[tokio::test]
async fn non_canonical_base64_is_refused() {
    let (issuer, validator) = setup().await;
    // Tokens whose three segments all have unused trailing bits and contain
    // `-` or `_`, found by padding a claim.
    let mut token = None;
    for filler in 0..2000 {
        let candidate = issuer
            .token()
            .kid("es256-2")
            .for_global_api(API)
            .claim(
                "filler",
                "?>".repeat(filler % 7 + 1) + &"x".repeat(filler / 7),
            )
            .header("x", "?>".repeat(filler % 5 + 1) + &"y".repeat(filler / 5))
            .sign();
        let segments: Vec<&str> = candidate.split('.').collect();
        if segments
            .iter()
            .all(|s| s.len() % 4 != 0 && s.contains(['-', '_']))
        {
            token = Some(candidate);
            break;
        }
    }
    let token = token.expect("a token shaped for the test");
    validator.validate(&token).await.unwrap();
    let segments: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut variants = Vec::new();
    for i in 0..3 {
        let mut with = |replacement: String, what: &str| {
            let mut parts = segments.clone();
            parts[i] = replacement;
            variants.push((format!("{what} in segment {i}"), parts.join(".")));
        };
        with(format!("{}=", segments[i]), "one pad");
        with(format!("{}==", segments[i]), "two pads");
        with(
            segments[i].replace('-', "+").replace('_', "/"),
            "+/ alphabet",
        );
        with(with_trailing_bits(&segments[i]).unwrap(), "trailing bits");
        with(format!("{}\n", segments[i]), "newline");
        with(format!(" {}", segments[i]), "leading space");
    }
    variants.push((
        "whole token in +/".into(),
        token.replace('-', "+").replace('_', "/"),
    ));
    // `validate` applies the bearer limits first: a variant that is not token68
    // (a pad or a space inside) is a 400 there too, the others a 401.
    for (what, variant) in variants {
        assert_ne!(variant, token);
        match validator.validate(&variant).await {
            Err(Error::InvalidToken(TokenError::Malformed(_) | TokenError::InvalidSignature)) => {
                assert!(is_token68(&variant), "{what}: refused as a token")
            }
            Err(Error::InvalidRequest(RequestError::InvalidTokenCharacters)) => {
                assert!(!is_token68(&variant), "{what}: refused as not token68")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // Over HTTP the same variants never get past the bearer parser either.
    let padded = format!("Bearer {}=.{}", segments[0], segments[1..].join("."));
    let error = validator
        .authenticate([padded.as_bytes()])
        .await
        .unwrap_err();
    assert_eq!(error.status(), 400);
}

#[tokio::test]
async fn payload_that_is_not_a_json_object_is_refused() {
    let (issuer, validator) = setup().await;
    let header = br#"{"alg":"EdDSA","kid":"eddsa-3"}"#;
    let object = payload(&issuer).to_string();
    let cases: Vec<Vec<u8>> = vec![
        b"[1,2,3]".to_vec(),
        format!("[{object}]").into_bytes(),
        br#""a string""#.to_vec(),
        b"12".to_vec(),
        b"null".to_vec(),
        b"true".to_vec(),
        b"".to_vec(),
        b"{".to_vec(),
        format!("{object} {{}}").into_bytes(),
        format!("{object}x").into_bytes(),
        [&b"\xef\xbb\xbf"[..], object.as_bytes()].concat(),
        object.replacen('{', "{'", 1).into_bytes(),
    ];
    for body in cases {
        let token = issuer.sign_raw("eddsa-3", header, &body);
        assert!(
            matches!(refused(&validator, &token).await, TokenError::Malformed(_)),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    // A header that is not an object either.
    for header in [&b"[\"alg\"]"[..], b"\"EdDSA\"", b"null"] {
        let token = issuer.sign_raw("eddsa-3", header, object.as_bytes());
        assert!(matches!(
            refused(&validator, &token).await,
            TokenError::Malformed(_)
        ));
    }
}

/// JSON text must be UTF-8 with well-formed strings (RFC 8259 §8, RFC 7519
/// §7.2): a payload or header with invalid UTF-8 or a lone surrogate in a
/// member the parser skips is not a JWT. Found by the `validate_signed`
/// fuzz target.
#[tokio::test]
async fn header_or_payload_that_is_not_valid_json_text_is_refused() {
    let (issuer, validator) = setup().await;
    let iss = issuer.issuer();
    let exp = now() + 3600;
    let good_header = br#"{"alg":"ES256","kid":"es256-2"}"#.to_vec();
    let good_body = format!(r#"{{"iss":"{iss}","exp":{exp},"aud":"{API}"}}"#).into_bytes();
    let bad_body = |member: &[u8]| {
        [
            &good_body[..good_body.len() - 1],
            b",\"note\":\"",
            member,
            b"\"}",
        ]
        .concat()
    };
    let bad_header = |member: &[u8]| {
        [
            &good_header[..good_header.len() - 1],
            b",\"note\":\"",
            member,
            b"\"}",
        ]
        .concat()
    };
    let token = issuer.sign_raw("es256-2", &good_header, &good_body);
    validator.validate(&token).await.unwrap();
    let mut failures = Vec::new();
    for member in [
        &b"\xff"[..],
        b"api\xe1read",
        b"\xed\xa0\x80",
        br"\ud800",
        br"\u12",
        br"\uZZZZ",
        br"\udc00x",
    ] {
        for (which, header, body) in [
            ("payload", good_header.clone(), bad_body(member)),
            ("header", bad_header(member), good_body.clone()),
        ] {
            assert!(serde_json::from_slice::<Value>(&header).is_err() || which == "payload");
            let token = issuer.sign_raw("es256-2", &header, &body);
            match validator.validate(&token).await {
                Err(Error::InvalidToken(TokenError::Malformed(_))) => {}
                other => failures.push(format!(
                    "{which} with {:?}: {:?}",
                    String::from_utf8_lossy(member),
                    other.map(|a| a.sub().map(str::to_owned))
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "accepted or misclassified:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn exp_nbf_iat_of_the_wrong_type_or_range_are_refused() {
    let (issuer, validator) = setup().await;
    let now = now();
    let token =
        |name: &str, value: Value| issuer.token().for_global_api(API).claim(name, value).sign();
    let invalid = [
        ("exp", json!((now + 3600).to_string())),
        ("exp", json!("soon")),
        ("exp", json!(1e300)),
        ("exp", json!(u64::MAX)),
        ("exp", json!(9_007_199_254_740_993_i64)),
        ("exp", json!(-9_007_199_254_740_993_i64)),
        ("exp", json!(null)),
        ("exp", json!(true)),
        ("exp", json!([now + 3600])),
        ("exp", json!({"$date": now + 3600})),
        ("nbf", json!("0")),
        ("nbf", json!(1e300)),
        ("nbf", json!(i64::MIN)),
        ("nbf", json!(null)),
    ];
    for (name, value) in invalid {
        let claim = if name == "exp" { "exp" } else { "nbf" };
        assert_eq!(
            refused(&validator, &token(name, value.clone())).await,
            TokenError::InvalidClaim(claim),
            "{name}: {value}"
        );
    }
    // Numbers in range are NumericDates: fractions are truncated, negative
    // values are in the past.
    validator
        .validate(&token("exp", json!(now as f64 + 3600.75)))
        .await
        .unwrap();
    assert_eq!(
        refused(&validator, &token("exp", json!(now as f64 - 3600.5))).await,
        TokenError::Expired
    );
    assert_eq!(
        refused(&validator, &token("exp", json!(-1))).await,
        TokenError::Expired
    );
    assert_eq!(
        refused(&validator, &token("exp", json!(-9_007_199_254_740_992_i64))).await,
        TokenError::Expired
    );
    assert_eq!(
        refused(&validator, &token("nbf", json!(9_007_199_254_740_992_i64))).await,
        TokenError::NotYetValid
    );
    validator.validate(&token("nbf", json!(-1))).await.unwrap();
    validator
        .validate(&token("nbf", json!(now as f64 - 0.5)))
        .await
        .unwrap();
    // `iat` is informational: any NumericDate, even negative or fractional,
    // is fine.
    for iat in [json!(now), json!(now as f64 + 0.25), json!(-1), json!(0)] {
        validator
            .validate(&token("iat", iat.clone()))
            .await
            .unwrap_or_else(|e| panic!("iat {iat}: {e:?}"));
    }
}

/// What a client reads through `AuthInfo::claim("iat")` must be a
/// NumericDate when present, as jose and Nimbus JOSE require: a string, a
/// boolean or a number past ±2^53 is refused like the same `exp` or `nbf`.
#[tokio::test]
async fn iat_that_is_not_a_numeric_date_is_refused() {
    let (issuer, validator) = setup().await;
    let mut accepted = Vec::new();
    for iat in [
        json!("1700000000"),
        json!("yesterday"),
        json!(true),
        json!(1e300),
        json!(u64::MAX),
        json!({"t": 1}),
        json!(null),
    ] {
        let token = issuer
            .token()
            .for_global_api(API)
            .claim("iat", iat.clone())
            .sign();
        match validator.validate(&token).await {
            Err(Error::InvalidToken(TokenError::InvalidClaim("iat"))) => {}
            other => accepted.push(format!("iat {iat}: {:?}", other.map(|a| a.claim("iat")))),
        }
    }
    assert!(
        accepted.is_empty(),
        "iat that is not a NumericDate was not refused with invalid_claim(iat):\n{}",
        accepted.join("\n")
    );
}

#[tokio::test]
async fn aud_as_an_object_is_refused() {
    let (issuer, validator) = setup().await;
    for aud in [
        json!({ "aud": API }),
        json!({ API: true }),
        json!([{ "aud": API }]),
        json!([API, { "x": 1 }]),
        json!([API, 1]),
        json!([[API]]),
        json!(7),
        json!(null),
        json!(true),
    ] {
        let token = issuer.token().claim("aud", aud.clone()).sign();
        assert_eq!(
            refused(&validator, &token).await,
            TokenError::InvalidClaim("aud"),
            "{aud}"
        );
    }
}

#[tokio::test]
async fn scope_as_a_number_is_refused() {
    let (issuer, validator) = setup().await;
    for (claim, value) in [
        ("scope", json!(7)),
        ("scope", json!(1.5)),
        ("scope", json!(["api:read"])),
        ("scope", json!({"api:read": true})),
        ("scope", json!(null)),
        ("scope", json!(true)),
        ("scp", json!(7)),
        ("scp", json!(["api:read", 7])),
        ("scp", json!({"api:read": true})),
    ] {
        let token = issuer
            .token()
            .for_global_api(API)
            .claim(claim, value.clone())
            .sign();
        let expected = if claim == "scope" { "scope" } else { "scp" };
        assert_eq!(
            refused(&validator, &token).await,
            TokenError::InvalidClaim(expected),
            "{claim}: {value}"
        );
    }
}

#[tokio::test]
async fn extremely_long_scope_strings_are_handled_within_the_token_limit() {
    let (issuer, validator) = setup().await;
    let policy = Policy::new(Model::GlobalApi).scopes(["api:write"]);
    // Many tiny scopes, one huge scope, and runs of separators, each in a
    // token just under the 8 KiB bearer limit.
    let fit = |scope_of: &dyn Fn(usize) -> String| {
        let mut n = 6000;
        loop {
            let token = issuer
                .token()
                .kid("es256-2")
                .for_global_api(API)
                .scope(scope_of(n))
                .sign();
            if token.len() <= 8 * 1024 {
                return token;
            }
            n -= 50;
        }
    };
    let many = fit(&|n| format!("{} api:write", "a ".repeat(n / 2)));
    let huge = fit(&|n| format!("api:write {}", "x".repeat(n)));
    let spaces = fit(&|n| format!("{}api:write{}", " ".repeat(n / 2), " ".repeat(n / 2)));
    let near_miss = fit(&|n| format!("{}api:writ", "api:write".repeat(n / 9)));
    for (what, token, granted) in [
        ("many scopes", &many, true),
        ("huge scope", &huge, true),
        ("separators", &spaces, true),
        ("concatenated", &near_miss, false),
    ] {
        assert!(token.len() > 7 * 1024, "{what}: {}", token.len());
        let header = format!("Bearer {token}");
        let started = Instant::now();
        let auth = validator.authenticate([header.as_bytes()]).await.unwrap();
        let decided = policy.decide(&auth, None);
        assert!(started.elapsed() < Duration::from_secs(1), "{what}");
        assert_eq!(decided.is_ok(), granted, "{what}: {decided:?}");
        assert!(
            auth.scopes()
                .iter()
                .all(|s| !s.is_empty() && !s.contains(' '))
        );
    }
    assert!(many.len() <= 8 * 1024);
    // One byte over the limit is a 400 before any parsing.
    let over = issuer
        .token()
        .for_global_api(API)
        .scope("a ".repeat(6000))
        .sign();
    assert!(over.len() > 8 * 1024);
    let header = format!("Bearer {over}");
    let error = validator
        .authenticate([header.as_bytes()])
        .await
        .unwrap_err();
    assert_eq!(error.code(), "token_too_long");
    assert_eq!(error.status(), 400);
}

#[tokio::test]
async fn unicode_lookalike_scopes_are_not_granted() {
    let (issuer, validator) = setup().await;
    let policy = Policy::new(Model::GlobalApi).scopes(["api:read"]);
    let genuine = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    policy
        .decide(&validator.validate(&genuine).await.unwrap(), None)
        .unwrap();
    for lookalike in [
        "api:re\u{0430}d",         // Cyrillic a
        "\u{0430}pi:read",         // Cyrillic a first
        "api\u{ff1a}read",         // fullwidth colon
        "api:read\u{200b}",        // zero-width space
        "api:rea\u{0064}\u{0301}", // combining acute accent
        "ＡＰＩ:read",             // fullwidth Latin
        "API:READ",                // case
        "api:read\u{00a0}",        // no-break space (not a separator)
        "api\u{2236}read",         // ratio sign
    ] {
        let token = issuer
            .token()
            .for_global_api(API)
            .scopes([lookalike])
            .sign();
        let auth = validator.validate(&token).await.unwrap();
        assert!(!auth.has_scope("api:read"), "{lookalike:?}");
        assert_eq!(
            policy.decide(&auth, None),
            Err(Denied::MissingScopes {
                missing: vec!["api:read".into()]
            }),
            "{lookalike:?}"
        );
    }
}

#[tokio::test]
async fn unicode_lookalike_organization_ids_do_not_match() {
    let (issuer, validator) = setup().await;
    let resource = Policy::new(Model::OrgResource).scopes(["api:read"]);
    let permission = Policy::new(Model::OrgPermission).scopes(["api:read"]);
    // (organization in the token, organization of the request)
    let pairs = [
        ("\u{0430}cme", "acme"),      // Cyrillic a in the token
        ("acme", "\u{0430}cme"),      // Cyrillic a in the request
        ("caf\u{e9}", "cafe\u{301}"), // NFC vs NFD
        ("cafe\u{301}", "caf\u{e9}"),
        ("ａcme", "acme"), // fullwidth
        ("ACME", "acme"),
        ("acme\u{200b}", "acme"),
        ("acme", "acme "),
    ];
    for (token_org, request_org) in pairs {
        let org_resource = issuer
            .token()
            .for_org_resource(API, token_org)
            .scopes(["api:read"])
            .sign();
        let auth = validator.validate(&org_resource).await.unwrap();
        assert_eq!(
            resource.decide(&auth, Some(request_org)),
            Err(Denied::OrganizationMismatch),
            "{token_org:?} vs {request_org:?}"
        );
        resource.decide(&auth, Some(token_org)).unwrap();
        let org_token = issuer
            .token()
            .for_organization(token_org)
            .scopes(["api:read"])
            .sign();
        let auth = validator.validate(&org_token).await.unwrap();
        assert_eq!(
            permission.decide(&auth, Some(request_org)),
            Err(Denied::OrganizationMismatch),
            "{token_org:?} vs {request_org:?}"
        );
        permission.decide(&auth, Some(token_org)).unwrap();
    }
}

static ORG_DATA: Policy = Policy::from_static(
    Model::OrgResource,
    &[Cow::Borrowed("api:read")],
    &[],
    None,
    Some(OrgSource::PathParam(Cow::Borrowed("org_id"))),
    None,
    &[],
);

static ORG_MEMBERS: Policy = Policy::from_static(
    Model::OrgPermission,
    &[Cow::Borrowed("read:members")],
    &[],
    None,
    Some(OrgSource::PathParam(Cow::Borrowed("org_id"))),
    None,
    &[],
);

/// warp does not percent-decode path parameters, so the organization id a
/// policy compares is the raw segment: no encoding, traversal or case trick
/// turns `acme`'s token into access to another organization, nor an
/// encoded `acme` into `acme`.
#[tokio::test]
async fn organization_id_with_traversal_or_percent_encoding_in_the_route_is_refused() {
    let (issuer, validator) = setup().await;
    let data = authorize_path(
        warp::path!("orgs" / String / "data"),
        validator.clone(),
        &ORG_DATA,
    )
    .map(|org: String, _auth: AuthInfo| org);
    let members = authorize_path(
        warp::path!("orgs" / String / "members"),
        validator.clone(),
        &ORG_MEMBERS,
    )
    .map(|org: String, _auth: AuthInfo| org);
    let routes = data.or(members).unify().recover(recover);
    let resource_token = issuer
        .token()
        .for_org_resource(API, "acme")
        .scopes(["api:read"])
        .sign();
    let org_token = issuer
        .token()
        .for_organization("acme")
        .scopes(["read:members"])
        .sign();
    let call = |path: String, token: &str| {
        warp::test::request()
            .path(&path)
            .header("authorization", bearer(token))
            .reply(&routes)
    };
    for (suffix, token) in [("data", &resource_token), ("members", &org_token)] {
        let ok = call(format!("/orgs/acme/{suffix}"), token).await;
        assert_eq!(ok.status(), 200, "{suffix}");
        assert_eq!(ok.body(), "acme");
        for org in [
            "..%2Facme",
            "acme%2F..%2Fother",
            "acme%2f..%2fother",
            "%61cme",
            "%2561cme",
            "ACME",
            "acme%00",
            "acme%20",
            "acme%2F",
            "acme;other",
            "%2E%2E",
            "..",
            ".",
            "acme%E2%80%8B",
            "%D0%B0cme",
        ] {
            let response = call(format!("/orgs/{org}/{suffix}"), token).await;
            assert_eq!(response.status(), 403, "/orgs/{org}/{suffix}");
            let body: Value = serde_json::from_slice(response.body()).unwrap();
            assert_eq!(body["code"], "organization_mismatch", "{org}");
        }
        // Traversal with real slashes is another route altogether.
        for path in [
            format!("/orgs/acme/../other/{suffix}"),
            format!("/orgs/other/../acme/{suffix}"),
            format!("/orgs//acme/{suffix}"),
            format!("/orgs/acme/{suffix}/../../other/{suffix}"),
        ] {
            let response = call(path.clone(), token).await;
            assert_ne!(response.status(), 200, "{path}");
        }
    }
    // A token for another organization is refused on acme's route.
    let other = issuer
        .token()
        .for_org_resource(API, "other")
        .scopes(["api:read"])
        .sign();
    let response = call("/orgs/acme/data".into(), &other).await;
    assert_eq!(response.status(), 403);
}

/// An organization named twice in the request (header or query parameter)
/// is ambiguous: the policy must not check one value while the handler may
/// read the other (HTTP parameter pollution).
#[tokio::test]
async fn organization_named_twice_in_the_request_is_refused() {
    let (issuer, validator) = setup().await;
    let by_header = warp::path("header")
        .and(authorize(
            validator.clone(),
            Policy::new(Model::OrgPermission)
                .scopes(["read:members"])
                .organization(OrgSource::Header("X-Organization-Id".into())),
        ))
        .map(|_auth: AuthInfo| "ok");
    let by_query = warp::path("query")
        .and(authorize(
            validator.clone(),
            Policy::new(Model::OrgPermission)
                .scopes(["read:members"])
                .organization(OrgSource::Query("org".into())),
        ))
        .map(|_auth: AuthInfo| "ok");
    let routes = by_header.or(by_query).unify().recover(recover);
    let token = issuer
        .token()
        .for_organization("acme")
        .scopes(["read:members"])
        .sign();
    let authorization = bearer(&token);
    // Controls: one value each.
    let ok = warp::test::request()
        .path("/header")
        .header("authorization", &authorization)
        .header("x-organization-id", "acme")
        .reply(&routes)
        .await;
    assert_eq!(ok.status(), 200);
    let ok = warp::test::request()
        .path("/query?org=acme")
        .header("authorization", &authorization)
        .reply(&routes)
        .await;
    assert_eq!(ok.status(), 200);
    let other = warp::test::request()
        .path("/query?org=other")
        .header("authorization", &authorization)
        .reply(&routes)
        .await;
    assert_eq!(other.status(), 403);
    let encoded = warp::test::request()
        .path("/query?org=%61cme")
        .header("authorization", &authorization)
        .reply(&routes)
        .await;
    // The query string is form-decoded: `%61cme` is `acme` there, by design.
    assert_eq!(encoded.status(), 200);

    // warp's test requests cannot repeat a header: serve on loopback.
    let server = Server::start(App::warp(routes)).await;
    let get = |path: &str| server.get(path).header("authorization", &authorization);
    let one = server
        .send(get("/header").header("x-organization-id", "acme"))
        .await;
    assert_eq!(one.status, 200, "{one:?}");
    let mut failures = Vec::new();
    for (first, second) in [("acme", "other"), ("other", "acme")] {
        let response = server
            .send(
                get("/header")
                    .header("x-organization-id", first)
                    .header("x-organization-id", second),
            )
            .await;
        if response.status == 200 {
            failures.push(format!("headers {first}, {second}: 200"));
        }
        let response = server
            .send(get(&format!("/query?org={first}&org={second}")))
            .await;
        if response.status == 200 {
            failures.push(format!("query org={first}&org={second}: 200"));
        }
    }
    assert!(
        failures.is_empty(),
        "an ambiguous organization was authorized:\n{}",
        failures.join("\n")
    );
}

/// Payloads built to make the work before the signature check expensive, each
/// near the 8 KiB token cap: 1,400 `scope` and 1,400 `scp` entries (merged
/// into one list), an `aud` of 1,400 entries, a custom claim repeated 440
/// times. `BENCHMARKS.md` compares their refusal with a plain forged token's
/// of the same size (`pre_signature` bench).
fn costly_payloads(iss: &str, exp: i64) -> Vec<(&'static str, String)> {
    let scope = vec!["a"; 1400].join(" ");
    let scp = vec!["b"; 1400].join(" ");
    let aud: Vec<String> = (0..1400).map(|i| format!("{:x}", i % 16)).collect();
    let repeated: String = (0..440).map(|i| format!(r#","x":{i}"#)).collect();
    vec![
        (
            "scope and scp",
            json!({ "iss": iss, "exp": exp, "scope": scope, "scp": scp }).to_string(),
        ),
        (
            "aud array",
            json!({ "iss": iss, "exp": exp, "aud": aud }).to_string(),
        ),
        (
            "repeated claim",
            format!(r#"{{"iss":"{iss}","exp":{exp}{repeated}}}"#),
        ),
    ]
}

/// No signature, trusted issuer or not: each costly payload is refused as
/// any forgery is, by a validator that parses the payload before it picks a
/// key.
#[tokio::test]
async fn payloads_built_to_cost_parsing_time_are_refused_like_any_forgery() {
    let (issuer, validator) = setup().await;
    let header = r#"{"alg":"RS256","kid":"rs256-1"}"#;
    let exp = now() + 600;
    let trusted = issuer.issuer();
    for iss in [trusted.as_str(), "https://attacker.example"] {
        for (name, payload) in costly_payloads(iss, exp) {
            let token = unsigned(header, &payload, &b64url(&[7; 256]));
            assert!(
                token.len() <= bearer_policy::DEFAULT_MAX_TOKEN_LEN,
                "{name}: {} bytes",
                token.len()
            );
            let expected = if iss == trusted {
                TokenError::InvalidSignature
            } else {
                TokenError::WrongIssuer
            };
            assert_eq!(refused(&validator, &token).await, expected, "{name}");
        }
    }
}

/// Nothing but `iss` is read before the signature holds: a forged payload
/// whose other claims are mistyped or duplicated is refused for its
/// signature, not for its claims (which were never parsed), while the same
/// payload signed by the issuer is refused for the claim.
#[tokio::test]
async fn a_forged_payload_is_not_parsed_beyond_its_issuer() {
    let (issuer, validator) = setup().await;
    let header = json!({"alg": "RS256", "kid": "rs256-1"}).to_string();
    let iss = issuer.issuer();
    let exp = now() + 600;
    for (payload, claim) in [
        (format!(r#"{{"iss":"{iss}","exp":"soon"}}"#), "exp"),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"aud":{{"x":1}}}}"#),
            "aud",
        ),
        (
            format!(r#"{{"iss":"{iss}","exp":{exp},"sub":"a","sub":"b"}}"#),
            "sub",
        ),
    ] {
        let forged = unsigned(&header, &payload, &b64url(&[7; 256]));
        assert_eq!(
            refused(&validator, &forged).await,
            TokenError::InvalidSignature,
            "{payload}"
        );
        let signed = issuer.sign_raw("rs256-1", header.as_bytes(), payload.as_bytes());
        assert!(
            matches!(
                refused(&validator, &signed).await,
                TokenError::InvalidClaim(name) if name == claim
            ),
            "{payload}"
        );
    }
}
