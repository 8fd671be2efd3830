//! End-to-end tests over real HTTP: a warp server on 127.0.0.1 protected with
//! `#[requires]` handlers and the macro-free filters, tokens from a
//! `TestIssuer`, requests from `reqwest`.

use std::net::SocketAddr;

use crate::common::with_payload;
use std::time::Duration;

use bearer_policy::testing::TestIssuer;
use bearer_policy::warp::{
    authorize, authorize_path, protected_resource_metadata, recover, require,
};
use bearer_policy::{
    Algorithm, AuthInfo, Model, OrgSource, Policy, Validator, ValidatorBuilder, requires,
};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use warp::{Filter, Rejection, Reply};

const AUDIENCE: &str = "https://api.example.com";
const ORG: &str = "acme";
const OTHER_ORG: &str = "globex";
const METADATA_URL: &str = "https://api.example.com/.well-known/oauth-protected-resource";

// ===== handlers =====

/// `GET /api/protected`: a global API permission.
#[requires(model = global_api, scopes("api:read"))]
async fn read_api(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// `POST /api/products`: echoes the JSON body it was sent.
#[requires(model = global_api, scopes("api:write"))]
async fn create_product(auth: AuthInfo, product: Value) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(
        &json!({ "auth": auth, "product": product }),
    ))
}

/// `POST /orgs/{org_id}/members/invite`: an organization permission.
#[requires(model = org_permission, scopes("invite:member"), org_from = path)]
async fn invite_member(
    org_id: String,
    auth: AuthInfo,
    _invitation: Value,
) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth, "org": org_id })))
}

/// `GET /orgs/{org_id}/data`: an API resource within an organization.
#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth, "org": org_id })))
}

