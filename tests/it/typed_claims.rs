//! The axum `Claims<T>` extractor over real HTTP: the payload in the
//! handler's own type, alone or beside a `#[requires]` handler's `auth`, and
//! a payload that does not fit refused as 401 `unexpected_claims` without the
//! serde message.

use axum::routing::get;
use axum::{Json, Router};
use bearer_policy::axum::{Claims, Rejected};
use bearer_policy::testing::TestIssuer;
use bearer_policy::{AuthInfo, Validator, requires};
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

use crate::common::{API, App, Server, bearer};

#[derive(serde::Deserialize)]
struct Staff {
    email: String,
    #[serde(default)]
    roles: Vec<String>,
}

async fn me(Claims(staff): Claims<Staff>) -> Json<Value> {
    Json(json!({ "email": staff.email, "roles": staff.roles }))
}

#[requires(model = global_api, scopes("reports:read"))]
async fn admin(auth: AuthInfo, Claims(staff): Claims<Staff>) -> Result<Json<Value>, Rejected> {
    Ok(Json(json!({ "sub": auth.sub(), "email": staff.email })))
}

fn app(validator: Validator) -> App {
    App::Axum(
        Router::new()
            .route("/me", get(me))
            .route("/admin", get(admin))
            .with_state(validator),
    )
}

#[tokio::test]
async fn claims_arrive_in_the_handlers_own_type_and_a_misfit_is_a_401() {
    let issuer = TestIssuer::start().await;
    let server = Server::start(app(issuer.validator(API))).await;
    let get = |path: &str, token: Option<String>| {
        let mut request = server.get(path);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, bearer(&token));
        }
        server.send(request)
    };
    let staff = issuer
        .token()
        .for_global_api(API)
        .claim("email", "ada@example.com")
        .claim("roles", ["billing", "support"])
        .sign();
    let response = get("/me", Some(staff.clone())).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        json!({ "email": "ada@example.com", "roles": ["billing", "support"] })
    );

    // `roles` has a default; `email` is required, and a number is not a list.
    for misfit in [
        issuer.token().for_global_api(API).sign(),
        issuer
            .token()
            .for_global_api(API)
            .claim("email", "ada@example.com")
            .claim("roles", 7)
            .sign(),
    ] {
        let response = get("/me", Some(misfit)).await;
        assert_eq!(response.status, 401);
        let challenge = response.challenge();
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
        let body = response.json();
        assert_eq!(body["code"], "unexpected_claims", "{body}");
        let text = body.to_string();
        assert!(
            !text.contains("missing field") && !text.contains("invalid type"),
            "{text}"
        );
    }
    let response = get("/me", None).await;
    assert_eq!(response.status, 401);

    // Beside `#[requires]`: the policy decides first (`auth` comes first), so
    // a token that lacks both the scope and `email` is a 403, not a 401.
    let neither = issuer.token().for_global_api(API).sign();
    let response = get("/admin", Some(neither)).await;
    assert_eq!(response.status, 403);
    let response = get("/admin", Some(staff)).await;
    assert_eq!(response.status, 403);
    let admin = issuer
        .token()
        .for_global_api(API)
        .subject("ada")
        .scopes(["reports:read"])
        .claim("email", "ada@example.com")
        .sign();
    let response = get("/admin", Some(admin)).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        json!({ "sub": "ada", "email": "ada@example.com" })
    );
}

/// A custom claim the payload names twice (validly signed) is refused by both
/// readers alike: `claim()` gives `None`, `claims::<T>()` an error; neither
/// reads the last value.
#[tokio::test]
async fn a_duplicated_custom_claim_is_refused_by_claim_and_claims_alike() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // read by serde only
    struct Role {
        role: String,
    }
    let issuer = TestIssuer::start().await;
    let validator = issuer.validator(API);
    let mut payload = issuer.token().for_global_api(API).payload();
    payload["role"] = json!("reader");
    let payload = payload.to_string();
    // The same member again, last: a lenient reader would take "admin".
    let duplicated = format!("{},\"role\":\"admin\"}}", payload.trim_end_matches('}'));
    let header = json!({"alg": "RS256", "kid": issuer.current_kid(), "typ": "JWT"}).to_string();
    let token = issuer.sign_raw(
        &issuer.current_kid(),
        header.as_bytes(),
        duplicated.as_bytes(),
    );
    let auth = validator.validate(&token).await.unwrap();
    assert_eq!(auth.claim("role"), None);
    assert!(auth.claims::<Role>().is_err());
    assert!(auth.claim("sub").is_some(), "other claims still read");

    let once = issuer
        .token()
        .for_global_api(API)
        .claim("role", "reader")
        .sign();
    let auth = validator.validate(&once).await.unwrap();
    assert_eq!(auth.claim("role"), Some(json!("reader")));
    assert_eq!(auth.claims::<Role>().unwrap().role, "reader");
}
