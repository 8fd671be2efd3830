//! End-to-end tests over real HTTP, every case against every front end: a
//! warp server (`warp_app`), an axum server (`axum_app`) and a bare tower
//! service on hyper (`tower_app`), on 127.0.0.1 with the same routes,
//! protected with `#[requires]` handlers and a macro-free policy, tokens from
//! a `TestIssuer`, requests from `reqwest`. Each test loops over
//! [`FrontEnd::ALL`]; a failure names the front end.

/// Declares, in each app, `ApiDoc` (the operations of its `/openapi.json`:
/// every app names its handlers alike) and `MODULE` (where its handlers are
/// declared, for `PolicySecurity::module`).
macro_rules! api_doc {
    () => {
        #[derive(utoipa::OpenApi)]
        #[openapi(paths(
            read_api,
            create_product,
            invite_member,
            org_data,
            billing,
            reports,
            audit
        ))]
        struct ApiDoc;

        pub const MODULE: &str = module_path!();
    };
}
use api_doc;

mod actix_app;
mod axum_app;
mod openapi;
mod tower_app;
mod warp_app;

use std::time::Duration;

use bearer_policy::testing::TestIssuer;
use bearer_policy::{Model, OrgSource, Policy, Validator, ValidatorBuilder};
use reqwest::header::{ALLOW, AUTHORIZATION, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::json;

use crate::common::front_ends::client;
use crate::common::issuer::RETRY_AFTER_FAILURE;
use crate::common::jws::with_payload;
use crate::common::table::{Case, case, run};
use crate::common::{
    API, App, Challenge, Expect, FrontEnd, Response, Server, bearer, fast, start_issuer,
};

const ORG: &str = "acme";
const OTHER_ORG: &str = "globex";
const METADATA_URL: &str = "https://api.example.com/.well-known/oauth-protected-resource";

/// The policy of `GET /audit`, written without the macro, organization from
/// a header that no `#[requires]` declaration names. Every front end uses it.
fn audit_policy() -> Policy {
    Policy::new(Model::OrgPermission)
        .scopes(["audit:read"])
        .organization(OrgSource::Header("X-Tenant-Id".into()))
}

// ===== fixtures =====

/// This suite's routes on `front_end`: a new front end is one arm here.
pub(crate) fn app(front_end: FrontEnd, validator: Validator) -> App {
    match front_end {
        FrontEnd::Warp => App::warp(warp_app::routes(validator)),
        FrontEnd::Axum => App::Axum(axum_app::app(validator)),
        FrontEnd::Tower => App::Tower(tower_app::service(validator)),
        FrontEnd::Actix => App::actix(actix_app::app(validator)),
    }
}

/// The module that declares `front_end`'s handlers.
pub(crate) fn handlers_module(front_end: FrontEnd) -> &'static str {
    match front_end {
        FrontEnd::Warp => warp_app::MODULE,
        FrontEnd::Axum => axum_app::MODULE,
        FrontEnd::Tower => tower_app::MODULE,
        FrontEnd::Actix => actix_app::MODULE,
    }
}

/// The fast timings, and an unknown `kid` refetched at once: the rotation
/// test must not wait for the refetch rate limit.
pub(crate) fn validator(issuer: &TestIssuer) -> ValidatorBuilder {
    fast(issuer).unknown_kid_refetch_interval(Duration::from_millis(100))
}

/// A `TestIssuer` of its own and a `front_end` server trusting it.
async fn setup(front_end: FrontEnd) -> (TestIssuer, Server) {
    let issuer = start_issuer().await;
    let server = Server::start(app(front_end, validator(&issuer).build().unwrap())).await;
    (issuer, server)
}

async fn get_with_token(server: &Server, path: &str, token: &str) -> Response {
    server
        .send(server.get(path).header(AUTHORIZATION, bearer(token)))
        .await
}

fn global_token(issuer: &TestIssuer, scopes: &[&str]) -> String {
    issuer
        .token()
        .for_global_api(API)
        .scopes(scopes.iter().copied())
        .sign()
}

fn assert_invalid_token(response: &Response, code: &'static str) {
    Expect::invalid_token(Some(code)).check("", response);
}

// ===== the bearer header and the token (global route) =====

#[tokio::test]
async fn authorization_header_without_one_well_formed_bearer_token_is_401_or_400() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let get = || server.get("/api/protected");
        let with = |value: HeaderValue| get().header(AUTHORIZATION, value);
        let token = global_token(&issuer, &["api:read"]);
        let twice = get()
            .header(AUTHORIZATION, bearer(&token))
            .header(AUTHORIZATION, bearer(&token));
        // reqwest appends rather than replaces: make sure two headers really go out.
        let built = twice.try_clone().unwrap().build().unwrap();
        assert_eq!(built.headers().get_all(AUTHORIZATION).iter().count(), 2);
        run(&server, vec![
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
        ],
        )
        .await;
    }
}

