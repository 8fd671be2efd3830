//! End-to-end tests over real HTTP: a warp server on 127.0.0.1 protected with
//! `#[requires]` handlers and the macro-free filters, tokens from a
//! `TestIssuer`, requests from `reqwest`.

use std::net::SocketAddr;

use crate::common::{Challenge, with_payload};
use std::time::Duration;

use bearer_policy::testing::TestIssuer;
use bearer_policy::warp::{authorize, authorize_path, protected_resource_metadata, recover};
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
        .and(authorize(v.clone(), audit_policy()))
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
struct Response {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// The body as text, so that a failing case shows what the server said.
impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
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

fn assert_invalid_token(response: &Response, code: &'static str) {
    Expect::invalid_token(Some(code)).check("", response);
}

// ===== table-driven cases =====

const INVALID_REQUEST: &str = "Bearer error=\"invalid_request\"";
const INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";
const INSUFFICIENT_SCOPE: &str = "Bearer error=\"insufficient_scope\"";

/// What a response must be.
#[derive(Debug)]
struct Expect {
    status: u16,
    challenge: Challenge,
    /// The `code` of the JSON error body.
    code: Option<&'static str>,
    /// The start of the `error` message of the JSON error body.
    message: Option<&'static str>,
    /// Values the JSON body must hold, by JSON pointer (`""`: the whole body).
    json: Vec<(&'static str, Value)>,
}

impl Expect {
    /// `status`, nothing else checked.
    fn status(status: u16) -> Self {
        Expect {
            status,
            challenge: Challenge::Any,
            code: None,
            message: None,
            json: Vec::new(),
        }
    }

    fn ok() -> Self {
        Self::status(200)
    }

    /// 400 with the `invalid_request` challenge: the header is malformed.
    fn invalid_request(code: &'static str) -> Self {
        Self::status(400)
            .challenge_starting(INVALID_REQUEST)
            .code(code)
    }

    /// 401 with the `invalid_token` challenge and an "Invalid token…" message;
    /// `code` says why, when the case pins it.
    fn invalid_token(code: Option<&'static str>) -> Self {
        Expect {
            code,
            message: Some("Invalid token"),
            ..Self::status(401).challenge_starting(INVALID_TOKEN)
        }
    }

    /// 403 with the `insufficient_scope` challenge: the policy refused.
    fn denied(code: &'static str) -> Self {
        Self::status(403)
            .challenge_starting(INSUFFICIENT_SCOPE)
            .code(code)
    }

    fn code(self, code: &'static str) -> Self {
        Expect {
            code: Some(code),
            ..self
        }
    }

    fn challenge(self, exactly: impl Into<String>) -> Self {
        Expect {
            challenge: Challenge::Exactly(exactly.into()),
            ..self
        }
    }

    fn challenge_starting(self, prefix: &'static str) -> Self {
        Expect {
            challenge: Challenge::StartsWith(prefix),
            ..self
        }
    }

    fn no_challenge(self) -> Self {
        Expect {
            challenge: Challenge::Absent,
            ..self
        }
    }

    fn json(mut self, pointer: &'static str, value: Value) -> Self {
        self.json.push((pointer, value));
        self
    }

