#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Validation, decode, decode_header};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;
use crate::validator::verify::now;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    (status, headers, body)
}

async fn get_json(url: &str) -> Value {
    let (status, _, body) = get(url).await;
    assert_eq!(status, 200);
    serde_json::from_slice(&body).unwrap()
}

fn b64_json(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let header = b64_json(it.next().unwrap());
    let payload = b64_json(it.next().unwrap());
    assert!(it.next().is_some());
    assert!(it.next().is_none());
    (header, payload)
}

fn served_key(jwks: &Value, kid: &str) -> DecodingKey {
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} not served"));
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
    DecodingKey::from_jwk(&jwk).unwrap()
}

fn verify(issuer: &TestIssuer, jwks: &Value, token: &str) -> Value {
    let header = decode_header(token).unwrap();
    let kid = header.kid.unwrap();
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    validation.set_issuer(&[issuer.issuer()]);
    decode::<Value>(token, &served_key(jwks, &kid), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn discovery_document_names_the_issuer() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    assert_eq!(
        issuer.issuer(),
        format!("http://127.0.0.1:{}/oidc", issuer.addr().port())
    );
    let doc = get_json(&issuer.discovery_url()).await;
    assert_eq!(doc["issuer"], issuer.issuer());
    assert_eq!(doc["jwks_uri"], issuer.jwks_uri());
    assert_eq!(doc["token_endpoint"], format!("{}/token", issuer.issuer()));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(issuer.discovery_requests(), 1);
    assert_eq!(issuer.jwks_requests(), 0);

    issuer.set_discovery_issuer(Some("https://elsewhere.example/oidc".into()));
    let doc = get_json(&issuer.discovery_url()).await;
    assert_eq!(doc["issuer"], "https://elsewhere.example/oidc");
    assert_eq!(doc["jwks_uri"], issuer.jwks_uri());
    issuer.set_discovery_issuer(None);
    let doc = get_json(&issuer.discovery_url()).await;
    assert_eq!(doc["issuer"], issuer.issuer());
    assert_eq!(issuer.discovery_requests(), 3);
}

#[tokio::test]
async fn jwks_lists_every_key_type_and_tokens_verify() {
    let issuer = TestIssuer::with_algorithms(&[
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ])
    .await;
    let (status, headers, body) = get(&issuer.jwks_uri()).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/jwk-set+json");
    assert_eq!(headers["cache-control"], "max-age=600");
    let jwks: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(jwks, issuer.jwks_json());
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 4);
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, issuer.kids());
    assert_eq!(kids, ["rs256-1", "es256-2", "es384-3", "eddsa-4"]);
    assert_eq!(issuer.current_kid(), "rs256-1");

    let decode_len = |v: &Value| URL_SAFE_NO_PAD.decode(v.as_str().unwrap()).unwrap().len();
    for key in keys {
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none(), "private part published: {key}");
    }
    let (rsa, p256, p384, ed) = (&keys[0], &keys[1], &keys[2], &keys[3]);
    assert_eq!(rsa["kty"], "RSA");
    assert_eq!(rsa["alg"], "RS256");
    assert_eq!(rsa["e"], "AQAB");
    assert_eq!(decode_len(&rsa["n"]), 256);
    assert_eq!(
        (&p256["kty"], &p256["crv"], &p256["alg"]),
        (&json!("EC"), &json!("P-256"), &json!("ES256"))
    );
    assert_eq!((decode_len(&p256["x"]), decode_len(&p256["y"])), (32, 32));
    assert_eq!(
        (&p384["kty"], &p384["crv"], &p384["alg"]),
        (&json!("EC"), &json!("P-384"), &json!("ES384"))
    );
    assert_eq!((decode_len(&p384["x"]), decode_len(&p384["y"])), (48, 48));
    assert_eq!(
        (&ed["kty"], &ed["crv"], &ed["alg"]),
        (&json!("OKP"), &json!("Ed25519"), &json!("EdDSA"))
    );
    assert_eq!(decode_len(&ed["x"]), 32);
    assert!(ed.get("y").is_none());

    for kid in issuer.kids() {
        let token = issuer.token().kid(kid.clone()).subject("alice").sign();
        let (header, _) = parts(&token);
        assert_eq!(header["kid"], kid);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], issuer.algorithm_of(&kid).unwrap().as_str());
        let claims = verify(&issuer, &jwks, &token);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["client_id"], "test-client");
        // The same key through the convenience accessor.
        let header = decode_header(&token).unwrap();
        let mut validation = Validation::new(header.alg);
        validation.validate_aud = false;
        decode::<Value>(&token, &issuer.decoding_key(&kid).unwrap(), &validation).unwrap();
    }
    // The default token is signed by the first key.
    let claims = verify(&issuer, &jwks, &issuer.token().sign());
    assert_eq!(claims["sub"], "user-1");
}

