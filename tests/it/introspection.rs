//! Opaque access tokens through token introspection (RFC 7662), over HTTP on
//! every front end, with the end-to-end suite's routes (`e2e::app`): the
//! same policies, statuses and bodies as JWTs; revocation once the cached
//! result is old enough; faults of the endpoint as 503 with `Retry-After`;
//! one call for concurrent requests with one token; no call for a JWT; the
//! bound on calls in flight.

use std::time::Duration;

use bearer_policy::testing::{Fault, TestIssuer};
use bearer_policy::{ClientAuth, ConfigError, Introspection, Issuer, Validator};
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use serde_json::json;

use crate::common::issuer::{RETRY_AFTER_FAILURE, TIMEOUT};
use crate::common::jws::with_payload;
use crate::common::table::{case, run};
use crate::common::{API, Expect, FrontEnd, Response, Server, bearer, fast, start_issuer};
use crate::e2e;

const ORG: &str = "acme";

/// A validator trusting `issuer` for [`API`], introspecting its opaque tokens.
fn introspecting(issuer: &TestIssuer, introspection: Introspection) -> Validator {
    fast(issuer).introspection(introspection).build().unwrap()
}

async fn serve(front_end: FrontEnd, validator: Validator) -> Server {
    Server::start(e2e::app(front_end, validator)).await
}

async fn get(server: &Server, path: &str, token: &str) -> Response {
    server
        .send(server.get(path).header(AUTHORIZATION, bearer(token)))
        .await
}

/// A 503 of introspection: no challenge, a `Retry-After` of whole seconds.
fn assert_unavailable(response: &Response, code: &'static str) {
    Expect::status(503)
        .no_challenge()
        .code(code)
        .check("", response);
    let retry_after: u64 = response.header(RETRY_AFTER).unwrap().parse().unwrap();
    assert!(retry_after >= 1, "{response:?}");
}

fn inactive() -> Expect {
    Expect::invalid_token(Some("token_inactive"))
}

