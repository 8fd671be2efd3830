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

const API: &str = "https://api.example.com";

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

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

async fn serve(validator: Validator) -> String {
    let app = Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin))
        .with_state(validator);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn claims_arrive_in_the_handlers_own_type_and_a_misfit_is_a_401() {
    let issuer = TestIssuer::start().await;
    let base = serve(issuer.validator(API)).await;
    let client = reqwest::Client::new();
    let get = |path: &str, token: Option<String>| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        request.send()
    };
    let staff = issuer
        .token()
        .for_global_api(API)
        .claim("email", "ada@example.com")
        .claim("roles", ["billing", "support"])
        .sign();
    let response = get("/me", Some(staff.clone())).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_of(response).await,
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
        let response = get("/me", Some(misfit)).await.unwrap();
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{challenge}"
        );
        let body = json_of(response).await;
        assert_eq!(body["code"], "unexpected_claims", "{body}");
        let text = body.to_string();
        assert!(
            !text.contains("missing field") && !text.contains("invalid type"),
            "{text}"
        );
    }
    let response = get("/me", None).await.unwrap();
    assert_eq!(response.status(), 401);

    // Beside `#[requires]`: the policy decides first (`auth` comes first), so
    // a token that lacks both the scope and `email` is a 403, not a 401.
    let neither = issuer.token().for_global_api(API).sign();
    let response = get("/admin", Some(neither)).await.unwrap();
    assert_eq!(response.status(), 403);
    let response = get("/admin", Some(staff)).await.unwrap();
    assert_eq!(response.status(), 403);
    let admin = issuer
        .token()
        .for_global_api(API)
        .subject("ada")
        .scopes(["reports:read"])
        .claim("email", "ada@example.com")
        .sign();
    let response = get("/admin", Some(admin)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_of(response).await,
        json!({ "sub": "ada", "email": "ada@example.com" })
    );
}