/// `GET /billing`: an organization permission, organization from a header.
#[requires(model = org_permission, scopes("manage:billing"), org_from = header("X-Organization-Id"))]
async fn billing(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// `GET /reports`: an API resource within an organization, organization from
/// the query string.
#[requires(model = org_resource, scopes("reports:read"), org_from = query("organization_id"))]
async fn reports(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(warp::reply::json(&json!({ "auth": auth })))
}

/// The policy of `GET /audit`, written without the macro, organization from
/// a header that no `#[requires]` declaration names.
fn audit_policy() -> Policy {
    Policy::new(Model::OrgPermission)
        .scopes(["audit:read"])
        .organization(OrgSource::Header("X-Tenant-Id".into()))
}

fn routes(v: Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    // Path first, then method: an unknown path is 404 rather than 405.
    let protected = warp::path!("api" / "protected")
        .and(warp::get())
        .and(authorize(v.clone(), &read_api::POLICY))
        .and_then(read_api);
    // Authorize before the body is read.
    let products = warp::path!("api" / "products")
        .and(warp::post())
        .and(authorize(v.clone(), &create_product::POLICY))
        .and(warp::body::json())
        .and_then(create_product);
    let invite = authorize_path(
        warp::path!("orgs" / String / "members" / "invite").and(warp::post()),
        v.clone(),
        &invite_member::POLICY,
    )
    .and(warp::body::json())
    .and_then(invite_member);
    let data = authorize_path(
        warp::path!("orgs" / String / "data").and(warp::get()),
        v.clone(),
        &org_data::POLICY,
    )
    .and_then(org_data);
    let billing_route = warp::path!("billing")
        .and(warp::get())
        .and(authorize(v.clone(), &billing::POLICY))
        .and_then(billing);
    let reports_route = warp::path!("reports")
        .and(warp::get())
        .and(authorize(v.clone(), &reports::POLICY))
        .and_then(reports);
    let audit = warp::path!("audit")
        .and(warp::get())
        .and(require(v.clone(), audit_policy()))
        .map(|auth: AuthInfo| warp::reply::json(&json!({ "auth": auth })));
    protected
        .or(products)
        .or(invite)
        .or(data)
        .or(billing_route)
        .or(reports_route)
        .or(audit)
        .or(protected_resource_metadata(&v))
        .recover(recover)
}

// ===== fixtures =====

/// A running API server; shuts down gracefully when dropped.
struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Server {
    async fn start(validator: Validator) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, signal) = oneshot::channel::<()>();
        let server = warp::serve(routes(validator))
            .incoming(listener)
            .graceful(async move {
                let _ = signal.await;
            });
        tokio::spawn(server.run());
        Server {
            addr,
            shutdown: Some(shutdown),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        client().get(self.url(path))
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        client().post(self.url(path))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Fast timings so that fetch failures and refetches do not slow the suite.
fn fast(builder: ValidatorBuilder) -> ValidatorBuilder {
    builder
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(2))
        .unknown_kid_refetch_interval(Duration::from_millis(100))
        .retry_after_failure(Duration::from_millis(200))
}

/// A `TestIssuer` with one ES256 key (much faster to generate than RSA in
/// unoptimised builds).
async fn start_issuer() -> TestIssuer {
    TestIssuer::with_algorithms(&[Algorithm::ES256]).await
}

/// A `TestIssuer` and a server trusting it with the fast timings.
async fn setup() -> (TestIssuer, Server) {
    let issuer = start_issuer().await;
    let validator = fast(issuer.validator_builder(AUDIENCE)).build().unwrap();
    let server = Server::start(validator).await;
    (issuer, server)
}

/// A response, read whole.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: reqwest::header::HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn challenge(&self) -> &str {
        self.header(WWW_AUTHENTICATE)
            .unwrap_or_else(|| panic!("no WWW-Authenticate header: {self:?}"))
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap().to_owned()
    }

    fn error_message(&self) -> String {
        self.json()["error"].as_str().unwrap().to_owned()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Response {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    Response {
        status,
        headers,
        body,
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn get_with_token(server: &Server, path: &str, token: &str) -> Response {
    send(server.get(path).header(AUTHORIZATION, bearer(token))).await
}

fn global_token(issuer: &TestIssuer, scopes: &[&str]) -> String {
    issuer
        .token()
        .for_global_api(AUDIENCE)
        .scopes(scopes.iter().copied())
        .sign()
}

fn assert_denied(response: &Response, code: &str) {
    assert_eq!(response.status, 403, "{response:?}");
    assert_eq!(response.code(), code, "{response:?}");
    assert!(
        response
            .challenge()
            .starts_with("Bearer error=\"insufficient_scope\""),
        "{response:?}"
    );
}

fn assert_invalid_request(response: &Response, code: &str) {
    assert_eq!(response.status, 400, "{response:?}");
    assert!(
        response
            .challenge()
            .starts_with("Bearer error=\"invalid_request\""),
        "{response:?}"
    );
    assert_eq!(response.code(), code, "{response:?}");
}

fn assert_invalid_token(response: &Response, code: &str) {
    assert_eq!(response.status, 401, "{response:?}");
    assert!(
        response
            .challenge()
            .starts_with("Bearer error=\"invalid_token\""),
        "{response:?}"
    );
    assert!(
        response.error_message().starts_with("Invalid token"),
        "{response:?}"
    );
    assert_eq!(response.code(), code, "{response:?}");
}

// ===== global_api =====

#[tokio::test]
async fn global_api_valid_token_is_200_with_the_callers_auth_info() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_global_api(AUDIENCE)
        .subject("user-42")
        .scopes(["api:read", "api:write"])
        .sign();
    let response = get_with_token(&server, "/api/protected", &token).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.json(),
        json!({ "auth": {
            "sub": "user-42",
            "clientId": "test-client",
            "organizationId": null,
            "scopes": ["api:read", "api:write"],
            "audience": [AUDIENCE],
        }})
    );
}

#[tokio::test]
async fn missing_authorization_header_is_401_with_a_bare_bearer_challenge() {
    let (_issuer, server) = setup().await;
    let response = send(server.get("/api/protected")).await;
    assert_eq!(response.status, 401);
    assert_eq!(response.challenge(), "Bearer");
    assert_eq!(
        response.json(),
        json!({ "error": "Authorization header is missing", "code": "missing_authorization" })
    );
}

#[tokio::test]
async fn another_authorization_scheme_is_401_with_a_bare_bearer_challenge() {
    let (_issuer, server) = setup().await;
    let response = send(
        server
            .get("/api/protected")
            .header(AUTHORIZATION, "Basic dXNlcjpwYXNz"),
    )
    .await;
    assert_eq!(response.status, 401);
    assert_eq!(response.challenge(), "Bearer");
    assert_eq!(response.code(), "unsupported_scheme");
}

#[tokio::test]
async fn bearer_with_an_empty_token_is_400_invalid_request() {
    let (_issuer, server) = setup().await;
    for value in ["Bearer", "Bearer    "] {
        let response = send(server.get("/api/protected").header(AUTHORIZATION, value)).await;
        assert_invalid_request(&response, "empty_token");
    }
}

#[tokio::test]
async fn bearer_with_a_space_inside_the_token_is_400_invalid_request() {
    let (_issuer, server) = setup().await;
    let response = send(
        server
            .get("/api/protected")
            .header(AUTHORIZATION, "Bearer a b"),
    )
    .await;
    assert_invalid_request(&response, "invalid_token_characters");
}

#[tokio::test]
async fn two_authorization_headers_are_400_invalid_request_even_with_valid_tokens() {
    let (issuer, server) = setup().await;
    let token = global_token(&issuer, &["api:read"]);
    let request = server
        .get("/api/protected")
        .header(AUTHORIZATION, bearer(&token))
        .header(AUTHORIZATION, bearer(&token));
    // reqwest appends rather than replaces: make sure two headers really go out.
    let built = request.try_clone().unwrap().build().unwrap();
    assert_eq!(built.headers().get_all(AUTHORIZATION).iter().count(), 2);
    let response = send(request).await;
    assert_invalid_request(&response, "multiple_authorization_headers");
}

#[tokio::test]
async fn token_over_8_kib_is_400_invalid_request_and_8_kib_exactly_is_not() {
    let (_issuer, server) = setup().await;
    let too_long = "a".repeat(8 * 1024 + 1);
    let response = get_with_token(&server, "/api/protected", &too_long).await;
    assert_invalid_request(&response, "token_too_long");
    // At the limit the token is extracted, then refused as a JWT.
    let at_limit = "a".repeat(8 * 1024);
    let response = get_with_token(&server, "/api/protected", &at_limit).await;
    assert_invalid_token(&response, "malformed_token");
}

#[tokio::test]
async fn non_ascii_bytes_in_the_authorization_header_are_400_invalid_request() {
    let (_issuer, server) = setup().await;
    for raw in [&b"Bearer \xc3\xa9t\xc3\xa9"[..], &b"Bearer abc\xffdef"[..]] {
        let value = HeaderValue::from_bytes(raw).unwrap();
        let response = send(server.get("/api/protected").header(AUTHORIZATION, value)).await;
        assert_invalid_request(&response, "non_ascii_header");
    }
}

#[tokio::test]
async fn garbage_token_is_401_invalid_token() {
    let (_issuer, server) = setup().await;
    for garbage in ["not.a.token", "garbage", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"] {
        let response = get_with_token(&server, "/api/protected", garbage).await;
        assert_eq!(response.status, 401, "{garbage}: {response:?}");
        assert!(
            response
                .challenge()
                .starts_with("Bearer error=\"invalid_token\""),
            "{garbage}: {response:?}"
        );
        assert!(
            response.error_message().starts_with("Invalid token"),
            "{garbage}: {response:?}"
        );
    }
}

#[tokio::test]
async fn token_with_a_tampered_payload_is_401_invalid_signature() {
    let (issuer, server) = setup().await;
    let builder = issuer.token().for_global_api(AUDIENCE).scopes(["api:read"]);
    let mut payload = builder.payload();
    let token = builder.sign();
    // The genuine token works…
    let response = get_with_token(&server, "/api/protected", &token).await;
    assert_eq!(response.status, 200, "{response:?}");
    // …and the same token with a raised privilege does not.
    payload["scope"] = json!("api:read api:write admin");
    payload["sub"] = json!("admin");
    let tampered = with_payload(&token, &payload);
    let response = get_with_token(&server, "/api/protected", &tampered).await;
    assert_invalid_token(&response, "invalid_signature");
}

#[tokio::test]
async fn token_signed_by_another_issuers_key_with_the_same_kid_is_401() {
    let (issuer, server) = setup().await;
    let impostor = start_issuer().await;
    assert_eq!(impostor.current_kid(), issuer.current_kid());
    let forged = impostor
        .token()
        .issuer(issuer.issuer())
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .sign();
    let response = get_with_token(&server, "/api/protected", &forged).await;
    assert_invalid_token(&response, "invalid_signature");
}

#[tokio::test]
async fn expired_token_is_401_invalid_token() {
    let (issuer, server) = setup().await;
    let expired = issuer
        .token()
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .expires_at(1_000_000)
        .sign();
    let response = get_with_token(&server, "/api/protected", &expired).await;
    assert_invalid_token(&response, "token_expired");
}

#[tokio::test]
async fn missing_scope_is_403_with_the_insufficient_scope_challenge() {
    let (issuer, server) = setup().await;
    let token = global_token(&issuer, &["api:write"]);
    let response = get_with_token(&server, "/api/protected", &token).await;
    assert_eq!(response.status, 403, "{response:?}");
    assert_eq!(
        response.challenge(),
        "Bearer error=\"insufficient_scope\", scope=\"api:read\""
    );
    assert_eq!(
        response.json(),
        json!({ "error": "Insufficient scope: missing api:read", "code": "insufficient_scope" })
    );
}

#[tokio::test]
async fn token_for_another_audience_is_403() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_global_api("https://other.example.com")
        .scopes(["api:read"])
        .sign();
    let response = get_with_token(&server, "/api/protected", &token).await;
    assert_denied(&response, "wrong_audience");
}