#[tokio::test]
async fn opaque_tokens_pass_every_model_and_refusal_as_jwts_do() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let server = serve(front_end, introspecting(&issuer, issuer.introspection())).await;
        let with = |token: &str| {
            server
                .get("/api/protected")
                .header(AUTHORIZATION, bearer(token))
        };
        let global = |scopes: &[&str]| {
            issuer
                .token()
                .for_global_api(API)
                .scopes(scopes.iter().copied())
        };
        let invite = |org: &str, token: &str| {
            server
                .post(&format!("/orgs/{org}/members/invite"))
                .header(AUTHORIZATION, bearer(token))
                .header("content-type", "application/json")
                .body("{}")
        };
        let org_token = issuer
            .token()
            .for_organization(ORG)
            .scopes(["invite:member"])
            .opaque();
        let org_resource = issuer
            .token()
            .for_org_resource(API, ORG)
            .scopes(["api:read"])
            .opaque();
        run(
            &server,
            vec![
                case(
                    "global_api: 200 with the caller's auth info",
                    with(&global(&["api:read"]).opaque()),
                    Expect::ok().json(
                        "/auth",
                        json!({
                            "sub": "user-1",
                            "clientId": "test-client",
                            "organizationId": null,
                            "scopes": ["api:read"],
                            "audience": [API],
                        }),
                    ),
                ),
                case(
                    "the same claims as a JWT: the same answer",
                    with(&global(&["api:read"]).sign()),
                    Expect::ok().json("/auth/sub", json!("user-1")),
                ),
                case(
                    "a client-credentials token without sub",
                    with(&global(&["api:read"]).remove_claim("sub").opaque()),
                    Expect::ok().json("/auth/sub", json!(null)),
                ),
                case(
                    "a missing scope: 403 naming it",
                    with(&global(&["api:write"]).opaque()),
                    Expect::denied("insufficient_scope")
                        .challenge("Bearer error=\"insufficient_scope\", scope=\"api:read\""),
                ),
                case(
                    "wrong audience: 403",
                    with(
                        &issuer
                            .token()
                            .for_global_api("https://other.example.com")
                            .scopes(["api:read"])
                            .opaque(),
                    ),
                    Expect::denied("wrong_audience"),
                ),
                case(
                    "an organization token on a global route: 403",
                    with(
                        &issuer
                            .token()
                            .for_organization(ORG)
                            .scopes(["api:read"])
                            .opaque(),
                    ),
                    Expect::denied("wrong_audience"),
                ),
                case(
                    "org_permission: 200",
                    invite(ORG, &org_token),
                    Expect::ok().json("/org", json!(ORG)),
                ),
                case(
                    "org_permission, another organization: 403",
                    invite("globex", &org_token),
                    Expect::denied("organization_mismatch"),
                ),
                case(
                    "org_resource: 200",
                    server
                        .get(&format!("/orgs/{ORG}/data"))
                        .header(AUTHORIZATION, bearer(&org_resource)),
                    Expect::ok().json("/auth/organizationId", json!(ORG)),
                ),
                case(
                    "org_resource, another organization: 403",
                    server
                        .get("/orgs/globex/data")
                        .header(AUTHORIZATION, bearer(&org_resource)),
                    Expect::denied("organization_mismatch"),
                ),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn inactive_foreign_and_ill_typed_answers_are_401_invalid_token() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let server = serve(front_end, introspecting(&issuer, issuer.introspection())).await;
        let global = || issuer.token().for_global_api(API).scopes(["api:read"]);
        let cases = [
            (
                "unknown to the issuer",
                "never-issued-by-anyone".to_owned(),
                inactive(),
            ),
            (
                "expired",
                global().expires_at(1_000_000).opaque(),
                inactive(),
            ),
            (
                "a refresh token reported active",
                global().claim("token_type", "refresh_token").opaque(),
                Expect::invalid_token(Some("wrong_token_type")),
            ),
            (
                "scope as an array",
                global().claim("scope", json!(["api:read"])).opaque(),
                Expect::invalid_token(Some("invalid_claim")),
            ),
            (
                "exp as a string",
                global().claim("exp", "99999999999").opaque(),
                Expect::invalid_token(Some("invalid_claim")),
            ),
            (
                "iss of another issuer",
                global().issuer("https://evil.example.com").opaque(),
                Expect::invalid_token(Some("wrong_issuer")),
            ),
            (
                "not valid yet",
                global().not_before(4_000_000_000).opaque(),
                Expect::invalid_token(Some("token_not_yet_valid")),
            ),
        ];
        for (name, token, expect) in cases {
            let response = get(&server, "/api/protected", &token).await;
            expect.check(&format!("{front_end}: {name}"), &response);
            // Refusals are remembered briefly: a repeat costs no call.
            let calls = issuer.introspection_requests();
            let again = get(&server, "/api/protected", &token).await;
            expect.check(&format!("{front_end}: {name}, again"), &again);
            assert_eq!(
                issuer.introspection_requests(),
                calls,
                "{front_end}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn a_revoked_token_is_refused_once_its_cached_result_is_older_than_max_age() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let max_age = Duration::from_millis(1000);
        let validator = introspecting(&issuer, issuer.introspection().max_age(max_age));
        let server = serve(front_end, validator).await;
        let token = issuer
            .token()
            .for_global_api(API)
            .scopes(["api:read"])
            .opaque();
        Expect::ok().check("first", &get(&server, "/api/protected", &token).await);
        // RFC 7009 revocation, as the issuer's client.
        let revoked = reqwest::Client::new()
            .post(issuer.revocation_endpoint())
            .basic_auth(
                TestIssuer::INTROSPECTION_CLIENT_ID,
                Some(TestIssuer::INTROSPECTION_CLIENT_SECRET),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            // A base64url token needs no form encoding.
            .body(format!("token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        assert_eq!(issuer.revocation_requests(), 1);
        // The operator's revocation delay: still served from the cache.
        let response = get(&server, "/api/protected", &token).await;
        Expect::ok().check(&format!("{front_end}: within max_age"), &response);
        assert_eq!(issuer.introspection_requests(), 1, "{front_end}");
        tokio::time::sleep(max_age + Duration::from_millis(100)).await;
        let response = get(&server, "/api/protected", &token).await;
        inactive().check(&format!("{front_end}: after max_age"), &response);
        assert_eq!(issuer.introspection_requests(), 2, "{front_end}");
    }
}

#[tokio::test]
async fn the_issuer_down_is_503_with_retry_after_and_back_up_serves_again() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let max_age = Duration::from_millis(1000);
        let validator = introspecting(&issuer, issuer.introspection().max_age(max_age));
        let server = serve(front_end, validator).await;
        let global = || issuer.token().for_global_api(API).scopes(["api:read"]);
        let (cached, fresh) = (global().opaque(), global().opaque());
        Expect::ok().check("cached", &get(&server, "/api/protected", &cached).await);
        issuer.stop().await;
        let label = |what: &str| format!("{front_end}: {what}");
        // A cached active result keeps serving until its age runs out.
        Expect::ok().check(
            &label("cached, issuer down"),
            &get(&server, "/api/protected", &cached).await,
        );
        assert_unavailable(
            &get(&server, "/api/protected", &fresh).await,
            "introspection_unavailable",
        );
        tokio::time::sleep(max_age + Duration::from_millis(100)).await;
        assert_unavailable(
            &get(&server, "/api/protected", &cached).await,
            "introspection_unavailable",
        );
        issuer.restart().await;
        tokio::time::sleep(RETRY_AFTER_FAILURE + Duration::from_millis(100)).await;
        for token in [&fresh, &cached] {
            Expect::ok().check(
                &label("issuer back"),
                &get(&server, "/api/protected", token).await,
            );
        }
    }
}

#[tokio::test]
async fn faults_of_the_endpoint_are_503_never_401() {
    let faults = [
        ("500", Fault::Status(500)),
        ("502", Fault::Status(502)),
        (
            "an HTML page",
            Fault::Body {
                content_type: "text/html".into(),
                body: b"<html>maintenance</html>".to_vec(),
            },
        ),
        (
            "active as a string",
            Fault::Body {
                content_type: "application/json".into(),
                body: br#"{"active":"true","scope":"api:read"}"#.to_vec(),
            },
        ),
        (
            "no active member",
            Fault::Body {
                content_type: "application/json".into(),
                body: br#"{"scope":"api:read"}"#.to_vec(),
            },
        ),
        (
            "a timeout",
            Fault::Delay(TIMEOUT + Duration::from_millis(500)),
        ),
    ];
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let token = issuer
            .token()
            .for_global_api(API)
            .scopes(["api:read"])
            .opaque();
        for (name, fault) in &faults {
            issuer.set_introspection_fault(fault.clone());
            // A validator of its own: no back-off from the previous fault.
            let server = serve(front_end, introspecting(&issuer, issuer.introspection())).await;
            let response = get(&server, "/api/protected", &token).await;
            assert_eq!(response.status, 503, "{front_end}: {name}: {response:?}");
            assert_unavailable(&response, "introspection_unavailable");
        }
        issuer.set_introspection_fault(Fault::None);
        // This service's credentials refused: a configuration error, 503.
        let wrong_secret = Introspection::new(TestIssuer::INTROSPECTION_CLIENT_ID, "wrong");
        let server = serve(front_end, introspecting(&issuer, wrong_secret)).await;
        assert_unavailable(
            &get(&server, "/api/protected", &token).await,
            "introspection_unavailable",
        );
        // ... which a right one (sent as form fields this time) fixes.
        let post = issuer.introspection().client_auth(ClientAuth::SecretPost);
        let server = serve(front_end, introspecting(&issuer, post)).await;
        Expect::ok().check(
            &format!("{front_end}: client_secret_post"),
            &get(&server, "/api/protected", &token).await,
        );
    }
}

#[tokio::test]
async fn concurrent_requests_with_one_token_make_one_introspection_call() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let server = serve(front_end, introspecting(&issuer, issuer.introspection())).await;
        let token = issuer
            .token()
            .for_global_api(API)
            .scopes(["api:read"])
            .opaque();
        // A slow endpoint, so that every request arrives while the call is out.
        issuer.set_introspection_fault(Fault::Delay(Duration::from_millis(300)));
        let requests = (0..40).map(|_| get(&server, "/api/protected", &token));
        let responses = futures_util::future::join_all(requests).await;
        for response in &responses {
            Expect::ok().check(&format!("{front_end}"), response);
        }
        assert_eq!(issuer.introspection_requests(), 1, "{front_end}");
    }
}

