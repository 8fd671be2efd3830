//! Several trusted issuers, each a real `TestIssuer` on loopback: routing by
//! `iss` to that issuer's keys alone, refusal of unconfigured issuers without
//! any request, independent failure and rotation, per-issuer audiences.

use std::time::Duration;

use bearer_policy::testing::TestIssuer;
use bearer_policy::{
    ConfigError, Denied, Error, Issuer, Model, Policy, TokenError, Validator, ValidatorBuilder,
};

use crate::common::issuer::{fast_timings, issuer_requests};
use crate::common::{API, start_issuer};

/// A validator trusting `first`, then each of `more`, with short timeouts.
fn trusting(first: &TestIssuer, more: &[&TestIssuer]) -> ValidatorBuilder {
    more.iter().fold(
        fast_timings(Validator::builder().issuer(first.issuer()).audience(API))
            .unknown_kid_refetch_interval(Duration::ZERO),
        |builder, issuer| builder.add_issuer(Issuer::new(issuer.issuer())),
    )
}

fn token(issuer: &TestIssuer) -> String {
    issuer.token().for_global_api(API).sign()
}

#[tokio::test]
async fn each_issuers_tokens_are_accepted_and_say_which_issuer_signed_them() {
    let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
    let validator = trusting(&a, &[&b]).build().unwrap();
    assert_eq!(
        validator.issuers().collect::<Vec<_>>(),
        [a.issuer(), b.issuer()]
    );
    for issuer in [&a, &b] {
        let auth = validator.validate(&token(issuer)).await.unwrap();
        assert_eq!(auth.issuer(), issuer.issuer());
        Policy::new(Model::GlobalApi).decide(&auth, None).unwrap();
    }
}

#[tokio::test]
async fn a_token_from_an_issuer_not_configured_costs_no_request_at_all() {
    let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
    let stranger = TestIssuer::start().await;
    let validator = trusting(&a, &[&b]).build().unwrap();
    validator.ready().await.unwrap();
    a.reset_counters();
    b.reset_counters();
    // Signed by a key no trusted issuer has, so only `iss` can refuse it early.
    for _ in 0..5 {
        assert_eq!(
            validator.validate(&token(&stranger)).await.unwrap_err(),
            Error::InvalidToken(TokenError::WrongIssuer)
        );
    }
    assert_eq!(
        issuer_requests(&a) + issuer_requests(&b) + issuer_requests(&stranger),
        0
    );
    // Before `ready`, too: a cold validator asks nobody about a stranger's token.
    let cold = trusting(&a, &[&b]).build().unwrap();
    assert_eq!(
        cold.validate(&token(&stranger)).await.unwrap_err(),
        Error::InvalidToken(TokenError::WrongIssuer)
    );
    assert_eq!(
        issuer_requests(&a) + issuer_requests(&b) + issuer_requests(&stranger),
        0
    );
}

#[tokio::test]
async fn a_token_is_verified_with_its_own_issuers_keys_only() {
    let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
    let validator = trusting(&a, &[&b]).build().unwrap();
    validator.ready().await.unwrap();
    // B signs a token claiming to come from A, under a kid only B publishes.
    let kid = b.rotate();
    assert!(!a.kids().contains(&kid));
    let forged = b.token().for_global_api(API).issuer(a.issuer()).sign();
    assert_eq!(
        validator.validate(&forged).await.unwrap_err(),
        Error::InvalidToken(TokenError::UnknownKey)
    );
    // ...and under A's kid: A's key does not verify B's signature.
    let forged = b
        .token()
        .for_global_api(API)
        .issuer(a.issuer())
        .kid(a.current_kid())
        .sign();
    assert_eq!(
        validator.validate(&forged).await.unwrap_err(),
        Error::InvalidToken(TokenError::InvalidSignature)
    );
}