#[tokio::test]
async fn organization_tokens_on_a_global_route_are_403() {
    let (issuer, server) = setup().await;
    // An API token issued within an organization: right audience, but organization_id set.
    let org_resource = issuer
        .token()
        .for_org_resource(AUDIENCE, ORG)
        .scopes(["api:read"])
        .sign();
    let response = get_with_token(&server, "/api/protected", &org_resource).await;
    assert_denied(&response, "organization_token_not_allowed");
    // An organization token: its audience is the organization's URN.
    let org = issuer
        .token()
        .for_organization(ORG)
        .scopes(["api:read"])
        .sign();
    let response = get_with_token(&server, "/api/protected", &org).await;
    assert_denied(&response, "wrong_audience");
}

// ===== org_permission (organization in the path) =====

#[tokio::test]
async fn org_permission_valid_token_is_200_with_the_callers_auth_info() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_organization(ORG)
        .scopes(["invite:member"])
        .sign();
    let response = send(
        server
            .post(&format!("/orgs/{ORG}/members/invite"))
            .header(AUTHORIZATION, bearer(&token))
            .header("content-type", "application/json")
            .body(r#"{"email":"a@example.com"}"#),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.json(),
        json!({ "org": ORG, "auth": {
            "sub": "user-1",
            "clientId": "test-client",
            "organizationId": null,
            "scopes": ["invite:member"],
            "audience": [format!("urn:logto:organization:{ORG}")],
        }})
    );
}

