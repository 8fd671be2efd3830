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