#[tokio::test]
async fn a_jwt_is_never_sent_to_introspection_whatever_its_signature() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let server = serve(front_end, introspecting(&issuer, issuer.introspection())).await;
        let builder = issuer.token().for_global_api(API).scopes(["api:read"]);
        let mut payload = builder.payload();
        let genuine = builder.sign();
        payload["scope"] = json!("api:read admin");
        let tampered = with_payload(&genuine, &payload);
        let (signing_input, _) = genuine.rsplit_once('.').unwrap();
        let unsigned = format!("{signing_input}.");
        let alg_none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.";
        let get = |token: &str| {
            server
                .get("/api/protected")
                .header(AUTHORIZATION, bearer(token))
        };
        run(
            &server,
            vec![
                case("the genuine JWT", get(&genuine), Expect::ok()),
                case(
                    "a bad signature",
                    get(&tampered),
                    Expect::invalid_token(Some("invalid_signature")),
                ),
                case(
                    "an empty signature",
                    get(&unsigned),
                    Expect::invalid_token(None),
                ),
                case(
                    "alg none",
                    get(alg_none),
                    Expect::invalid_token(Some("algorithm_not_allowed")),
                ),
                case(
                    "two dots, nothing else",
                    get(".."),
                    Expect::invalid_token(None),
                ),
            ],
        )
        .await;
        assert_eq!(issuer.introspection_requests(), 0, "{front_end}");
    }
}