#[tokio::test]
async fn org_permission_token_for_another_organization_is_403() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_organization(OTHER_ORG)
        .scopes(["invite:member"])
        .sign();
    let response = send(
        server
            .post(&format!("/orgs/{ORG}/members/invite"))
            .header(AUTHORIZATION, bearer(&token))
            .body("{}"),
    )
    .await;
    assert_denied(&response, "organization_mismatch");
}

#[tokio::test]
async fn org_permission_route_refuses_a_global_api_token_with_403() {
    let (issuer, server) = setup().await;
    let token = global_token(&issuer, &["invite:member"]);
    let response = send(
        server
            .post(&format!("/orgs/{ORG}/members/invite"))
            .header(AUTHORIZATION, bearer(&token))
            .body("{}"),
    )
    .await;
    assert_denied(&response, "wrong_audience");
}

#[tokio::test]
async fn org_permission_missing_scope_is_403_naming_the_scope() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_organization(ORG)
        .scopes(["read:members"])
        .sign();
    let response = send(
        server
            .post(&format!("/orgs/{ORG}/members/invite"))
            .header(AUTHORIZATION, bearer(&token))
            .body("{}"),
    )
    .await;
    assert_eq!(response.status, 403, "{response:?}");
    assert_eq!(
        response.challenge(),
        "Bearer error=\"insufficient_scope\", scope=\"invite:member\""
    );
}