#[tokio::test]
async fn an_issuer_that_is_down_affects_only_its_own_tokens() {
    let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
    let (token_a, token_b) = (token(&a), token(&b));
    b.stop().await;
    let validator = trusting(&a, &[&b]).build().unwrap();

    let outcomes = validator.ready_each().await;
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0], (a.issuer(), Ok(())));
    assert_eq!(outcomes[1].0, b.issuer());
    assert!(matches!(outcomes[1].1, Err(ConfigError::Fetch { .. })));
    assert!(
        validator.ready().await.is_err(),
        "not every issuer is ready"
    );

    assert_eq!(
        validator.validate(&token_a).await.unwrap().issuer(),
        a.issuer()
    );
    let error = validator.validate(&token_b).await.unwrap_err();
    assert_eq!(error.status(), 503, "{error:?}");
    assert!(matches!(error, Error::KeysUnavailable { .. }));

    // B comes back: after its own back-off, its tokens pass; A never noticed.
    b.restart().await;
    let mut outcome = validator.validate(&token_b).await;
    for _ in 0..20 {
        if outcome.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        outcome = validator.validate(&token_b).await;
    }
    assert_eq!(outcome.unwrap().issuer(), b.issuer());
    validator.ready().await.unwrap();
}

#[tokio::test]
async fn one_issuer_rotating_fetches_only_its_own_keys() {
    let a = TestIssuer::start().await;
    let b = start_issuer().await;
    let validator = trusting(&a, &[&b]).build().unwrap();
    validator.ready().await.unwrap();
    a.reset_counters();
    b.reset_counters();
    b.rotate();
    assert_eq!(
        validator.validate(&token(&b)).await.unwrap().issuer(),
        b.issuer()
    );
    assert_eq!(b.jwks_requests(), 1, "B refetched its key set once");
    assert_eq!(issuer_requests(&a), 0, "A was not asked");
    validator.validate(&token(&a)).await.unwrap();
    assert_eq!(issuer_requests(&a), 0, "A's keys were still current");
}

#[tokio::test]
async fn an_issuer_may_name_its_own_audience() {
    let (a, b) = (TestIssuer::start().await, TestIssuer::start().await);
    let partner = "https://partner-api.example.com";
    let validator = Validator::builder()
        .issuer(a.issuer())
        .audience(API)
        .add_issuer(Issuer::new(b.issuer()).audience(partner))
        .build()
        .unwrap();
    let policy = Policy::new(Model::GlobalApi);
    let b_for_default = b.token().for_global_api(API).sign();
    let auth = validator.validate(&b_for_default).await.unwrap();
    assert_eq!(policy.decide(&auth, None), Err(Denied::WrongAudience));
    let b_for_partner = b.token().for_global_api(partner).sign();
    let auth = validator.validate(&b_for_partner).await.unwrap();
    policy.decide(&auth, None).unwrap();
    // A's tokens keep the default audience.
    let auth = validator.validate(&token(&a)).await.unwrap();
    policy.decide(&auth, None).unwrap();
    let a_for_partner = a.token().for_global_api(partner).sign();
    let auth = validator.validate(&a_for_partner).await.unwrap();
    assert_eq!(policy.decide(&auth, None), Err(Denied::WrongAudience));
}

#[test]
fn the_issuer_list_is_checked_when_the_validator_is_built() {
    let duplicate = Validator::builder()
        .issuer("https://a.example/oidc")
        .add_issuer(Issuer::new("https://a.example/oidc"))
        .build();
    assert_eq!(
        duplicate.err(),
        Some(ConfigError::DuplicateIssuer(
            "https://a.example/oidc".into()
        ))
    );
    assert!(matches!(
        Validator::builder()
            .issuer("https://a.example/oidc")
            .add_issuer(Issuer::new("not a url"))
            .build(),
        Err(ConfigError::InvalidUrl { what: "issuer", .. })
    ));
    assert!(matches!(
        Validator::builder()
            .add_issuer(Issuer::new("https://a.example").jwks_uri("ftp://a.example/keys"))
            .build(),
        Err(ConfigError::InvalidUrl { what: "JWKS", .. })
    ));
    // Issuers added alone are enough; a JWKS URI for no issuer is not.
    let only_added = Validator::builder()
        .add_issuer(Issuer::new("https://a.example/oidc"))
        .add_issuer(Issuer::new("https://b.example/oidc"))
        .build()
        .unwrap();
    assert_eq!(only_added.issuer(), "https://a.example/oidc");
    assert_eq!(only_added.issuers().count(), 2);
    assert_eq!(
        Validator::builder()
            .jwks_uri("https://a.example/keys")
            .add_issuer(Issuer::new("https://b.example/oidc"))
            .build()
            .err(),
        Some(ConfigError::MissingIssuer)
    );
}

