//! Key sets an issuer should never publish, judged against RFC 7517, RFC 8725
//! and the classes of Wycheproof's JWK tests: the bad keys are skipped, a set
//! of nothing but bad keys never replaces working ones, the work one token
//! can cause stays bounded whatever the set holds, and a fetch never moves
//! from https to http.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use bearer_policy::testing::{Fault, TestIssuer};
use bearer_policy::{
    Algorithm, ConfigError, Error, MAX_JWKS_KEYS, MAX_KEYS_TRIED_WITHOUT_KID, TokenError, Validator,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::jws::b64url;
use crate::common::{API, fast, start_issuer};
use crate::key_rotation::assert_fault_fails_closed;

/// A 1024-bit odd modulus: parses, but aws-lc never verifies with it.
const N1024: &str = "5cfl_qmkwLu8hzt9D6ueM30czE43o7nH1d1yPS0S_18htjj30fiXSqgvu-QSI4c3rV_l47tVsHuo8Z5ovCbHoeumMKEyi_au64GA6uAjtnUBwgQfpYvf8qKaNBT-EbwPa_vNBpKmp5KLbKTwRaZIXkOrGVyC_qRbCQkQPaHGF_s";

/// A 2048-bit modulus with the ROCA structure `k·M + 65537^a mod M`.
const ROCA_N: &str = "iPXTHLtGSpSQf879zlSQr4ZsUCtLO0CIuBYEOpvnkYYuZsj7qlMmXK_3gKEyMbcLL6rgGs_-leQ0Ekk_yaDZMC9AerfOvjNfqkNu30tMiSdKTBlny2EZEIX6zy4gRskNzntMlQHVJ3MFaHJa9cdt39PeJ1paCtlh2bDgsKphfw8VgiMf0Ej9-IYYDDMQCednFPtpEXNqZBHcuij3_zqVSiaL1ic9dNunw3qRvpHOcDAt1grW7qwMM1HsNYp9u_weFMftxQLczPvJy4eVJT7D8zd9ZZdVG8hoZY2q3kk-TpvEqFpe8XZbYbXOM5qP-wCSCWYQw2Z2jn4w_I5mhtuAhw";

fn jwks_body(keys: &[Value]) -> Fault {
    Fault::Body {
        content_type: "application/jwk-set+json".into(),
        body: json!({ "keys": keys }).to_string().into_bytes(),
    }
}

/// The issuer's own key with `member` set: still its key, but unusable.
fn own_key_with(issuer: &TestIssuer, member: &str, value: Value) -> Value {
    let mut jwk = issuer.jwk(&issuer.current_kid()).unwrap();
    jwk[member] = value;
    jwk
}

#[tokio::test]
async fn an_issuer_rotating_to_keys_that_must_not_verify_keeps_the_working_keys() {
    let issuer = start_issuer().await;
    let rsa = |kid: &str, n: &str, e: &str| json!({"kty": "RSA", "kid": kid, "n": n, "e": e});
    let unusable: Vec<(&str, Vec<Value>)> = vec![
        ("one RSA-1024 key", vec![rsa("weak", N1024, "AQAB")]),
        ("RSA exponent 1", vec![rsa("e1", ROCA_N, "AQ")]),
        ("a ROCA modulus", vec![rsa("roca", ROCA_N, "AQAB")]),
        (
            "the issuer's private key",
            vec![own_key_with(
                &issuer,
                "d",
                json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"),
            )],
        ),
        (
            "key_ops without verify",
            vec![own_key_with(&issuer, "key_ops", json!(["encrypt"]))],
        ),
        (
            "a use other than sig",
            vec![own_key_with(&issuer, "use", json!("wrap"))],
        ),
    ];
    for (what, keys) in unusable {
        println!("{what}");
        assert_fault_fails_closed(&issuer, || fast(&issuer), jwks_body(&keys)).await;
    }
}

/// A P-256 key pair and its JWK, signing tokens by hand as a compromised
/// publisher of the set could.
struct HandKey {
    pair: EcdsaKeyPair,
    jwk: Value,
}

impl HandKey {
    fn new(kid: Option<String>) -> HandKey {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = pair.public_key().as_ref();
        let mut jwk = json!({"kty": "EC", "crv": "P-256",
            "x": b64url(&point[1..33]), "y": b64url(&point[33..])});
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        HandKey { pair, jwk }
    }

    fn sign(&self, issuer: &TestIssuer, kid: Option<&str>) -> String {
        let mut header = json!({"alg": "ES256"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let payload = issuer.token().for_global_api(API).payload();
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload.to_string().as_bytes())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64url(signature.as_ref()))
    }
}

#[tokio::test]
async fn an_issuer_publishing_thousands_of_keys_costs_each_token_a_bounded_number_of_checks() {
    let issuer = start_issuer().await;
    // 2,000 P-256 keys without kid, then 2,000 with one: about 700 KB, under the 1 MiB cap.
    let without_kid: Vec<HandKey> = (0..2000).map(|_| HandKey::new(None)).collect();
    let with_kid: Vec<HandKey> = (0..2000)
        .map(|i| HandKey::new(Some(format!("k{i}"))))
        .collect();
    let keys: Vec<Value> = without_kid
        .iter()
        .chain(&with_kid)
        .map(|k| k.jwk.clone())
        .collect();
    issuer.set_fault(jwks_body(&keys));
    let validator = fast(&issuer).build().unwrap();
    validator.ready().await.unwrap();
    let outcome = |token: String| {
        let validator = validator.clone();
        async move { validator.validate(&token).await.map(drop) }
    };

    // Without kid, the first keys of the set verify; a key further down never
    // gets a try, however many keys follow.
    for (i, key) in without_kid
        .iter()
        .enumerate()
        .take(MAX_KEYS_TRIED_WITHOUT_KID + 2)
    {
        let result = outcome(key.sign(&issuer, None)).await;
        if i < MAX_KEYS_TRIED_WITHOUT_KID {
            assert_eq!(result, Ok(()), "key {i}");
        } else {
            assert_eq!(
                result,
                Err(Error::InvalidToken(TokenError::InvalidSignature)),
                "key {i}"
            );
        }
    }
    // The set keeps its first MAX_JWKS_KEYS usable keys: all without kid here,
    // so a kid of the set is unknown (and asks the issuer once).
    assert!(MAX_JWKS_KEYS < without_kid.len());
    assert_eq!(
        outcome(with_kid[0].sign(&issuer, Some("k0"))).await,
        Err(Error::InvalidToken(TokenError::UnknownKey))
    );
    // Forged: signed by a key nobody published.
    let stranger = HandKey::new(None);
    assert_eq!(
        outcome(stranger.sign(&issuer, None)).await,
        Err(Error::InvalidToken(TokenError::InvalidSignature))
    );
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_is_republished_for_another_algorithm() {
    let issuer = TestIssuer::with_algorithms(&[Algorithm::RS256]).await;
    let validator = fast(&issuer).build().unwrap();
    let token = issuer.token().sign();
    validator.validate(&token).await.unwrap();
    validator.validate(&token).await.unwrap(); // a cache hit

    // The same key, now declared for PS256 only; an unknown kid makes the
    // validator fetch the narrowed set.
    let narrowed = own_key_with(&issuer, "alg", json!("PS256"));
    issuer.set_fault(jwks_body(&[narrowed]));
    let unknown = issuer.token().kid("not-published").sign();
    assert_eq!(
        validator.validate(&unknown).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
    assert_eq!(
        validator.validate(&token).await.unwrap_err(),
        Error::InvalidToken(TokenError::AlgorithmMismatch),
        "a fresh RS256 token would be refused, so the cached one must be too"
    );
}

/// An https server on loopback whose every answer is `answer(port)`, a
/// whole HTTP/1.1 response; and the root its clients must trust.
async fn https_answering(
    answer: impl Fn(u16) -> String + Send + Sync + 'static,
) -> (u16, reqwest::Certificate) {
    use tokio_rustls::rustls;
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let certificate = certified.cert.der().clone();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certificate.clone()], key.into())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = Arc::new(answer(port));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, answer) = (acceptor.clone(), Arc::clone(&answer));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut request = [0u8; 2048];
                let _ = tls.read(&mut request).await;
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, reqwest::Certificate::from_der(&certificate).unwrap())
}