    /// Asserts `response` is as expected; failures name `case`.
    fn check(&self, case: &str, response: &Response) {
        assert_eq!(response.status, self.status, "{case}: {response:?}");
        self.challenge.check(
            &format!("{case}: {response:?}"),
            response.header(WWW_AUTHENTICATE),
        );
        if let Some(message) = self.message {
            assert!(
                response.error_message().starts_with(message),
                "{case}: {response:?}"
            );
        }
        if let Some(code) = self.code {
            assert_eq!(response.code(), code, "{case}: {response:?}");
        }
        for (pointer, value) in &self.json {
            assert_eq!(
                response.json().pointer(pointer),
                Some(value),
                "{case}: JSON at {pointer:?}: {response:?}"
            );
        }
    }
}

/// A named request and what it must get.
struct Case {
    name: String,
    request: reqwest::RequestBuilder,
    expect: Expect,
}

fn case(name: impl Into<String>, request: reqwest::RequestBuilder, expect: Expect) -> Case {
    Case {
        name: name.into(),
        request,
        expect,
    }
}

/// Sends the cases one after the other, in order, checking each response.
async fn run(cases: Vec<Case>) {
    for Case {
        name,
        request,
        expect,
    } in cases
    {
        let response = send(request).await;
        expect.check(&name, &response);
    }
}

// ===== the bearer header and the token (global route) =====

#[tokio::test]
async fn authorization_header_without_one_well_formed_bearer_token_is_401_or_400() {
    let (issuer, server) = setup().await;
    let get = || server.get("/api/protected");
    let with = |value: HeaderValue| get().header(AUTHORIZATION, value);
    let token = global_token(&issuer, &["api:read"]);
    let twice = get()
        .header(AUTHORIZATION, bearer(&token))
        .header(AUTHORIZATION, bearer(&token));
    // reqwest appends rather than replaces: make sure two headers really go out.
    let built = twice.try_clone().unwrap().build().unwrap();
    assert_eq!(built.headers().get_all(AUTHORIZATION).iter().count(), 2);
    run(vec![
        case(
            "no Authorization header: 401 with a bare challenge",
            get(),
            Expect::status(401).challenge("Bearer").json(
                "",
                json!({ "error": "Authorization header is missing", "code": "missing_authorization" }),
            ),
        ),
        case(
            "another scheme: 401 with a bare challenge",
            with(HeaderValue::from_static("Basic dXNlcjpwYXNz")),
            Expect::status(401)
                .challenge("Bearer")
                .code("unsupported_scheme"),
        ),
        case(
            "Bearer without a token",
            with(HeaderValue::from_static("Bearer")),
            Expect::invalid_request("empty_token"),
        ),
        case(
            "Bearer and spaces only",
            with(HeaderValue::from_static("Bearer    ")),
            Expect::invalid_request("empty_token"),
        ),
        case(
            "a space inside the token",
            with(HeaderValue::from_static("Bearer a b")),
            Expect::invalid_request("invalid_token_characters"),
        ),
        case(
            "two Authorization headers, even with valid tokens",
            twice,
            Expect::invalid_request("multiple_authorization_headers"),
        ),
        case(
            "a token over 8 KiB",
            with(bearer(&"a".repeat(8 * 1024 + 1)).parse().unwrap()),
            Expect::invalid_request("token_too_long"),
        ),
        case(
            // At the limit the token is extracted, then refused as a JWT.
            "a token of 8 KiB exactly is not too long",
            with(bearer(&"a".repeat(8 * 1024)).parse().unwrap()),
            Expect::invalid_token(Some("malformed_token")),
        ),
        case(
            "UTF-8 in the header",
            with(HeaderValue::from_bytes(b"Bearer \xc3\xa9t\xc3\xa9").unwrap()),
            Expect::invalid_request("non_ascii_header"),
        ),
        case(
            "a byte that is not UTF-8 in the header",
            with(HeaderValue::from_bytes(b"Bearer abc\xffdef").unwrap()),
            Expect::invalid_request("non_ascii_header"),
        ),
    ])
    .await;
}

#[tokio::test]
async fn token_that_fails_validation_is_401_invalid_token_with_the_reason() {
    let (issuer, server) = setup().await;
    let get = |token: &str| {
        server
            .get("/api/protected")
            .header(AUTHORIZATION, bearer(token))
    };
    let builder = issuer.token().for_global_api(AUDIENCE).scopes(["api:read"]);
    let mut payload = builder.payload();
    let genuine = builder.sign();
    // The same token with a raised privilege.
    payload["scope"] = json!("api:read api:write admin");
    payload["sub"] = json!("admin");
    let tampered = with_payload(&genuine, &payload);
    let impostor = start_issuer().await;
    assert_eq!(impostor.current_kid(), issuer.current_kid());
    let signed_by_impostor = impostor
        .token()
        .issuer(issuer.issuer())
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .sign();
    let expired = issuer
        .token()
        .for_global_api(AUDIENCE)
        .scopes(["api:read"])
        .expires_at(1_000_000)
        .sign();
    let mut cases: Vec<Case> = ["not.a.token", "garbage", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"]
        .into_iter()
        .map(|garbage| case(garbage, get(garbage), Expect::invalid_token(None)))
        .collect();
    cases.extend([
        case("the genuine token", get(&genuine), Expect::ok()),
        case(
            "the genuine token with a tampered payload",
            get(&tampered),
            Expect::invalid_token(Some("invalid_signature")),
        ),
        case(
            "signed by another issuer's key with the same kid",
            get(&signed_by_impostor),
            Expect::invalid_token(Some("invalid_signature")),
        ),
        case(
            "expired",
            get(&expired),
            Expect::invalid_token(Some("token_expired")),
        ),
    ]);
    run(cases).await;
}

// ===== global_api =====

#[tokio::test]
async fn global_route_allows_its_scope_and_refuses_other_tokens_with_403() {
    let (issuer, server) = setup().await;
    let get = |token: &str| {
        server
            .get("/api/protected")
            .header(AUTHORIZATION, bearer(token))
    };
    let valid = issuer
        .token()
        .for_global_api(AUDIENCE)
        .subject("user-42")
        .scopes(["api:read", "api:write"])
        .sign();
    let other_audience = issuer
        .token()
        .for_global_api("https://other.example.com")
        .scopes(["api:read"])
        .sign();
    // An API token issued within an organization: right audience, but organization_id set.
    let org_resource = issuer
        .token()
        .for_org_resource(AUDIENCE, ORG)
        .scopes(["api:read"])
        .sign();
    // An organization token: its audience is the organization's URN.
    let org = issuer
        .token()
        .for_organization(ORG)
        .scopes(["api:read"])
        .sign();
    run(vec![
        case(
            "valid token: 200 with the caller's auth info",
            get(&valid),
            Expect::ok().json(
                "",
                json!({ "auth": {
                    "sub": "user-42",
                    "clientId": "test-client",
                    "organizationId": null,
                    "scopes": ["api:read", "api:write"],
                    "audience": [AUDIENCE],
                }}),
            ),
        ),
        case(
            "missing scope: the challenge names it",
            get(&global_token(&issuer, &["api:write"])),
            Expect::status(403)
                .challenge("Bearer error=\"insufficient_scope\", scope=\"api:read\"")
                .json(
                    "",
                    json!({ "error": "Insufficient scope: missing api:read", "code": "insufficient_scope" }),
                ),
        ),
        case(
            "token for another audience",
            get(&other_audience),
            Expect::denied("wrong_audience"),
        ),
        case(
            "organization resource token",
            get(&org_resource),
            Expect::denied("organization_token_not_allowed"),
        ),
        case(
            "organization token",
            get(&org),
            Expect::denied("wrong_audience"),
        ),
    ])
    .await;
}

// ===== org_permission (organization in the path) =====

#[tokio::test]
async fn org_permission_route_allows_its_organizations_token_and_refuses_others_with_403() {
    let (issuer, server) = setup().await;
    let invite = |token: &str| {
        server
            .post(&format!("/orgs/{ORG}/members/invite"))
            .header(AUTHORIZATION, bearer(token))
    };
    let org_token =
        |org: &str, scope: &str| issuer.token().for_organization(org).scopes([scope]).sign();
    run(vec![
        case(
            "valid token: 200 with the caller's auth info",
            invite(&org_token(ORG, "invite:member"))
                .header("content-type", "application/json")
                .body(r#"{"email":"a@example.com"}"#),
            Expect::ok().json(
                "",
                json!({ "org": ORG, "auth": {
                    "sub": "user-1",
                    "clientId": "test-client",
                    "organizationId": null,
                    "scopes": ["invite:member"],
                    "audience": [format!("urn:logto:organization:{ORG}")],
                }}),
            ),
        ),
        case(
            "token for another organization",
            invite(&org_token(OTHER_ORG, "invite:member")).body("{}"),
            Expect::denied("organization_mismatch"),
        ),
        case(
            "global API token",
            invite(&global_token(&issuer, &["invite:member"])).body("{}"),
            Expect::denied("wrong_audience"),
        ),
        case(
            "missing scope: the challenge names it",
            invite(&org_token(ORG, "read:members")).body("{}"),
            Expect::status(403)
                .challenge("Bearer error=\"insufficient_scope\", scope=\"invite:member\""),
        ),
    ])
    .await;
}

// ===== org_resource (organization in the path) =====

#[tokio::test]
async fn org_resource_route_allows_its_organizations_token_and_refuses_others_with_403() {
    let (issuer, server) = setup().await;
    let data = |token: &str| {
        server
            .get(&format!("/orgs/{ORG}/data"))
            .header(AUTHORIZATION, bearer(token))
    };
    let valid = issuer
        .token()
        .for_org_resource(AUDIENCE, ORG)
        .subject("user-7")
        .scopes(["api:read"])
        .sign();
    let resource_token = |audience: &str, org: &str| {
        issuer
            .token()
            .for_org_resource(audience, org)
            .scopes(["api:read"])
            .sign()
    };
    run(vec![
        case(
            "valid token: 200 with the caller's auth info",
            data(&valid),
            Expect::ok().json(
                "",
                json!({ "org": ORG, "auth": {
                    "sub": "user-7",
                    "clientId": "test-client",
                    "organizationId": ORG,
                    "scopes": ["api:read"],
                    "audience": [AUDIENCE],
                }}),
            ),
        ),
        case(
            "token for another organization",
            data(&resource_token(AUDIENCE, OTHER_ORG)),
            Expect::denied("organization_mismatch"),
        ),
        case(
            "token for another audience",
            data(&resource_token("https://other.example.com", ORG)),
            Expect::denied("wrong_audience"),
        ),
        case(
            "global token, without an organization",
            data(&global_token(&issuer, &["api:read"])),
            Expect::denied("organization_mismatch"),
        ),
    ])
    .await;
}

// ===== organization from a header or the query string =====

#[tokio::test]
async fn header_org_source_allows_only_the_one_organization_the_header_names() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_organization(ORG)
        .scopes(["manage:billing"])
        .sign();
    let billing = || server.get("/billing").header(AUTHORIZATION, bearer(&token));
    run(vec![
        case(
            "the token's organization",
            billing().header("X-Organization-Id", ORG),
            Expect::ok().json(
                "/auth/audience",
                json!([format!("urn:logto:organization:{ORG}")]),
            ),
        ),
        case(
            "the header name in lower case",
            billing().header("x-organization-id", ORG),
            Expect::ok(),
        ),
        case(
            "another organization",
            billing().header("X-Organization-Id", OTHER_ORG),
            Expect::denied("organization_mismatch"),
        ),
        case(
            "no header",
            billing(),
            Expect::denied("missing_organization"),
        ),
        case(
            "two organizations, even if the first matches",
            billing()
                .header("X-Organization-Id", ORG)
                .header("X-Organization-Id", OTHER_ORG),
            Expect::denied("ambiguous_organization"),
        ),
    ])
    .await;
    // An empty header names no organization, even for a token whose audience
    // is the bare `urn:logto:organization:` prefix.
    let no_org = issuer
        .token()
        .for_organization("")
        .scopes(["manage:billing"])
        .sign();
    run(vec![case(
        "an empty header",
        server
            .get("/billing")
            .header(AUTHORIZATION, bearer(&no_org))
            .header("X-Organization-Id", ""),
        Expect::denied("missing_organization"),
    )])
    .await;
}

#[tokio::test]
async fn query_org_source_allows_only_the_one_organization_the_query_names() {
    let (issuer, server) = setup().await;
    let reports_token = |org: &str| {
        issuer
            .token()
            .for_org_resource(AUDIENCE, org)
            .scopes(["reports:read"])
            .sign()
    };
    let token = reports_token(ORG);
    let get = |path: &str, token: &str| server.get(path).header(AUTHORIZATION, bearer(token));
    let mut cases = vec![
        case(
            "two organizations",
            get(
                &format!("/reports?organization_id={ORG}&organization_id={OTHER_ORG}"),
                &token,
            ),
            Expect::denied("ambiguous_organization"),
        ),
        case(
            "the token's organization",
            get(&format!("/reports?page=2&organization_id={ORG}"), &token),
            Expect::ok().json("/auth/organizationId", json!(ORG)),
        ),
        case(
            "a percent-encoded value is decoded",
            get(
                "/reports?organization_id=acme%20corp",
                &reports_token("acme corp"),
            ),
            Expect::ok(),
        ),
        case(
            "another organization",
            get(&format!("/reports?organization_id={OTHER_ORG}"), &token),
            Expect::denied("organization_mismatch"),
        ),
    ];
    cases.push(case(
        "an empty parameter, with a token for the empty organization",
        get("/reports?organization_id=", &reports_token("")),
        Expect::denied("missing_organization"),
    ));
    for path in ["/reports", "/reports?page=2", "/reports?organization=acme"] {
        cases.push(case(
            format!("no parameter: {path}"),
            get(path, &token),
            Expect::denied("missing_organization"),
        ));
    }
    run(cases).await;
}

#[tokio::test]
async fn macro_free_require_reads_a_header_no_declaration_names() {
    let (issuer, server) = setup().await;
    let token = issuer
        .token()
        .for_organization(ORG)
        .scopes(["audit:read"])
        .sign();
    let audit = || server.get("/audit").header(AUTHORIZATION, bearer(&token));
    run(vec![
        case(
            "the token's organization",
            audit().header("X-Tenant-Id", ORG),
            Expect::ok(),
        ),
        case(
            "another organization",
            audit().header("X-Tenant-Id", OTHER_ORG),
            Expect::denied("organization_mismatch"),
        ),
        case("no header", audit(), Expect::denied("missing_organization")),
    ])
    .await;
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
async fn policy_is_decided_before_the_body_is_read() {
    let (issuer, server) = setup().await;
    let products = |token: Option<&str>| {
        let request = server
            .post("/api/products")
            .header("content-type", "application/json");
        match token {
            Some(token) => request.header(AUTHORIZATION, bearer(token)),
            None => request,
        }
    };
    let reader = global_token(&issuer, &["api:read"]);
    let writer = global_token(&issuer, &["api:write"]);
    run(vec![
        case(
            "caller without permission, malformed body: 403, not 400",
            products(Some(&reader)).body("{not json"),
            Expect::status(403)
                .challenge("Bearer error=\"insufficient_scope\", scope=\"api:write\""),
        ),
        case(
            "caller without a token, malformed body: 401",
            products(None).body("{not json"),
            Expect::status(401).challenge("Bearer"),
        ),
        case(
            "permitted caller, malformed body: 400 without a challenge",
            products(Some(&writer)).body("{not json"),
            Expect::status(400).no_challenge(),
        ),
        case(
            "permitted caller, JSON body: echoed",
            products(Some(&writer)).body(r#"{"name":"lamp","price":12}"#),
            Expect::ok()
                .json("/product", json!({ "name": "lamp", "price": 12 }))
                .json("/auth/scopes", json!(["api:write"])),
        ),
    ])
    .await;
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
async fn unmatched_paths_and_methods_are_404_and_405_untouched_by_recover() {
    let (issuer, server) = setup().await;
    let token = global_token(&issuer, &["api:read"]);
    let mut cases = vec![
        case(
            "unknown path",
            server.get("/nope"),
            Expect::status(404).no_challenge(),
        ),
        // Credentials, good or bad, do not turn a missing route into 401 or 400.
        case(
            "unknown path with a valid token",
            server
                .get("/api/nope")
                .header(AUTHORIZATION, bearer(&token)),
            Expect::status(404),
        ),
        case(
            "unknown path with a bad token",
            server
                .get("/nope")
                .header(AUTHORIZATION, bearer("not.a.token")),
            Expect::status(404).no_challenge(),
        ),
        case(
            "wrong method on a known path",
            server.get("/api/products"),
            Expect::status(405).no_challenge(),
        ),
    ];
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        cases.push(case(
            format!("unknown path with {method}"),
            client().request(method, server.url("/nope")),
            Expect::status(404),
        ));
    }
    run(cases).await;
}