#[tokio::test]
async fn token_builder_shapes_header_and_payload() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::EdDSA]).await;
    let before = now();
    let (header, payload) = parts(&issuer.token().sign());
    assert_eq!(
        header,
        json!({"alg": "EdDSA", "typ": "at+jwt", "kid": issuer.current_kid()})
    );
    assert_eq!(payload["iss"], issuer.issuer());
    assert_eq!(payload["sub"], "user-1");
    assert_eq!(payload["client_id"], "test-client");
    let iat = payload["iat"].as_i64().unwrap();
    assert!(iat >= before && iat <= now());
    assert_eq!(payload["exp"].as_i64().unwrap(), iat + 3600);
    for absent in ["nbf", "aud", "scope", "organization_id"] {
        assert!(payload.get(absent).is_none(), "{absent}");
    }

    let (_, payload) = parts(&issuer.token().audience("https://api").sign());
    assert_eq!(payload["aud"], "https://api");
    let (_, payload) = parts(
        &issuer
            .token()
            .audience("a")
            .audience("b")
            .audience("c")
            .sign(),
    );
    assert_eq!(payload["aud"], json!(["a", "b", "c"]));
    let (_, payload) = parts(&issuer.token().scopes(["read", "write"]).sign());
    assert_eq!(payload["scope"], "read write");
    let (_, payload) = parts(&issuer.token().scopes(Vec::<String>::new()).sign());
    assert_eq!(payload["scope"], "");
    let (_, payload) = parts(&issuer.token().scope("a  b").sign());
    assert_eq!(payload["scope"], "a  b");
    let (_, payload) = parts(&issuer.token().for_global_api("https://api").sign());
    assert_eq!(payload["aud"], "https://api");
    let (_, payload) = parts(&issuer.token().for_organization("org-1").sign());
    assert_eq!(payload["aud"], "urn:logto:organization:org-1");
    assert!(payload.get("organization_id").is_none());
    let (_, payload) = parts(
        &issuer
            .token()
            .for_org_resource("https://api", "org-2")
            .sign(),
    );
    assert_eq!(payload["aud"], "https://api");
    assert_eq!(payload["organization_id"], "org-2");

    let token = issuer
        .token()
        .subject("bob")
        .client_id("app")
        .issuer("https://evil")
        .issued_at(10)
        .not_before(20)
        .expires_at(30)
        .claim("exp", "soon")
        .claim("extra", json!({"nested": [1, 2]}))
        .remove_claim("client_id")
        .header("crit", ["exp"])
        .header("jku", "https://evil/jwks")
        .typ(None)
        .no_kid()
        .sign();
    let (header, payload) = parts(&token);
    assert_eq!(
        header,
        json!({"alg": "EdDSA", "crit": ["exp"], "jku": "https://evil/jwks"})
    );
    assert_eq!(
        payload,
        json!({"iss": "https://evil", "sub": "bob", "iat": 10, "nbf": 20, "exp": "soon", "extra": {"nested": [1, 2]}})
    );

    let (_, payload) = parts(&issuer.token().expires_in(Duration::from_secs(60)).sign());
    let exp = payload["exp"].as_i64().unwrap();
    assert!(exp >= before + 60 && exp <= now() + 60);

    // Header overrides win over the generated fields.
    let (header, _) = parts(&issuer.token().typ(Some("JWT")).header("alg", "none").sign());
    assert_eq!(header["alg"], "none");
    assert_eq!(header["typ"], "JWT");

    // An unknown kid is named in the header, signed with the current key.
    let token = issuer.token().kid("nope").sign();
    let (header, _) = parts(&token);
    assert_eq!(header["kid"], "nope");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.validate_aud = false;
    decode::<Value>(
        &token,
        &issuer.decoding_key(&issuer.current_kid()).unwrap(),
        &validation,
    )
    .unwrap();
}