/// An https issuer on loopback whose every answer redirects to `target`.
async fn https_redirecting_to(target: String) -> (u16, reqwest::Certificate) {
    https_answering(move |_| {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    })
    .await
}

/// A client that trusts `root` and follows redirects on its own terms.
fn own_client(root: reqwest::Certificate) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([root])
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_https_issuer_redirecting_to_http_is_refused_even_with_your_own_client() {
    // The redirect target serves a perfectly good key set, over plain http.
    let plain = start_issuer().await;
    let (port, root) = https_redirecting_to(plain.jwks_uri()).await;
    let client = own_client(root);
    let jwks_uri = format!("https://127.0.0.1:{port}/oidc/jwks");
    let validator = Validator::builder()
        .issuer(plain.issuer())
        .jwks_uri(jwks_uri.clone())
        .audience(API)
        .http_client(client)
        .build()
        .unwrap();
    assert_eq!(
        validator.ready().await.unwrap_err(),
        ConfigError::Fetch {
            url: jwks_uri,
            reason: "redirected from https to http".into()
        }
    );
    let error = validator.validate(&plain.token().sign()).await.unwrap_err();
    assert_eq!(error.code(), "keys_unavailable");
    assert_eq!(error.status(), 503);
}

#[tokio::test]
async fn an_https_url_written_in_capitals_is_still_https_and_never_downgraded() {
    let plain = start_issuer().await;
    let (port, root) = https_redirecting_to(plain.jwks_uri()).await;
    // URL schemes are case-insensitive: this is the same https URL.
    let jwks_uri = format!("HTTPS://127.0.0.1:{port}/oidc/jwks");
    let validator = Validator::builder()
        .issuer(plain.issuer())
        .jwks_uri(jwks_uri.clone())
        .audience(API)
        .http_client(own_client(root))
        .build()
        .unwrap();
    assert_eq!(
        validator.ready().await.unwrap_err(),
        ConfigError::Fetch {
            url: jwks_uri,
            reason: "redirected from https to http".into()
        }
    );
}