#[tokio::test]
async fn many_issuers_route_through_the_lookup_table() {
    // More issuers than are compared one by one: routing uses a map.
    let issuers = es256_issuers(12).await;
    let validator = issuers
        .iter()
        .skip(1)
        .fold(
            Validator::builder().issuer(issuers[0].issuer()),
            |builder, issuer| builder.add_issuer(Issuer::new(issuer.issuer())),
        )
        .audience(API)
        .build()
        .unwrap();
    for issuer in [&issuers[0], &issuers[7], &issuers[11]] {
        let auth = validator.validate(&token(issuer)).await.unwrap();
        assert_eq!(auth.issuer(), issuer.issuer());
    }
    let stranger = TestIssuer::start().await;
    assert_eq!(
        validator.validate(&token(&stranger)).await.unwrap_err(),
        Error::InvalidToken(TokenError::WrongIssuer)
    );
}

/// `n` issuers with ES256 keys (quick to generate).
async fn es256_issuers(n: usize) -> Vec<TestIssuer> {
    let mut issuers = Vec::with_capacity(n);
    for _ in 0..n {
        issuers.push(start_issuer().await);
    }
    issuers
}

#[tokio::test]
async fn oauth_endpoints_come_from_discovery_once_it_has_run() {
    let issuer = TestIssuer::start().await;
    let other = TestIssuer::start().await;
    let validator = trusting(&issuer, &[&other]).build().unwrap();
    let before = validator.oauth_endpoints();
    assert_eq!(before.len(), 2, "one entry per issuer, in order");
    assert_eq!(before[0].issuer, issuer.issuer());
    assert_eq!(before[1].issuer, other.issuer());
    assert_eq!(before[0].token_endpoint, None, "no discovery has run yet");
    validator.ready().await.unwrap();
    let after = &validator.oauth_endpoints()[0];
    assert_eq!(
        validator.oauth_endpoints()[1].token_endpoint.as_deref(),
        Some(format!("{}/token", other.issuer()).as_str())
    );
    assert_eq!(
        after.authorization_endpoint.as_deref(),
        Some(format!("{}/auth", issuer.issuer()).as_str())
    );
    assert_eq!(
        after.token_endpoint.as_deref(),
        Some(format!("{}/token", issuer.issuer()).as_str())
    );
    // With a JWKS URI there is no discovery, so no endpoints are known.
    let direct = Validator::builder()
        .issuer(issuer.issuer())
        .jwks_uri(issuer.jwks_uri())
        .build()
        .unwrap();
    direct.ready().await.unwrap();
    assert_eq!(direct.oauth_endpoints()[0].token_endpoint, None);
}

const TENANT_A: &str = "https://tenant-a.example";
const TENANT_B: &str = "https://tenant-b.example";

/// Tenant A's orders: only tokens of tenant A, whatever their audience says.
#[bearer_policy::requires(model = global_api, scopes("orders:read"), issuers("https://tenant-a.example"))]
fn tenant_a_orders(auth: bearer_policy::AuthInfo) -> Result<String, Denied> {
    Ok(auth.issuer().to_owned())
}

#[bearer_policy::requires(model = global_api, scopes("orders:read"), issuers("https://tenant-a.example"))]
async fn tenant_a_orders_axum(
    auth: bearer_policy::AuthInfo,
) -> Result<String, bearer_policy::axum::Rejected> {
    Ok(auth.issuer().to_owned())
}