#[tokio::test]
async fn sign_raw_signs_the_bytes_given() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    let kid = issuer.current_kid();
    let header = br#"{"alg":"ES256","kid":"x","kid":"y"}"#;
    let token = issuer.sign_raw(&kid, header, b"[1,2,3]");
    let mut it = token.split('.');
    assert_eq!(URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap(), header);
    assert_eq!(
        URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap(),
        b"[1,2,3]"
    );
    let (message, signature) = token.rsplit_once('.').unwrap();
    let key = issuer.decoding_key(&kid).unwrap();
    assert!(
        jsonwebtoken::crypto::verify(
            signature,
            message.as_bytes(),
            &key,
            jsonwebtoken::Algorithm::ES256
        )
        .unwrap()
    );
    assert!(
        !jsonwebtoken::crypto::verify(signature, b"other", &key, jsonwebtoken::Algorithm::ES256)
            .unwrap()
    );
}

#[tokio::test]
async fn public_key_der_is_spki() {
    use aws_lc_rs::signature::{ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    let issuer = TestIssuer::start().await;
    let rsa_kid = issuer.current_kid();
    let ed_kid = issuer.add_key(Algorithm::EdDSA);
    for (kid, alg) in [
        (
            rsa_kid,
            &RSA_PKCS1_2048_8192_SHA256 as &dyn aws_lc_rs::signature::VerificationAlgorithm,
        ),
        (ed_kid, &ED25519),
    ] {
        let der = issuer.public_key_der(&kid).unwrap();
        assert_eq!(der.first(), Some(&0x30));
        let token = issuer.token().kid(kid.clone()).sign();
        let (message, signature) = token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        // aws-lc-rs accepts SubjectPublicKeyInfo for RSA; Ed25519 wants the raw key.
        let public = if kid.starts_with("eddsa") {
            der[der.len() - 32..].to_vec()
        } else {
            der.clone()
        };
        UnparsedPublicKey::new(alg, public)
            .verify(message.as_bytes(), &signature)
            .unwrap();
        let pem = issuer.public_key_pem(&kid).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|line| line.len() <= 64));
    }
    assert!(issuer.public_key_der("unknown").is_none());
    let hs = issuer.add_key(Algorithm::HS256);
    assert!(issuer.public_key_der(&hs).is_none());
    assert_eq!(issuer.jwk(&hs).unwrap()["kty"], "oct");
}

#[tokio::test]
async fn keys_are_added_rotated_and_removed() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    let first = issuer.current_kid();
    let second = issuer.add_key(Algorithm::EdDSA);
    assert_ne!(first, second);
    assert_eq!(issuer.kids(), [first.as_str(), second.as_str()]);
    assert_eq!(issuer.current_kid(), second);
    let (header, _) = parts(&issuer.token().sign());
    assert_eq!(
        (&header["alg"], &header["kid"]),
        (&json!("EdDSA"), &json!(second))
    );

    let rotated = issuer.rotate();
    assert_eq!(issuer.kids(), [rotated.as_str()]);
    assert_eq!(issuer.current_kid(), rotated);
    assert_eq!(issuer.algorithm_of(&rotated), Some(Algorithm::EdDSA));
    let jwks = get_json(&issuer.jwks_uri()).await;
    let served: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(served, [rotated.as_str()]);
    verify(&issuer, &jwks, &issuer.token().sign());

    // A rotated-out key can still sign, but is no longer served.
    let old = issuer.token().kid(first.clone()).sign();
    assert_eq!(parts(&old).0["alg"], "ES256");

    let third = issuer.add_key(Algorithm::ES384);
    issuer.remove_key(&rotated);
    issuer.remove_key("never-existed");
    assert_eq!(issuer.kids(), [third.as_str()]);
    issuer.remove_key(&third);
    assert!(issuer.kids().is_empty());
    assert_eq!(get_json(&issuer.jwks_uri()).await, json!({"keys": []}));
    // Still signs with the removed current key.
    assert_eq!(parts(&issuer.token().sign()).0["kid"], json!(third));
}