// ===== org_resource (organization in the path) =====

#[tokio::test]
async fn org_resource_valid_token_is_200_with_the_callers_auth_info() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_org_resource(AUDIENCE, ORG)
        .subject("user-7")
        .scopes(["api:read"])
        .sign();
    let response = get_with_token(&server, &format!("/orgs/{ORG}/data"), &token).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.json(),
        json!({ "org": ORG, "auth": {
            "sub": "user-7",
            "clientId": "test-client",
            "organizationId": ORG,
            "scopes": ["api:read"],
            "audience": [AUDIENCE],
        }})
    );
}

#[tokio::test]
async fn org_resource_token_for_another_organization_is_403() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_org_resource(AUDIENCE, OTHER_ORG)
        .scopes(["api:read"])
        .sign();
    let response = get_with_token(&server, &format!("/orgs/{ORG}/data"), &token).await;
    assert_denied(&response, "organization_mismatch");
}

#[tokio::test]
async fn org_resource_token_for_another_audience_is_403() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_org_resource("https://other.example.com", ORG)
        .scopes(["api:read"])
        .sign();
    let response = get_with_token(&server, &format!("/orgs/{ORG}/data"), &token).await;
    assert_denied(&response, "wrong_audience");
}

#[tokio::test]
async fn org_resource_global_token_without_organization_is_403() {
    let (issuer, server) = setup().await;
    let token = global_token(&issuer, &["api:read"]);
    let response = get_with_token(&server, &format!("/orgs/{ORG}/data"), &token).await;
    assert_denied(&response, "organization_mismatch");
}

// ===== organization from a header or the query string =====

fn billing_token(issuer: &TestIssuer) -> String {
    issuer
        .token()
        .for_organization(ORG)
        .scopes(["manage:billing"])
        .sign()
}

#[tokio::test]
async fn header_org_source_allows_the_tokens_organization() {
    let (issuer, server) = setup().await;
    let response = send(
        server
            .get("/billing")
            .header(AUTHORIZATION, bearer(&billing_token(&issuer)))
            .header("X-Organization-Id", ORG),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.json()["auth"]["audience"],
        json!([format!("urn:logto:organization:{ORG}")])
    );
}