#[tokio::test]
async fn token_that_fails_validation_is_401_invalid_token_with_the_reason() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let get = |token: &str| {
            server
                .get("/api/protected")
                .header(AUTHORIZATION, bearer(token))
        };
        let builder = issuer.token().for_global_api(API).scopes(["api:read"]);
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
            .for_global_api(API)
            .scopes(["api:read"])
            .sign();
        let expired = issuer
            .token()
            .for_global_api(API)
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
        run(&server, cases).await;
    }
}

// ===== global_api =====

#[tokio::test]
async fn global_route_allows_its_scope_and_refuses_other_tokens_with_403() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let get = |token: &str| {
            server
                .get("/api/protected")
                .header(AUTHORIZATION, bearer(token))
        };
        let valid = issuer
            .token()
            .for_global_api(API)
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
            .for_org_resource(API, ORG)
            .scopes(["api:read"])
            .sign();
        // An organization token: its audience is the organization's URN.
        let org = issuer
            .token()
            .for_organization(ORG)
            .scopes(["api:read"])
            .sign();
        run(&server, vec![
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
                        "audience": [API],
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
        ],
        )
        .await;
    }
}

// ===== org_permission (organization in the path) =====

#[tokio::test]
async fn org_permission_route_allows_its_organizations_token_and_refuses_others_with_403() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let invite = |token: &str| {
            server
                .post(&format!("/orgs/{ORG}/members/invite"))
                .header(AUTHORIZATION, bearer(token))
        };
        let org_token =
            |org: &str, scope: &str| issuer.token().for_organization(org).scopes([scope]).sign();
        run(
            &server,
            vec![
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
            ],
        )
        .await;
    }
}

// ===== org_resource (organization in the path) =====

#[tokio::test]
async fn org_resource_route_allows_its_organizations_token_and_refuses_others_with_403() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let data = |token: &str| {
            server
                .get(&format!("/orgs/{ORG}/data"))
                .header(AUTHORIZATION, bearer(token))
        };
        let valid = issuer
            .token()
            .for_org_resource(API, ORG)
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
        run(
            &server,
            vec![
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
                            "audience": [API],
                        }}),
                    ),
                ),
                case(
                    "token for another organization",
                    data(&resource_token(API, OTHER_ORG)),
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
            ],
        )
        .await;
        run(
            &server,
            path_segment_cases(front_end, &server, resource_token),
        )
        .await;
    }
}

/// Where the front ends' routers genuinely differ on the organization segment.
/// Either way the policy decides on the value the handler receives, and
/// fails closed: warp's `path!` hands the raw segment (`acme%20corp`) and
/// refuses an empty one as no route; axum's `Path` hands the percent-decoded
/// segment (`acme corp`) and matches an empty one, which names no organization;
/// `tower_app`'s router hands the raw segment and matches an empty one.
fn path_segment_cases(
    front_end: FrontEnd,
    server: &Server,
    resource_token: impl Fn(&str, &str) -> String,
) -> Vec<Case> {
    let get = |path: &str, org: &str| {
        server
            .get(path)
            .header(AUTHORIZATION, bearer(&resource_token(API, org)))
    };
    let (raw, decoded, empty) = match front_end {
        FrontEnd::Warp => (
            Expect::ok().json("/org", json!("acme%20corp")),
            Expect::denied("organization_mismatch"),
            Expect::status(404).no_challenge(),
        ),
        FrontEnd::Axum => (
            Expect::denied("organization_mismatch"),
            Expect::ok().json("/org", json!("acme corp")),
            Expect::denied("missing_organization"),
        ),
        FrontEnd::Tower => (
            Expect::ok().json("/org", json!("acme%20corp")),
            Expect::denied("organization_mismatch"),
            Expect::denied("missing_organization"),
        ),
        FrontEnd::Actix => (
            Expect::denied("organization_mismatch"),
            Expect::ok().json("/org", json!("acme corp")),
            Expect::status(404).no_challenge(),
        ),
    };
    vec![
        case(
            "percent-encoded segment, token for the raw text",
            get("/orgs/acme%20corp/data", "acme%20corp"),
            raw,
        ),
        case(
            "percent-encoded segment, token for the decoded text",
            get("/orgs/acme%20corp/data", "acme corp"),
            decoded,
        ),
        case(
            "an empty organization segment",
            get("/orgs//data", ""),
            empty,
        ),
    ]
}