#[tokio::test]
async fn counters_and_faults() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    get_json(&issuer.jwks_uri()).await;
    get_json(&issuer.jwks_uri()).await;
    get_json(&issuer.discovery_url()).await;
    assert_eq!(
        (issuer.jwks_requests(), issuer.discovery_requests()),
        (2, 1)
    );

    issuer.set_fault(Fault::Status(500));
    let (status, _, body) = get(&issuer.jwks_uri()).await;
    assert_eq!(status, 500);
    assert!(!body.is_empty());
    assert_eq!(issuer.jwks_requests(), 3);
    // Discovery is unaffected by a status fault.
    get_json(&issuer.discovery_url()).await;

    issuer.set_fault(Fault::Status(42));
    assert_eq!(get(&issuer.jwks_uri()).await.0, 500);
    issuer.set_fault(Fault::Status(404));
    assert_eq!(get(&issuer.jwks_uri()).await.0, 404);

    issuer.set_fault(Fault::Body {
        content_type: "text/html".into(),
        body: b"<html>".to_vec(),
    });
    let (status, headers, body) = get(&issuer.jwks_uri()).await;
    assert_eq!((status, body.as_slice()), (200, &b"<html>"[..]));
    assert_eq!(headers["content-type"], "text/html");
    issuer.set_fault(Fault::Body {
        content_type: "bad\nvalue".into(),
        body: b"{}".to_vec(),
    });
    let (status, headers, body) = get(&issuer.jwks_uri()).await;
    assert_eq!((status, body.as_slice()), (200, &b"{}"[..]));
    assert!(headers.get("content-type").is_none());

    issuer.set_fault(Fault::Delay(Duration::from_millis(200)));
    let started = std::time::Instant::now();
    get_json(&issuer.jwks_uri()).await;
    get_json(&issuer.discovery_url()).await;
    assert!(started.elapsed() >= Duration::from_millis(400));

    issuer.set_fault(Fault::None);
    get_json(&issuer.jwks_uri()).await;
    assert_eq!(
        (issuer.jwks_requests(), issuer.discovery_requests()),
        (9, 3)
    );
    issuer.reset_counters();
    assert_eq!(
        (issuer.jwks_requests(), issuer.discovery_requests()),
        (0, 0)
    );
}

#[tokio::test]
async fn stop_refuses_connections_and_restart_serves_the_same_port() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    let client = client();
    let addr = issuer.addr();
    assert!(
        client
            .get(issuer.jwks_uri())
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );

    issuer.stop().await;
    issuer.stop().await; // idempotent
    let error = client.get(issuer.jwks_uri()).send().await.unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    issuer.restart().await;
    issuer.restart().await; // idempotent
    assert_eq!(issuer.addr(), addr);
    assert!(
        client
            .get(issuer.jwks_uri())
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert_eq!(
        get_json(&issuer.discovery_url()).await["issuer"],
        issuer.issuer()
    );
}

#[tokio::test]
async fn stop_does_not_wait_for_slow_requests() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    issuer.set_fault(Fault::Delay(Duration::from_secs(30)));
    let url = issuer.jwks_uri();
    let slow = tokio::spawn(async move { client().get(url).send().await });
    while issuer.jwks_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = std::time::Instant::now();
    issuer.stop().await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(tokio::net::TcpStream::connect(issuer.addr()).await.is_err());
    slow.abort();
    issuer.set_fault(Fault::None);
    issuer.restart().await;
    get_json(&issuer.jwks_uri()).await;
}

#[tokio::test]
async fn server_stops_when_the_last_clone_is_dropped() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    let addr = issuer.addr();
    let clone = issuer.clone();
    drop(issuer);
    assert_eq!(
        get_json(&clone.jwks_uri()).await["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    drop(clone);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused);
}

#[test]
fn works_on_a_multi_thread_runtime_and_rsa_variants_sign() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let issuer = TestIssuer::with_algorithms(&[Algorithm::PS256]).await;
        let jwks = get_json(&issuer.jwks_uri()).await;
        let claims = verify(&issuer, &jwks, &issuer.token().sign());
        assert_eq!(claims["sub"], "user-1");
        assert_eq!(parts(&issuer.token().sign()).0["alg"], "PS256");
    });
}