#[bearer_policy::requires(model = global_api, scopes("orders:read"), issuers("https://tenant-a.example"))]
async fn tenant_a_orders_actix(
    auth: bearer_policy::AuthInfo,
) -> Result<String, bearer_policy::actix::Rejected> {
    Ok(auth.issuer().to_owned())
}

/// A policy naming its issuers refuses another trusted issuer's token with
/// 403 `issuer_not_allowed` on every front end (the macro's `issuers(...)`
/// on warp and axum, `Policy::issuers` behind the tower layer), even with the
/// right audience and scope; a stranger is still 401 `wrong_issuer`.
#[tokio::test]
async fn a_policy_naming_its_issuers_refuses_the_other_trusted_issuers_on_every_front_end() {
    use axum::routing::get;
    use bearer_policy::StaticKeys;
    use tower::Layer as _;

    use crate::common::front_ends::{App, FrontEnd, Server};
    use crate::common::http::{Expect, bearer};

    let (signer_a, signer_b, stranger) = (
        TestIssuer::start().await,
        TestIssuer::start().await,
        TestIssuer::start().await,
    );
    let validator = Validator::builder()
        .issuer(TENANT_A)
        .keys(StaticKeys::jwks(signer_a.jwks_json().to_string()))
        .add_issuer(Issuer::new(TENANT_B).keys(StaticKeys::jwks(signer_b.jwks_json().to_string())))
        .audience(API)
        .build()
        .unwrap();
    let token = |signer: &TestIssuer, iss: &str| {
        signer
            .token()
            .issuer(iss)
            .for_global_api(API)
            .scopes(["orders:read"])
            .sign()
    };
    let (of_a, of_b, of_stranger) = (
        token(&signer_a, TENANT_A),
        token(&signer_b, TENANT_B),
        token(&stranger, "https://stranger.example"),
    );
    for front_end in FrontEnd::ALL {
        let app = match front_end {
            FrontEnd::Warp => {
                use warp::Filter as _;
                App::warp(
                    warp::path!("orders")
                        .and(bearer_policy::warp::authorize(
                            validator.clone(),
                            &tenant_a_orders::POLICY,
                        ))
                        .and_then(|auth: tenant_a_orders::Authorized| async move {
                            tenant_a_orders(auth).map_err(warp::Rejection::from)
                        })
                        .recover(bearer_policy::warp::recover),
                )
            }
            FrontEnd::Axum => App::Axum(
                axum::Router::new()
                    .route("/orders", get(tenant_a_orders_axum))
                    .with_state(validator.clone()),
            ),
            FrontEnd::Tower => {
                let layer = bearer_policy::tower::BearerLayer::new(validator.clone()).require(
                    Policy::new(Model::GlobalApi)
                        .scopes(["orders:read"])
                        .issuers([TENANT_A]),
                );
                let ok = tower::service_fn(|_: http::Request<hyper::body::Incoming>| async {
                    Ok::<_, std::convert::Infallible>(http::Response::new(
                        http_body_util::Full::new(bytes::Bytes::from_static(TENANT_A.as_bytes())),
                    ))
                });
                App::Tower(tower::util::BoxCloneSyncService::new(layer.layer(ok)))
            }
            FrontEnd::Actix => {
                let validator = validator.clone();
                App::actix(move |config| {
                    config
                        .app_data(validator.clone())
                        .route("/orders", actix_web::web::get().to(tenant_a_orders_actix));
                })
            }
        };
        let server = Server::start(app).await;
        let get = |token: &str| server.get("/orders").header("authorization", bearer(token));
        let allowed = server.send(get(&of_a)).await;
        Expect::ok().check(&format!("{front_end}: tenant A"), &allowed);
        assert_eq!(allowed.text(), TENANT_A, "{front_end}");
        Expect::denied("issuer_not_allowed").check(
            &format!("{front_end}: tenant B"),
            &server.send(get(&of_b)).await,
        );
        Expect::invalid_token(Some("wrong_issuer")).check(
            &format!("{front_end}: a stranger"),
            &server.send(get(&of_stranger)).await,
        );
    }
}