// ===== organization from a header or the query string =====

#[tokio::test]
async fn header_org_source_allows_only_the_one_organization_the_header_names() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let token = issuer
            .token()
            .for_organization(ORG)
            .scopes(["manage:billing"])
            .sign();
        let billing = || server.get("/billing").header(AUTHORIZATION, bearer(&token));
        run(
            &server,
            vec![
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
            ],
        )
        .await;
        // An empty header names no organization, even for a token whose audience
        // is the bare `urn:logto:organization:` prefix.
        let no_org = issuer
            .token()
            .for_organization("")
            .scopes(["manage:billing"])
            .sign();
        run(
            &server,
            vec![case(
                "an empty header",
                server
                    .get("/billing")
                    .header(AUTHORIZATION, bearer(&no_org))
                    .header("X-Organization-Id", ""),
                Expect::denied("missing_organization"),
            )],
        )
        .await;
    }
}

#[tokio::test]
async fn query_org_source_allows_only_the_one_organization_the_query_names() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let reports_token = |org: &str| {
            issuer
                .token()
                .for_org_resource(API, org)
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
        run(&server, cases).await;
    }
}

#[tokio::test]
async fn macro_free_require_reads_a_header_no_declaration_names() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let token = issuer
            .token()
            .for_organization(ORG)
            .scopes(["audit:read"])
            .sign();
        let audit = || server.get("/audit").header(AUTHORIZATION, bearer(&token));
        run(
            &server,
            vec![
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
            ],
        )
        .await;
    }
}

// ===== keys: rotation, issuer outage =====

#[tokio::test]
async fn key_rotation_while_the_server_runs_accepts_tokens_with_the_new_kid() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
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
}

#[tokio::test]
async fn issuer_down_with_warm_key_cache_still_serves_200() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let first = global_token(&issuer, &["api:read"]);
        let response = get_with_token(&server, "/api/protected", &first).await;
        assert_eq!(response.status, 200, "{response:?}");

        issuer.stop().await;
        // The same token (verified-token cache) and a new one (key cache) both pass.
        let response = get_with_token(&server, "/api/protected", &first).await;
        assert_eq!(response.status, 200, "{response:?}");
        let second = issuer
            .token()
            .for_global_api(API)
            .subject("user-2")
            .scopes(["api:read"])
            .sign();
        let response = get_with_token(&server, "/api/protected", &second).await;
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.json()["auth"]["sub"], "user-2", "{response:?}");
    }
}

#[tokio::test]
async fn unknown_kid_with_the_issuer_down_is_503_with_retry_after() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let warm = global_token(&issuer, &["api:read"]);
        let response = get_with_token(&server, "/api/protected", &warm).await;
        assert_eq!(response.status, 200, "{response:?}");

        issuer.stop().await;
        let unknown = issuer
            .token()
            .for_global_api(API)
            .scopes(["api:read"])
            .kid("never-published")
            .sign();
        let response = get_with_token(&server, "/api/protected", &unknown).await;
        assert_eq!(response.status, 503, "{response:?}");
        let retry_after: u64 = response
            .header(RETRY_AFTER)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("Retry-After in whole seconds: {response:?}"));
        assert!(retry_after >= 1, "{front_end}: {retry_after}");
        assert!(response.header(WWW_AUTHENTICATE).is_none(), "{response:?}");
        assert_eq!(response.code(), "keys_unavailable", "{response:?}");
    }
}

#[tokio::test]
async fn issuer_down_before_the_first_request_is_503_with_retry_after() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        issuer.stop().await;
        let token = global_token(&issuer, &["api:read"]);
        let response = get_with_token(&server, "/api/protected", &token).await;
        assert_eq!(response.status, 503, "{response:?}");
        assert!(response.header(RETRY_AFTER).is_some(), "{response:?}");

        // Once the issuer is back (and the failure back-off is over), it recovers.
        issuer.restart().await;
        tokio::time::sleep(RETRY_AFTER_FAILURE + Duration::from_millis(100)).await;
        let response = get_with_token(&server, "/api/protected", &token).await;
        assert_eq!(response.status, 200, "{response:?}");
    }
}

// ===== policy before body =====

#[tokio::test]
async fn policy_is_decided_before_the_body_is_read() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
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
        run(
            &server,
            vec![
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
            ],
        )
        .await;
    }
}

// ===== metadata, challenges, pass-through =====