#[tokio::test]
async fn header_org_source_matches_the_header_name_case_insensitively() {
    let (issuer, server) = setup().await;
    let response = send(
        server
            .get("/billing")
            .header(AUTHORIZATION, bearer(&billing_token(&issuer)))
            .header("x-organization-id", ORG),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
}

#[tokio::test]
async fn header_org_source_refuses_another_organization_with_403() {
    let (issuer, server) = setup().await;
    let response = send(
        server
            .get("/billing")
            .header(AUTHORIZATION, bearer(&billing_token(&issuer)))
            .header("X-Organization-Id", OTHER_ORG),
    )
    .await;
    assert_denied(&response, "organization_mismatch");
}

#[tokio::test]
async fn header_org_source_without_the_header_is_403() {
    let (issuer, server) = setup().await;
    let response = send(
        server
            .get("/billing")
            .header(AUTHORIZATION, bearer(&billing_token(&issuer))),
    )
    .await;
    assert_denied(&response, "missing_organization");
}

#[tokio::test]
async fn header_org_source_naming_two_organizations_is_403_even_if_the_first_matches() {
    let (issuer, server) = setup().await;
    let response = send(
        server
            .get("/billing")
            .header(AUTHORIZATION, bearer(&billing_token(&issuer)))
            .header("X-Organization-Id", ORG)
            .header("X-Organization-Id", OTHER_ORG),
    )
    .await;
    assert_denied(&response, "ambiguous_organization");
}

#[tokio::test]
async fn query_org_source_naming_two_organizations_is_403() {
    let (issuer, server) = setup().await;
    let token = reports_token(&issuer, ORG);
    let response = get_with_token(
        &server,
        &format!("/reports?organization_id={ORG}&organization_id={OTHER_ORG}"),
        &token,
    )
    .await;
    assert_denied(&response, "ambiguous_organization");
}

fn reports_token(issuer: &TestIssuer, org: &str) -> String {
    issuer
        .token()
        .for_org_resource(AUDIENCE, org)
        .scopes(["reports:read"])
        .sign()
}

#[tokio::test]
async fn query_org_source_allows_the_tokens_organization() {
    let (issuer, server) = setup().await;
    let token = reports_token(&issuer, ORG);
    let response = get_with_token(
        &server,
        &format!("/reports?page=2&organization_id={ORG}"),
        &token,
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json()["auth"]["organizationId"], json!(ORG));
}

#[tokio::test]
async fn query_org_source_decodes_percent_encoded_values() {
    let (issuer, server) = setup().await;
    let token = reports_token(&issuer, "acme corp");
    let response = get_with_token(&server, "/reports?organization_id=acme%20corp", &token).await;
    assert_eq!(response.status, 200, "{response:?}");
}

#[tokio::test]
async fn query_org_source_refuses_another_organization_with_403() {
    let (issuer, server) = setup().await;
    let token = reports_token(&issuer, ORG);
    let path = format!("/reports?organization_id={OTHER_ORG}");
    let response = get_with_token(&server, &path, &token).await;
    assert_denied(&response, "organization_mismatch");
}

#[tokio::test]
async fn query_org_source_without_the_parameter_is_403() {
    let (issuer, server) = setup().await;
    let token = reports_token(&issuer, ORG);
    for path in ["/reports", "/reports?page=2", "/reports?organization=acme"] {
        let response = get_with_token(&server, path, &token).await;
        assert_denied(&response, "missing_organization");
    }
}

#[tokio::test]
async fn macro_free_require_reads_a_header_no_declaration_names() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_organization(ORG)
        .scopes(["audit:read"])
        .sign();
    let call = |tenant: Option<&str>| {
        let request = server.get("/audit").header(AUTHORIZATION, bearer(&token));
        match tenant {
            Some(tenant) => request.header("X-Tenant-Id", tenant),
            None => request,
        }
    };
    let response = send(call(Some(ORG))).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_denied(&send(call(Some(OTHER_ORG))).await, "organization_mismatch");
    assert_denied(&send(call(None)).await, "missing_organization");
}

// ===== keys: rotation, issuer outage =====

