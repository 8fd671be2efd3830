//! DPoP (RFC 9449) over HTTP on every front end: bound tokens obtained the
//! way a client gets them (a token request to the test issuer carrying a
//! proof), then every check of a proof violated alone, table-driven, on
//! warp, axum and tower; the modes, the challenges, server nonces, the
//! replay store's limits, and two servers sharing one real Redis.

mod apps;
pub mod redis;

use std::time::Duration;

use bearer_policy::testing::{DpopKey, TestIssuer, dpop_proof};
use bearer_policy::{Algorithm, DpopMode, Validator, ValidatorBuilder};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::json;

use crate::common::front_ends::client;
use crate::common::table::{Case, case, run};
use crate::common::{Expect, FrontEnd, Server, bearer, fast, start_issuer};

/// The service's public URL: the proxy in front strips `/v1`, and clients
/// sign their proofs for this URL, not for the loopback address the tests
/// connect to.
pub const PUBLIC: &str = "https://api.example.com/v1";

/// `algs` of the challenge with the default allow-list.
const ALGS: &str = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA";

/// The public URL of `path`.
fn public(path: &str) -> String {
    format!("{PUBLIC}{path}")
}

fn validator(builder: ValidatorBuilder) -> Validator {
    builder.dpop_public_url(PUBLIC).build().unwrap()
}