#[tokio::test]
async fn protected_resource_metadata_lists_resource_issuer_and_declared_scopes() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let response = server
            .send(server.get("/.well-known/oauth-protected-resource"))
            .await;
        assert_eq!(response.status, 200, "{response:?}");
        let metadata = response.json();
        assert_eq!(metadata["resource"], API, "{front_end}");
        assert_eq!(
            metadata["authorization_servers"],
            json!([issuer.issuer()]),
            "{front_end}"
        );
        // Every scope of the `#[requires]` declarations of this program, sorted
        // (as documented, the macro-free `GET /audit` policy's scope is not among them).
        // The program is the whole test binary: `admin` and `support` come from the
        // `any_scopes` declarations of the `requires` module, `orders:read` from the
        // `issuers` module, `payments:write` from the `dpop` module, the rest from
        // this one.
        assert_eq!(
            metadata["scopes_supported"],
            json!([
                "admin",
                "api:read",
                "api:write",
                "invite:member",
                "manage:billing",
                "orders:read",
                "payments:write",
                "reports:read",
                "support"
            ]),
            "{front_end}"
        );
        assert_eq!(
            metadata["bearer_methods_supported"],
            json!(["header"]),
            "{front_end}"
        );
    }
}

#[tokio::test]
async fn resource_metadata_url_is_advertised_in_the_401_challenge() {
    for front_end in FrontEnd::ALL {
        let issuer = start_issuer().await;
        let validator = validator(&issuer)
            .resource_metadata(METADATA_URL)
            .build()
            .unwrap();
        let server = Server::start(app(front_end, validator)).await;
        let response = server.send(server.get("/api/protected")).await;
        assert_eq!(response.status, 401, "{response:?}");
        assert_eq!(
            response.challenge(),
            format!("Bearer resource_metadata=\"{METADATA_URL}\""),
            "{response:?}"
        );
        // Other errors keep their own challenge.
        let response = get_with_token(&server, "/api/protected", "not.a.token").await;
        assert_invalid_token(&response, "malformed_token");
    }
}

#[tokio::test]
async fn unmatched_paths_and_methods_are_404_and_405_without_a_challenge() {
    for front_end in FrontEnd::ALL {
        let (issuer, server) = setup(front_end).await;
        let token = global_token(&issuer, &["api:read"]);
        let with_token = |request: reqwest::RequestBuilder, token: &str| {
            request.header(AUTHORIZATION, bearer(token))
        };
        let mut cases = vec![
            case(
                "unknown path",
                server.get("/nope"),
                Expect::status(404).no_challenge(),
            ),
            // Credentials, good or bad, do not turn a missing route into 401 or 400.
            case(
                "unknown path with a valid token",
                with_token(server.get("/api/nope"), &token),
                Expect::status(404),
            ),
            case(
                "unknown path with a bad token",
                with_token(server.get("/nope"), "not.a.token"),
                Expect::status(404).no_challenge(),
            ),
            case(
                "wrong method on a known path",
                server.get("/api/products"),
                Expect::status(405).no_challenge(),
            ),
            // The method is decided before the token, on routes with the
            // attribute and on the macro-free one alike.
            case(
                "wrong method on a protected path with a bad token",
                with_token(server.post("/api/protected"), "not.a.token"),
                Expect::status(405).no_challenge(),
            ),
            case(
                "wrong method on the macro-free path without a token",
                client().delete(server.url("/audit")),
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
        // The statuses agree; around them each framework has its own habits.
        // axum, actix and `tower_app`'s router list the route's methods in
        // `Allow` (as RFC 9110 asks of a 405), warp sends none. axum answers
        // HEAD on a GET route with the GET handler, so the request is
        // authorized like a GET (401 without a token); warp's `get()`,
        // actix's `web::get()` and `tower_app`'s router do not match HEAD,
        // hence 405.
        let (allow, head) = match front_end {
            FrontEnd::Warp => (Challenge::Absent, Expect::status(405).no_challenge()),
            FrontEnd::Axum => (
                Challenge::Exactly("POST".into()),
                Expect::status(401).challenge("Bearer"),
            ),
            FrontEnd::Tower | FrontEnd::Actix => (
                Challenge::Exactly("POST".into()),
                Expect::status(405).no_challenge(),
            ),
        };
        cases.push(case(
            "HEAD on a GET route, without a token",
            client().head(server.url("/api/protected")),
            head,
        ));
        run(&server, cases).await;
        let response = server.send(server.get("/api/products")).await;
        allow.check(&format!("{response:?}"), response.header(ALLOW));
    }
}