#[tokio::test]
async fn beyond_max_in_flight_a_request_gets_503_introspection_busy() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let one_at_a_time = issuer.introspection().max_in_flight(1);
        let server = serve(front_end, introspecting(&issuer, one_at_a_time)).await;
        let global = || issuer.token().for_global_api(API).scopes(["api:read"]);
        let (first, second) = (global().opaque(), global().opaque());
        issuer.set_introspection_fault(Fault::Delay(Duration::from_millis(600)));
        let slow = get(&server, "/api/protected", &first);
        let busy = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            get(&server, "/api/protected", &second).await
        };
        let (slow, busy) = tokio::join!(slow, busy);
        Expect::ok().check(&format!("{front_end}: the call in flight"), &slow);
        assert_unavailable(&busy, "introspection_busy");
        assert_eq!(issuer.introspection_requests(), 1, "{front_end}");
        // Once the call is back, the next token is introspected.
        issuer.set_introspection_fault(Fault::None);
        Expect::ok().check(
            &format!("{front_end}: after"),
            &get(&server, "/api/protected", &second).await,
        );
    }
}

#[tokio::test]
async fn without_introspection_an_opaque_token_is_401_without_any_request() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let server = serve(front_end, fast(&issuer).build().unwrap()).await;
        let token = issuer.token().for_global_api(API).opaque();
        let response = get(&server, "/api/protected", &token).await;
        Expect::invalid_token(Some("malformed_token")).check(&format!("{front_end}"), &response);
        assert_eq!(issuer.introspection_requests(), 0, "{front_end}");
        assert_eq!(issuer.discovery_requests(), 0, "{front_end}");
    }
}