const ALL_ALGORITHMS: [(Algorithm, &str); 12] = [
    (Algorithm::HS256, "HS256"),
    (Algorithm::HS384, "HS384"),
    (Algorithm::HS512, "HS512"),
    (Algorithm::RS256, "RS256"),
    (Algorithm::RS384, "RS384"),
    (Algorithm::RS512, "RS512"),
    (Algorithm::PS256, "PS256"),
    (Algorithm::PS384, "PS384"),
    (Algorithm::PS512, "PS512"),
    (Algorithm::ES256, "ES256"),
    (Algorithm::ES384, "ES384"),
    (Algorithm::EdDSA, "EdDSA"),
];

/// Checks `signature` over `message` with aws-lc-rs, from the published JWK
/// alone: an implementation independent of the one that signed.
fn jwk_verifies(jwk: &Value, message: &[u8], signature: &[u8]) -> bool {
    use aws_lc_rs::hmac;
    use aws_lc_rs::signature::{self as sig, RsaPublicKeyComponents, UnparsedPublicKey};

    let param = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    match jwk["alg"].as_str().unwrap() {
        alg @ ("HS256" | "HS384" | "HS512") => {
            let algorithm = match alg {
                "HS256" => hmac::HMAC_SHA256,
                "HS384" => hmac::HMAC_SHA384,
                _ => hmac::HMAC_SHA512,
            };
            hmac::verify(&hmac::Key::new(algorithm, &param("k")), message, signature).is_ok()
        }
        alg @ ("RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512") => {
            let parameters = match alg {
                "RS256" => &sig::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &sig::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &sig::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &sig::RSA_PSS_2048_8192_SHA256,
                "PS384" => &sig::RSA_PSS_2048_8192_SHA384,
                _ => &sig::RSA_PSS_2048_8192_SHA512,
            };
            let (n, e) = (param("n"), param("e"));
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(parameters, message, signature)
                .is_ok()
        }
        alg @ ("ES256" | "ES384") => {
            let algorithm = if alg == "ES256" {
                &sig::ECDSA_P256_SHA256_FIXED
            } else {
                &sig::ECDSA_P384_SHA384_FIXED
            };
            let point = [vec![0x04], param("x"), param("y")].concat();
            UnparsedPublicKey::new(algorithm, point)
                .verify(message, signature)
                .is_ok()
        }
        "EdDSA" => UnparsedPublicKey::new(&sig::ED25519, param("x"))
            .verify(message, signature)
            .is_ok(),
        other => panic!("unexpected alg {other}"),
    }
}

#[tokio::test]
async fn every_algorithm_signs_tokens_that_its_published_jwk_verifies() {
    let algs: Vec<Algorithm> = ALL_ALGORITHMS.iter().map(|(alg, _)| *alg).collect();
    let issuer = TestIssuer::with_algorithms(&algs).await;
    let jwks = get_json(&issuer.jwks_uri()).await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 12);
    // HMAC signatures are the digest length, RSA the modulus length, ECDSA
    // the fixed `r || s` form JWS requires (not DER).
    let signature_lens = [32, 48, 64, 256, 256, 256, 256, 256, 256, 64, 96, 64];
    let validator = issuer.validator("https://api");

    for (((alg, name), key), signature_len) in ALL_ALGORITHMS.iter().zip(keys).zip(signature_lens) {
        assert_eq!(alg.as_str(), *name);
        let kid = key["kid"].as_str().unwrap();
        assert!(kid.starts_with(&format!("{}-", name.to_ascii_lowercase())));
        assert_eq!(key["alg"], *name);
        assert_eq!(issuer.algorithm_of(kid), Some(*alg));
        assert_eq!(issuer.public_key_der(kid).is_none(), name.starts_with("HS"));

        let token = issuer
            .token()
            .kid(kid)
            .audience("https://api")
            .scopes(["read"])
            .sign();
        assert_eq!(parts(&token).0["alg"], *name);
        let (message, signature) = token.rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert_eq!(signature.len(), signature_len, "{name}");
        assert!(jwk_verifies(key, message.as_bytes(), &signature), "{name}");
        assert!(!jwk_verifies(key, b"tampered", &signature), "{name}");
        // jsonwebtoken agrees, through the published JWK too.
        let claims = verify(&issuer, &jwks, &token);
        assert_eq!(claims["aud"], "https://api");

        // The crate's validator accepts every asymmetric algorithm and no
        // HMAC one: the `oct` keys are published but must never be used.
        let validated = validator.validate(&token).await;
        if name.starts_with("HS") {
            assert!(validated.is_err(), "{name} accepted");
        } else {
            assert_eq!(validated.unwrap().scopes(), ["read"], "{name}");
        }
    }
}