#[tokio::test]
async fn an_https_discovery_document_naming_an_http_jwks_uri_is_refused() {
    // The http JWKS serves a perfectly good key set.
    let plain = start_issuer().await;
    let http_jwks = plain.jwks_uri();
    let (port, root) = https_answering(move |port| {
        let document = json!({
            "issuer": format!("https://127.0.0.1:{port}/oidc"),
            "jwks_uri": http_jwks,
        })
        .to_string();
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{document}",
            document.len()
        )
    })
    .await;
    let issuer = format!("https://127.0.0.1:{port}/oidc");
    let validator = Validator::builder()
        .issuer(issuer.clone())
        .audience(API)
        .http_client(own_client(root))
        .build()
        .unwrap();
    assert_eq!(
        validator.ready().await.unwrap_err(),
        ConfigError::InvalidDocument {
            url: format!("{issuer}/.well-known/openid-configuration"),
            reason: "the https discovery document names an http `jwks_uri`: keys must come \
                     over https"
                .into()
        }
    );
    let token = plain.token().for_global_api(API).issuer(issuer).sign();
    let error = validator.validate(&token).await.unwrap_err();
    assert_eq!(error.code(), "keys_unavailable");
    assert_eq!(error.status(), 503);
    assert_eq!(plain.jwks_requests(), 0);
}

/// An RSA key pair and its JWK without `alg`, signing by hand under any RSA
/// algorithm: an issuer publishing one key for both PKCS#1 and PSS.
struct HandRsaKey {
    pair: aws_lc_rs::signature::RsaKeyPair,
    jwk: Value,
}

impl HandRsaKey {
    fn new() -> HandRsaKey {
        use aws_lc_rs::rsa::KeySize;
        let pair = aws_lc_rs::signature::RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = pair.public_key();
        let jwk = json!({"kty": "RSA",
            "n": b64url(public.modulus().big_endian_without_leading_zero()),
            "e": b64url(public.exponent().big_endian_without_leading_zero())});
        HandRsaKey { pair, jwk }
    }

    /// The JWK with `kid` (if any) and `alg`.
    fn published(&self, kid: Option<&str>, alg: &str) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["alg"] = json!(alg);
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        jwk
    }

    fn sign(&self, issuer: &TestIssuer, alg: Algorithm, kid: Option<&str>) -> String {
        use aws_lc_rs::signature as sig;
        let encoding: &'static dyn sig::RsaEncoding = match alg {
            Algorithm::RS256 => &sig::RSA_PKCS1_SHA256,
            Algorithm::RS384 => &sig::RSA_PKCS1_SHA384,
            Algorithm::PS256 => &sig::RSA_PSS_SHA256,
            other => panic!("{other:?}"),
        };
        let mut header = json!({"alg": alg.as_str()});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let payload = issuer.token().for_global_api(API).payload();
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload.to_string().as_bytes())
        );
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                encoding,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .unwrap();
        format!("{input}.{}", b64url(&signature))
    }
}

#[tokio::test]
async fn one_key_published_for_two_algorithms_verifies_under_both_and_no_third() {
    let issuer = start_issuer().await;
    let key = HandRsaKey::new();
    for kid in [Some("rsa"), None] {
        issuer.set_fault(jwks_body(&[
            key.published(kid, "RS256"),
            key.published(kid, "PS256"),
        ]));
        let validator = fast(&issuer)
            .algorithms([Algorithm::RS256, Algorithm::RS384, Algorithm::PS256])
            .build()
            .unwrap();
        for alg in [Algorithm::RS256, Algorithm::PS256] {
            assert_eq!(
                validator
                    .validate(&key.sign(&issuer, alg, kid))
                    .await
                    .map(drop),
                Ok(()),
                "{alg:?}, kid {kid:?}"
            );
        }
        // Allowed by the validator, but not published for this key.
        assert_eq!(
            validator
                .validate(&key.sign(&issuer, Algorithm::RS384, kid))
                .await
                .unwrap_err(),
            Error::InvalidToken(TokenError::AlgorithmMismatch),
            "kid {kid:?}"
        );
    }
}