#[tokio::test]
async fn key_rotation_while_the_server_runs_accepts_tokens_with_the_new_kid() {
    let (issuer, server) = setup().await;
    let old_kid = issuer.current_kid();
    let before = global_token(&issuer, &["api:read"]);
    let response = get_with_token(&server, "/api/protected", &before).await;
    assert_eq!(response.status, 200, "{response:?}");

    let new_kid = issuer.rotate();
    assert_ne!(new_kid, old_kid);
    let after = global_token(&issuer, &["api:read"]);
    let response = get_with_token(&server, "/api/protected", &after).await;
    assert_eq!(response.status, 200, "{response:?}");

    // The old key left the key set the server fetched: its tokens no longer pass.
    let response = get_with_token(&server, "/api/protected", &before).await;
    assert_invalid_token(&response, "unknown_key");
}

#[tokio::test]
async fn issuer_down_with_warm_key_cache_still_serves_200() {
    let (issuer, server) = setup().await;
    let first = global_token(&issuer, &["api:read"]);
    let response = get_with_token(&server, "/api/protected", &first).await;
    assert_eq!(response.status, 200, "{response:?}");

    issuer.stop().await;
    // The same token (verified-token cache) and a new one (key cache) both pass.
    let response = get_with_token(&server, "/api/protected", &first).await;
    assert_eq!(response.status, 200, "{response:?}");
    let second = issuer
        .token()
        .for_global_api(AUDIENCE)
        .subject("user-2")
        .scopes(["api:read"])
        .sign();
    let response = get_with_token(&server, "/api/protected", &second).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json()["auth"]["sub"], "user-2");
}

#[tokio::test]
async fn unknown_kid_with_the_issuer_down_is_503_with_retry_after() {
    let (issuer, server) = setup().await;
    let warm = global_token(&issuer, &["api:read"]);
    assert_eq!(
        get_with_token(&server, "/api/protected", &warm)
            .await
            .status,
        200
    );

    issuer.stop().await;
    let unknown = issuer
        .token()
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .kid("never-published")
        .sign();
    let response = get_with_token(&server, "/api/protected", &unknown).await;
    assert_eq!(response.status, 503, "{response:?}");
    let retry_after: u64 = response
        .header(RETRY_AFTER)
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(retry_after >= 1, "{retry_after}");
    assert!(response.header(WWW_AUTHENTICATE).is_none(), "{response:?}");
    assert_eq!(response.code(), "keys_unavailable");
}

#[tokio::test]
async fn issuer_down_before_the_first_request_is_503_with_retry_after() {
    let (issuer, server) = setup().await;
    issuer.stop().await;
    let token = global_token(&issuer, &["api:read"]);
    let response = get_with_token(&server, "/api/protected", &token).await;
    assert_eq!(response.status, 503, "{response:?}");
    assert!(response.header(RETRY_AFTER).is_some(), "{response:?}");

    // Once the issuer is back (and the failure back-off is over), it recovers.
    issuer.restart().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = get_with_token(&server, "/api/protected", &token).await;
    assert_eq!(response.status, 200, "{response:?}");
}

// ===== policy before body =====