/// A token from the issuer's token endpoint for `scope`, bound to `key` by
/// the proof that went with the request (or a bearer token without a key).
pub async fn token_from_endpoint(
    issuer: &TestIssuer,
    key: Option<&DpopKey>,
    scope: &str,
) -> String {
    let endpoint = issuer.token_endpoint();
    let form = format!(
        "grant_type=client_credentials&scope={}&resource={}",
        scope.replace(' ', "+"),
        crate::common::API
    );
    let mut request = client()
        .post(&endpoint)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form);
    if let Some(key) = key {
        request = request.header("DPoP", key.proof("POST", &endpoint).sign());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    let expected_type = if key.is_some() { "DPoP" } else { "Bearer" };
    assert_eq!(body["token_type"], expected_type, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// `Authorization: DPoP <token>`.
pub fn dpop(token: &str) -> String {
    format!("DPoP {token}")
}

/// A DPoP request to `path` on `server` with `token` and one proof.
fn with_proof(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    proof: String,
) -> reqwest::RequestBuilder {
    let request = match method {
        "POST" => server.post(path),
        _ => server.get(path),
    };
    request
        .header(AUTHORIZATION, dpop(token))
        .header("DPoP", proof)
}

/// 401 `invalid_dpop_proof` with `code`, the Bearer challenge first.
fn bad_proof(code: &'static str) -> Expect {
    Expect::status(401)
        .code(code)
        .challenge_starting("Bearer, DPoP algs=\"")
}

/// The tokens and keys of the table.
struct Client {
    key: DpopKey,
    other_key: DpopKey,
    /// Bound to `key`, scope `orders:read payments:write`.
    bound: String,
    /// Another token bound to `key`.
    bound_again: String,
    /// Unbound, same scopes.
    unbound: String,
    /// Bound to `key`, without `orders:read`.
    bound_without_scope: String,
}

async fn client_of(issuer: &TestIssuer) -> Client {
    let key = DpopKey::generate();
    let scopes = "orders:read payments:write";
    Client {
        bound: token_from_endpoint(issuer, Some(&key), scopes).await,
        bound_again: token_from_endpoint(issuer, Some(&key), scopes).await,
        unbound: token_from_endpoint(issuer, None, scopes).await,
        bound_without_scope: token_from_endpoint(issuer, Some(&key), "payments:write").await,
        other_key: DpopKey::generate(),
        key,
    }
}

/// Every check of a proof violated alone, and the refusals of the modes'
/// rules, against one server in `allowed` mode.
fn every_check_violated_alone(server: &Server, c: &Client) -> Vec<Case> {
    let url = public("/orders");
    let proof = || c.key.proof("GET", &url).token(&c.bound);
    let get = |proof: String| with_proof(server, "GET", "/orders", &c.bound, proof);
    let now = crate::common::jws::now();
    let replayed = proof().sign();
    let mut private_jwk = c.key.jwk();
    private_jwk["d"] = json!("AAAA");
    let small_rsa = json!({"kty": "RSA", "n": "AQAB".repeat(42) + "AQ", "e": "AQAB"});
    let p521 = json!({"kty": "EC", "crv": "P-521", "x": "AAAA", "y": "AAAA"});
    let mut cases = vec![
        case("a valid proof", get(replayed.clone()), Expect::ok()),
        case(
            "the same proof again",
            get(replayed),
            bad_proof("dpop_proof_replayed"),
        ),
        case(
            "the cached token with a fresh proof",
            get(proof().sign()),
            Expect::ok(),
        ),
        case(
            "the cached token without a proof",
            server.get("/orders").header(AUTHORIZATION, dpop(&c.bound)),
            bad_proof("dpop_proof_missing"),
        ),
        case(
            "two DPoP headers",
            get(proof().sign()).header("DPoP", proof().sign()),
            bad_proof("dpop_multiple_proofs"),
        ),
        case(
            "not a JWT",
            get("not-a-jwt".into()),
            bad_proof("dpop_proof_malformed"),
        ),
        case(
            "a claim of the wrong type",
            get(proof().claim("iat", "now").sign()),
            bad_proof("dpop_proof_malformed"),
        ),
        case(
            "typ is JWT",
            get(proof().header("typ", "JWT").sign()),
            bad_proof("dpop_wrong_type"),
        ),
        case(
            "no typ",
            get(proof().remove_header("typ").sign()),
            bad_proof("dpop_wrong_type"),
        ),
        case(
            "alg none",
            get(proof().header("alg", "none").sign()),
            bad_proof("dpop_algorithm_not_allowed"),
        ),
        case(
            "alg HS256",
            get(proof().header("alg", "HS256").sign()),
            bad_proof("dpop_algorithm_not_allowed"),
        ),
        case(
            "no jwk",
            get(proof().remove_header("jwk").sign()),
            bad_proof("dpop_invalid_key"),
        ),
        case(
            "a private jwk",
            get(proof().header("jwk", &private_jwk).sign()),
            bad_proof("dpop_invalid_key"),
        ),
        case(
            "an RSA key under 2048 bits",
            get(proof()
                .header("alg", "RS256")
                .header("jwk", &small_rsa)
                .sign()),
            bad_proof("dpop_invalid_key"),
        ),
        case(
            "a curve that is not allowed",
            get(proof().header("jwk", &p521).sign()),
            bad_proof("dpop_invalid_key"),
        ),
        case(
            "signed by another key",
            get(proof().sign_with(&c.other_key)),
            bad_proof("dpop_invalid_signature"),
        ),
        case(
            "a crit header",
            get(proof().header("crit", ["exp"]).sign()),
            bad_proof("dpop_proof_malformed"),
        ),
    ];
    for claim in ["jti", "htm", "htu", "iat", "ath"] {
        cases.push(case(
            format!("no {claim}"),
            get(proof().remove_claim(claim).sign()),
            bad_proof("dpop_missing_claim"),
        ));
    }
    let loopback = server.url("/orders");
    cases.extend([
        case(
            "htm POST for a GET",
            get(proof().claim("htm", "POST").sign()),
            bad_proof("dpop_htm_mismatch"),
        ),
        case(
            "htm in lower case",
            get(proof().claim("htm", "get").sign()),
            bad_proof("dpop_htm_mismatch"),
        ),
        case(
            "htu of another host",
            get(proof()
                .claim("htu", "https://evil.example.com/v1/orders")
                .sign()),
            bad_proof("dpop_htu_mismatch"),
        ),
        case(
            "htu of another path",
            get(proof().claim("htu", public("/payments")).sign()),
            bad_proof("dpop_htu_mismatch"),
        ),
        case(
            "htu without the prefix the proxy strips",
            get(proof()
                .claim("htu", "https://api.example.com/orders")
                .sign()),
            bad_proof("dpop_htu_mismatch"),
        ),
        case(
            "htu of the Host header the request carried",
            get(proof().claim("htu", loopback).sign()),
            bad_proof("dpop_htu_mismatch"),
        ),
        case(
            "htu that names the request's URI after normalisation, with a query",
            get(proof()
                .claim("htu", "HTTPS://API.EXAMPLE.COM:443/v1/./orders?page=2")
                .sign()),
            Expect::ok(),
        ),
        case(
            "a proof 60 s old",
            get(proof().issued_at(now - 60).sign()),
            Expect::ok(),
        ),
        case(
            "a proof over 5 minutes old",
            get(proof().issued_at(now - 301).sign()),
            bad_proof("dpop_proof_too_old"),
        ),
        case(
            "a proof over 5 minutes ahead",
            get(proof().issued_at(now + 301).sign()),
            bad_proof("dpop_proof_in_future"),
        ),
        case(
            "a proof made for another token",
            get(proof().token(&c.bound_again).sign()),
            bad_proof("dpop_ath_mismatch"),
        ),
        case(
            "a proof by a key the token is not bound to",
            get(c.other_key.proof("GET", &url).token(&c.bound).sign()),
            bad_proof("dpop_key_mismatch"),
        ),
        case(
            "a bound token as Bearer",
            server
                .get("/orders")
                .header(AUTHORIZATION, bearer(&c.bound)),
            Expect::status(401)
                .code("dpop_bound_token")
                .challenge_starting("Bearer error=\"invalid_token\""),
        ),
        case(
            "an unbound token under DPoP, with a valid proof",
            with_proof(
                server,
                "GET",
                "/orders",
                &c.unbound,
                c.key.proof("GET", &url).token(&c.unbound).sign(),
            ),
            Expect::status(401)
                .code("dpop_unbound_token")
                .challenge_starting("Bearer, DPoP algs=\""),
        ),
        case(
            "an unbound token as Bearer",
            server
                .get("/orders")
                .header(AUTHORIZATION, bearer(&c.unbound)),
            Expect::ok(),
        ),
        case(
            "a bound token without the scope",
            with_proof(
                server,
                "GET",
                "/orders",
                &c.bound_without_scope,
                c.key
                    .proof("GET", &url)
                    .token(&c.bound_without_scope)
                    .sign(),
            ),
            Expect::status(403)
                .code("insufficient_scope")
                .challenge_starting("DPoP algs=\""),
        ),
        case(
            "no Authorization header",
            server.get("/orders"),
            Expect::status(401)
                .code("missing_authorization")
                .challenge(format!("Bearer, DPoP algs=\"{ALGS}\"")),
        ),
        case(
            "a route that requires DPoP, with a bearer token",
            server
                .post("/payments")
                .header(AUTHORIZATION, bearer(&c.unbound)),
            Expect::status(401)
                .code("dpop_required")
                .challenge_starting("Bearer error=\"invalid_token\""),
        ),
        case(
            "a `#[requires(.., dpop = required)]` route, with a bearer token",
            server
                .post("/transfers")
                .header(AUTHORIZATION, bearer(&c.unbound)),
            Expect::status(401)
                .code("dpop_required")
                .challenge_starting("Bearer error=\"invalid_token\""),
        ),
        case(
            "a `#[requires(.., dpop = required)]` route, with a proof",
            with_proof(
                server,
                "POST",
                "/transfers",
                &c.bound,
                dpop_proof(&c.key, "POST", &public("/transfers"), &c.bound, None),
            ),
            Expect::ok(),
        ),
        case(
            "a route that requires DPoP, with a proof",
            with_proof(
                server,
                "POST",
                "/payments",
                &c.bound,
                dpop_proof(&c.key, "POST", &public("/payments"), &c.bound, None),
            ),
            Expect::ok(),
        ),
    ]);
    cases
}

#[tokio::test]
async fn every_check_of_a_proof_violated_alone_is_refused_on_every_front_end() {
    let issuer = start_issuer().await;
    let c = client_of(&issuer).await;
    for front_end in FrontEnd::ALL {
        // One validator (and replay store) per server: each table starts afresh.
        let server = Server::start(apps::app(front_end, validator(fast(&issuer)))).await;
        let cases = every_check_violated_alone(&server, &c);
        run(&server, cases).await;
    }
}

#[tokio::test]
async fn required_mode_refuses_bearer_tokens_and_challenges_with_dpop_alone() {
    let issuer = start_issuer().await;
    let c = client_of(&issuer).await;
    for front_end in FrontEnd::ALL {
        let v = validator(fast(&issuer).dpop(DpopMode::Required));
        let server = Server::start(apps::app(front_end, v)).await;
        let url = public("/orders");
        let cases = vec![
            case(
                "an unbound bearer token",
                server
                    .get("/orders")
                    .header(AUTHORIZATION, bearer(&c.unbound)),
                Expect::status(401)
                    .code("dpop_required")
                    .challenge_starting("DPoP algs=\""),
            ),
            case(
                "no Authorization header",
                server.get("/orders"),
                Expect::status(401).challenge(format!("DPoP algs=\"{ALGS}\"")),
            ),
            case(
                "a bound token with a proof",
                with_proof(
                    &server,
                    "GET",
                    "/orders",
                    &c.bound,
                    dpop_proof(&c.key, "GET", &url, &c.bound, None),
                ),
                Expect::ok(),
            ),
            case(
                "a bad proof",
                with_proof(
                    &server,
                    "GET",
                    "/orders",
                    &c.bound,
                    c.key.proof("PUT", &url).token(&c.bound).sign(),
                ),
                Expect::status(401)
                    .code("dpop_htm_mismatch")
                    .challenge_starting(
                        "DPoP algs=\"RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA\", \
                         error=\"invalid_dpop_proof\"",
                    ),
            ),
        ];
        run(&server, cases).await;
    }
}

#[tokio::test]
async fn disabled_mode_refuses_the_dpop_scheme_and_bound_tokens() {
    let issuer = start_issuer().await;
    let c = client_of(&issuer).await;
    for front_end in FrontEnd::ALL {
        let v = validator(fast(&issuer).dpop(DpopMode::Disabled));
        let server = Server::start(apps::app(front_end, v)).await;
        let url = public("/orders");
        let cases = vec![
            case(
                "a bound token with a proof",
                with_proof(
                    &server,
                    "GET",
                    "/orders",
                    &c.bound,
                    dpop_proof(&c.key, "GET", &url, &c.bound, None),
                ),
                Expect::status(401)
                    .code("unsupported_scheme")
                    .challenge("Bearer"),
            ),
            case(
                "a bound token as Bearer",
                server
                    .get("/orders")
                    .header(AUTHORIZATION, bearer(&c.bound)),
                Expect::invalid_token(Some("dpop_bound_token")).challenge_starting("Bearer error="),
            ),
            case(
                "an unbound bearer token",
                server
                    .get("/orders")
                    .header(AUTHORIZATION, bearer(&c.unbound)),
                Expect::ok(),
            ),
        ];
        run(&server, cases).await;
    }
}

#[tokio::test]
async fn an_issuer_may_require_dpop_while_another_allows_bearer_tokens() {
    let strict = start_issuer().await;
    let lenient = start_issuer().await;
    let strict_client = client_of(&strict).await;
    let lenient_token = token_from_endpoint(&lenient, None, "orders:read").await;
    let builder = fast(&lenient).add_issuer(
        bearer_policy::Issuer::new(strict.issuer())
            .jwks_uri(strict.jwks_uri())
            .dpop(DpopMode::Required),
    );
    let server = Server::start(apps::app(FrontEnd::Axum, validator(builder))).await;
    let url = public("/orders");
    let cases = vec![
        case(
            "the lenient issuer's bearer token",
            server
                .get("/orders")
                .header(AUTHORIZATION, bearer(&lenient_token)),
            Expect::ok(),
        ),
        case(
            "the strict issuer's unbound bearer token",
            server
                .get("/orders")
                .header(AUTHORIZATION, bearer(&strict_client.unbound)),
            Expect::status(401).code("dpop_required"),
        ),
        case(
            "the strict issuer's bound token with a proof",
            with_proof(
                &server,
                "GET",
                "/orders",
                &strict_client.bound,
                dpop_proof(&strict_client.key, "GET", &url, &strict_client.bound, None),
            ),
            Expect::ok(),
        ),
    ];
    run(&server, cases).await;
}

#[tokio::test]
async fn server_nonces_are_asked_for_and_then_accepted_on_every_front_end() {
    let issuer = start_issuer().await;
    let c = client_of(&issuer).await;
    for front_end in FrontEnd::ALL {
        let v = validator(fast(&issuer).dpop_nonce([9u8; 32], Duration::from_secs(60)));
        let server = Server::start(apps::app(front_end, v)).await;
        let url = public("/orders");
        let first = server
            .send(with_proof(
                &server,
                "GET",
                "/orders",
                &c.bound,
                dpop_proof(&c.key, "GET", &url, &c.bound, None),
            ))
            .await;
        Expect::status(401)
            .code("use_dpop_nonce")
            .challenge_starting("Bearer, DPoP algs=\"")
            .check(&format!("{front_end}: no nonce"), &first);
        assert!(
            first.challenge().contains("error=\"use_dpop_nonce\""),
            "{first:?}"
        );
        let nonce = first
            .header("dpop-nonce".parse().unwrap())
            .expect("a DPoP-Nonce header")
            .to_owned();
        let cases = vec![
            case(
                "the nonce it gave",
                with_proof(
                    &server,
                    "GET",
                    "/orders",
                    &c.bound,
                    dpop_proof(&c.key, "GET", &url, &c.bound, Some(&nonce)),
                ),
                Expect::ok(),
            ),
            case(
                "a forged nonce",
                with_proof(
                    &server,
                    "GET",
                    "/orders",
                    &c.bound,
                    dpop_proof(
                        &c.key,
                        "GET",
                        &url,
                        &c.bound,
                        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                    ),
                ),
                Expect::status(401).code("use_dpop_nonce"),
            ),
        ];
        run(&server, cases).await;
    }
}

#[tokio::test]
async fn a_full_replay_store_refuses_new_proofs_with_503_rather_than_forget() {
    let issuer = start_issuer().await;
    let c = client_of(&issuer).await;
    for front_end in FrontEnd::ALL {
        let v = validator(fast(&issuer).dpop_replay_capacity(1));
        let server = Server::start(apps::app(front_end, v)).await;
        let url = public("/orders");
        let first = dpop_proof(&c.key, "GET", &url, &c.bound, None);
        let cases = vec![
            case(
                "the first proof",
                with_proof(&server, "GET", "/orders", &c.bound, first.clone()),
                Expect::ok(),
            ),
            case(
                "a second proof while the first is remembered",
                with_proof(
                    &server,
                    "GET",
                    "/orders",
                    &c.bound,
                    dpop_proof(&c.key, "GET", &url, &c.bound, None),
                ),
                Expect::status(503)
                    .code("dpop_replay_unavailable")
                    .no_challenge(),
            ),
            case(
                "the first proof again",
                with_proof(&server, "GET", "/orders", &c.bound, first),
                Expect::status(401).code("dpop_proof_replayed"),
            ),
        ];
        let mut cases = cases.into_iter();
        run(&server, cases.by_ref().take(1).collect()).await;
        let full = server
            .send(with_proof(
                &server,
                "GET",
                "/orders",
                &c.bound,
                dpop_proof(&c.key, "GET", &url, &c.bound, None),
            ))
            .await;
        assert_eq!(full.status, 503, "{front_end}: {full:?}");
        assert_eq!(full.header(RETRY_AFTER), Some("1"), "{front_end}");
        assert_eq!(full.header(WWW_AUTHENTICATE), None, "{front_end}");
        run(&server, cases.collect()).await;
    }
}

#[tokio::test]
async fn a_token_bound_to_a_key_is_refused_by_validate_and_proofs_of_every_algorithm_pass() {
    let issuer = start_issuer().await;
    let v = validator(fast(&issuer));
    for alg in [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::PS256,
    ] {
        let key = DpopKey::with_algorithm(alg);
        let token = issuer
            .token()
            .audience(crate::common::API)
            .bound_to(&key)
            .sign();
        let err = v.validate(&token).await.unwrap_err();
        assert_eq!(err.code(), "dpop_bound_token", "{alg:?}");
        let server = Server::start(apps::app(FrontEnd::Tower, v.clone())).await;
        let proof = dpop_proof(&key, "GET", &public("/orders"), &token, None);
        let response = server
            .send(with_proof(&server, "GET", "/orders", &token, proof))
            .await;
        // No scope: the proof passed, the policy refused.
        assert_eq!(
            response.code(),
            "insufficient_scope",
            "{alg:?}: {response:?}"
        );
    }
}

#[tokio::test]
async fn a_cnf_of_another_kind_binds_and_a_malformed_cnf_is_an_invalid_claim() {
    let issuer = start_issuer().await;
    let v = validator(fast(&issuer));
    let key = DpopKey::generate();
    let with_cnf = |cnf: serde_json::Value| {
        issuer
            .token()
            .audience(crate::common::API)
            .scopes(["orders:read"])
            .claim("cnf", cnf)
            .sign()
    };
    // Bound to an mTLS certificate: never a bearer token, and no DPoP key
    // matches it.
    let mtls = with_cnf(json!({ "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }));
    assert_eq!(
        v.validate(&mtls).await.unwrap_err().code(),
        "dpop_bound_token"
    );
    let server = Server::start(apps::app(FrontEnd::Tower, v.clone())).await;
    let proof = dpop_proof(&key, "GET", &public("/orders"), &mtls, None);
    let response = server
        .send(with_proof(&server, "GET", "/orders", &mtls, proof))
        .await;
    assert_eq!(response.code(), "dpop_key_mismatch", "{response:?}");
    for cnf in [json!("abc"), json!(null), json!({ "jkt": 7 })] {
        let token = with_cnf(cnf.clone());
        let err = v.validate(&token).await.unwrap_err();
        assert_eq!(err.code(), "invalid_claim", "{cnf}");
    }
}

#[tokio::test]
async fn the_token_endpoint_binds_the_token_to_the_proof_key_and_refuses_a_bad_proof() {
    let issuer = start_issuer().await;
    let key = DpopKey::generate();
    let token = token_from_endpoint(&issuer, Some(&key), "orders:read").await;
    let payload = crate::common::jws::decode_json(crate::common::jws::segments(&token).1);
    assert_eq!(payload["cnf"]["jkt"], key.thumbprint());
    let refused = client()
        .post(issuer.token_endpoint())
        .header(
            "DPoP",
            key.proof("POST", "https://elsewhere.example/token").sign(),
        )
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}