/// Sends `request` as raw bytes on a new connection and returns what is
/// answered until the server closes (or resets) it, or the read times out.
async fn raw_exchange(issuer: &TestIssuer, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(issuer.addr()).await.unwrap();
    // The server may close before reading everything: not this test's concern.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn routes_methods_and_malformed_requests_answer_without_touching_counters() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    let client = client();

    // One trailing slash and a query string still name the documents.
    for url in [
        format!("{}/", issuer.jwks_uri()),
        format!("{}?x=1", issuer.jwks_uri()),
    ] {
        assert_eq!(get_json(&url).await, issuer.jwks_json());
    }
    assert_eq!(
        get_json(&format!("{}/", issuer.discovery_url())).await["issuer"],
        issuer.issuer()
    );
    assert_eq!(
        (issuer.jwks_requests(), issuer.discovery_requests()),
        (2, 1)
    );

    let base = format!("http://{}", issuer.addr());
    for path in [
        "/",
        "/oidc",
        "/oidc/",
        "/oidc/jwks//",
        "//oidc/jwks",
        "/oidc/%6Awks",
        "/jwks",
        "/oidc/.well-known/openid-configuration/x",
    ] {
        let (status, headers, body) = get(&format!("{base}{path}")).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.is_empty(), "{path}");
        assert!(headers.get("content-type").is_none(), "{path}");
    }

    // Any method but GET is 405, on known and unknown paths alike.
    for (method, url) in [
        (reqwest::Method::POST, issuer.jwks_uri()),
        (reqwest::Method::HEAD, issuer.jwks_uri()),
        (reqwest::Method::DELETE, issuer.discovery_url()),
        (reqwest::Method::PUT, format!("{base}/elsewhere")),
    ] {
        let response = client
            .request(method.clone(), &url)
            .body("ignored")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {url}");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        if method != reqwest::Method::HEAD {
            assert_eq!(response.text().await.unwrap(), "HTTP method not allowed");
        }
    }

    // Malformed and oversized requests get an error status, not a panic.
    let answer = raw_exchange(&issuer, b"NOT HTTP AT ALL\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // Under hyper's default limit (about 400 KiB), over this server's.
    let huge = format!(
        "GET /oidc/jwks HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(300 * 1024)
    );
    let answer = raw_exchange(&issuer, huge.as_bytes()).await;
    // Unread bytes make the close a reset, which may beat the answer.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    let answer = raw_exchange(
        &issuer,
        b"GET /oidc/jwks HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    assert_eq!(
        (issuer.jwks_requests(), issuer.discovery_requests()),
        (3, 1)
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    let mut idle = Vec::new();
    for _ in 0..server::MAX_CONNECTIONS {
        idle.push(tokio::net::TcpStream::connect(issuer.addr()).await.unwrap());
    }
    let url = issuer.jwks_uri();
    let waiting = tokio::spawn(async move { client().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished());
    assert_eq!(issuer.jwks_requests(), 0);

    drop(idle.pop());
    let response = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(issuer.jwks_requests(), 1);
}

#[tokio::test]
async fn stop_drops_requests_still_in_flight_after_its_grace_period() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::ES256]).await;
    issuer.set_fault(Fault::Delay(Duration::from_secs(30)));
    let url = issuer.jwks_uri();
    let slow = tokio::spawn(async move { client().get(url).send().await });
    while issuer.jwks_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    issuer.stop().await;
    let outcome = tokio::time::timeout(Duration::from_secs(5), slow)
        .await
        .expect("the slow request ends with the server, not after its delay")
        .unwrap();
    assert!(outcome.is_err(), "{outcome:?}");
}