#[tokio::test]
async fn caller_without_permission_sending_a_malformed_body_gets_403_not_400() {
    let (issuer, server) = setup().await;
    let token = global_token(&issuer, &["api:read"]);
    let response = send(
        server
            .post("/api/products")
            .header(AUTHORIZATION, bearer(&token))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(response.status, 403, "{response:?}");
    assert_eq!(
        response.challenge(),
        "Bearer error=\"insufficient_scope\", scope=\"api:write\""
    );
}

#[tokio::test]
async fn caller_without_a_token_sending_a_malformed_body_gets_401() {
    let (_issuer, server) = setup().await;
    let response = send(
        server
            .post("/api/products")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(response.status, 401, "{response:?}");
    assert_eq!(response.challenge(), "Bearer");
}

#[tokio::test]
async fn permitted_caller_sending_a_malformed_body_gets_400() {
    let (issuer, server) = setup().await;
    let token = global_token(&issuer, &["api:write"]);
    let response = send(
        server
            .post("/api/products")
            .header(AUTHORIZATION, bearer(&token))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(response.status, 400, "{response:?}");
    assert!(response.header(WWW_AUTHENTICATE).is_none(), "{response:?}");
}

#[tokio::test]
async fn permitted_caller_sending_a_json_body_gets_it_echoed() {
    let (issuer, server) = setup().await;
    let token = global_token(&issuer, &["api:write"]);
    let response = send(
        server
            .post("/api/products")
            .header(AUTHORIZATION, bearer(&token))
            .header("content-type", "application/json")
            .body(r#"{"name":"lamp","price":12}"#),
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.json()["product"],
        json!({ "name": "lamp", "price": 12 })
    );
    assert_eq!(response.json()["auth"]["scopes"], json!(["api:write"]));
}

// ===== metadata, challenges, pass-through =====

#[tokio::test]
async fn protected_resource_metadata_lists_resource_issuer_and_declared_scopes() {
    let (issuer, server) = setup().await;
    let response = send(server.get("/.well-known/oauth-protected-resource")).await;
    assert_eq!(response.status, 200, "{response:?}");
    let metadata = response.json();
    assert_eq!(metadata["resource"], AUDIENCE);
    assert_eq!(metadata["authorization_servers"], json!([issuer.issuer()]));
    // Every scope of the `#[requires]` declarations of this program, sorted
    // (as documented, the macro-free `GET /audit` policy's scope is not among them).
    // The program is the whole test binary: `admin` and `support` come from the
    // `any_scopes` declarations of the `requires` module, the rest from this one.
    assert_eq!(
        metadata["scopes_supported"],
        json!([
            "admin",
            "api:read",
            "api:write",
            "invite:member",
            "manage:billing",
            "reports:read",
            "support"
        ])
    );
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
}

#[tokio::test]
async fn resource_metadata_url_is_advertised_in_the_401_challenge() {
    let issuer = start_issuer().await;
    let validator = fast(issuer.validator_builder(AUDIENCE))
        .resource_metadata(METADATA_URL)
        .build()
        .unwrap();
    let server = Server::start(validator).await;
    let response = send(server.get("/api/protected")).await;
    assert_eq!(response.status, 401, "{response:?}");
    assert_eq!(
        response.challenge(),
        format!("Bearer resource_metadata=\"{METADATA_URL}\"")
    );
    // Other errors keep their own challenge.
    let response = get_with_token(&server, "/api/protected", "not.a.token").await;
    assert_invalid_token(&response, "malformed_token");
}

#[tokio::test]
async fn unknown_path_is_404_untouched_by_recover() {
    let (issuer, server) = setup().await;
    let response = send(server.get("/nope")).await;
    assert_eq!(response.status, 404, "{response:?}");
    assert!(response.header(WWW_AUTHENTICATE).is_none(), "{response:?}");
    // Credentials, good or bad, do not turn a missing route into 401 or 400.
    let token = global_token(&issuer, &["api:read"]);
    let response = get_with_token(&server, "/api/nope", &token).await;
    assert_eq!(response.status, 404, "{response:?}");
    let response = get_with_token(&server, "/nope", "not.a.token").await;
    assert_eq!(response.status, 404, "{response:?}");
    assert!(response.header(WWW_AUTHENTICATE).is_none(), "{response:?}");
}

#[tokio::test]
async fn wrong_method_is_405_untouched_by_recover() {
    let (_issuer, server) = setup().await;
    let response = send(server.get("/api/products")).await;
    assert_eq!(response.status, 405, "{response:?}");
    assert!(response.header(WWW_AUTHENTICATE).is_none(), "{response:?}");
}

#[tokio::test]
async fn unknown_path_with_a_non_get_method_is_404() {
    let (_issuer, server) = setup().await;
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let response = send(client().request(method.clone(), server.url("/nope"))).await;
        assert_eq!(response.status, 404, "{method}: {response:?}");
    }
}