#[tokio::test]
async fn introspected_claims_read_as_a_jwts_do() {
    #[derive(serde::Deserialize)]
    struct Extra {
        tenant_plan: String,
    }
    let issuer = start_issuer().await;
    let validator = introspecting(&issuer, issuer.introspection());
    let bound = issuer
        .token()
        .for_global_api(API)
        .claim("tenant_plan", "pro")
        .claim(
            "cnf",
            json!({ "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }),
        )
        .opaque();
    // `cnf` binds an introspected token as it binds a JWT: never a bearer token.
    assert_eq!(
        validator.validate(&bound).await.unwrap_err().code(),
        "dpop_bound_token"
    );
    let token = issuer
        .token()
        .for_global_api(API)
        .claim("tenant_plan", "pro")
        .opaque();
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.issuer(), issuer.issuer());
    assert_eq!(auth.key_id(), None);
    let extra: Extra = auth.claims().unwrap();
    assert_eq!(extra.tenant_plan, "pro");
    assert_eq!(auth.claim("tenant_plan"), Some(json!("pro")));
    // The token itself is in no message.
    let error = validator
        .validate("an-unknown-opaque-token")
        .await
        .unwrap_err();
    assert!(!format!("{error:?} {error}").contains("an-unknown-opaque-token"));
}

/// An opaque token bound to a DPoP key (`cnf.jkt` in the introspection
/// answer) works only under the `DPoP` scheme with a proof by that key, as a
/// bound JWT does, on every front end.
#[tokio::test]
async fn an_introspected_bound_token_needs_its_dpop_proof() {
    use bearer_policy::testing::DpopKey;
    const PUBLIC: &str = "https://api.example.com/v1";
    let url = format!("{PUBLIC}/api/protected");
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let validator = fast(&issuer)
            .introspection(issuer.introspection())
            .dpop_public_url(PUBLIC)
            .build()
            .unwrap();
        let server = serve(front_end, validator).await;
        let key = DpopKey::generate();
        let token = issuer
            .token()
            .for_global_api(API)
            .scopes(["api:read"])
            .bound_to(&key)
            .opaque();
        let dpop = format!("DPoP {token}");
        let proof = || key.proof("GET", &url).token(&token);
        let other = DpopKey::generate();
        run(
            &server,
            vec![
                case(
                    "with its proof",
                    server
                        .get("/api/protected")
                        .header(AUTHORIZATION, &dpop)
                        .header("DPoP", proof().sign()),
                    Expect::ok(),
                ),
                case(
                    "as a bearer token",
                    server
                        .get("/api/protected")
                        .header(AUTHORIZATION, bearer(&token)),
                    Expect::invalid_token(Some("dpop_bound_token")),
                ),
                case(
                    "without a proof",
                    server.get("/api/protected").header(AUTHORIZATION, &dpop),
                    Expect::status(401).code("dpop_proof_missing"),
                ),
                case(
                    "with another key's proof",
                    server
                        .get("/api/protected")
                        .header(AUTHORIZATION, &dpop)
                        .header("DPoP", other.proof("GET", &url).token(&token).sign()),
                    Expect::status(401).code("dpop_key_mismatch"),
                ),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn two_introspecting_issuers_need_a_rule_that_picks_one() {
    let (a, b) = (start_issuer().await, start_issuer().await);
    let two = || {
        fast(&a)
            .introspection(a.introspection())
            .add_issuer(Issuer::new(b.issuer()).introspection(b.introspection()))
    };
    assert!(matches!(
        two().build().unwrap_err(),
        ConfigError::InvalidIntrospection(_)
    ));
    let b_issuer = b.issuer();
    let validator = two()
        .opaque_token_issuer(move |token| token.starts_with('B').then(|| b_issuer.clone()))
        .build()
        .unwrap();
    // A token from b is sent to b alone; one the rule names no issuer for, nowhere.
    let token_b = loop {
        let token = b.token().for_global_api(API).opaque();
        if token.starts_with('B') {
            break token;
        }
    };
    assert_eq!(
        validator.validate(&token_b).await.unwrap().issuer(),
        b.issuer()
    );
    let error = validator.validate("A-token").await.unwrap_err();
    assert_eq!(error.code(), "wrong_issuer");
    assert_eq!(a.introspection_requests(), 0);
    assert_eq!(b.introspection_requests(), 1);
}
