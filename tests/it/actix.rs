//! The actix-web front end beyond the shared end-to-end table (where it runs
//! as `FrontEnd::Actix`): bodies that must not be read (behind the
//! middleware, and behind a `#[requires]` handler's extractor while its
//! decision waits for the issuer's keys), `OptionalAuthInfo`, a missing
//! validator, and `org_from = path` through `web::Path` tuples and structs.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::{Service as _, ServiceResponse};
use actix_web::{App, HttpMessage as _, HttpResponse, test, web};
use bearer_policy::actix::{BearerMiddleware, OptionalAuthInfo, Rejected};
use bearer_policy::{AuthInfo, Model, Policy, requires};
use serde_json::{Value, json};

use crate::common::actix_body::record_reads;
use crate::common::{API, start_issuer};

/// Reads the whole body: what a handler behind the middleware does.
async fn echo(auth: AuthInfo, body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "sub": auth.sub(), "bytes": body.len() }))
}

#[requires(model = global_api, scopes("api:write"))]
async fn upload(auth: AuthInfo, body: web::Bytes) -> Result<HttpResponse, Rejected> {
    Ok(HttpResponse::Ok().json(json!({ "sub": auth.sub(), "bytes": body.len() })))
}

/// An app whose request bodies set `read` once any of their bytes is read.
macro_rules! recording_app {
    ($read:expr, $app:expr) => {
        $app.wrap_fn(|mut request, service| {
            let recorded = record_reads(&mut request.take_payload(), $read);
            request.set_payload(recorded);
            service.call(request)
        })
    };
}

fn post(path: &str, token: Option<&str>, body: &'static str) -> test::TestRequest {
    let mut request = test::TestRequest::post().uri(path).set_payload(body);
    if let Some(token) = token {
        request = request.insert_header(("authorization", format!("Bearer {token}")));
    }
    request
}

async fn json_of(response: ServiceResponse) -> Value {
    serde_json::from_slice(&test::read_body(response).await).unwrap()
}

#[actix_web::test]
async fn the_middleware_never_reads_the_body_of_a_request_it_refuses() {
    static READ: AtomicBool = AtomicBool::new(false);
    let issuer = start_issuer().await;
    let validator = issuer.validator(API);
    let app = test::init_service(recording_app!(
        &READ,
        App::new().service(
            web::scope("/api")
                .wrap(
                    BearerMiddleware::new(validator)
                        .require(Policy::new(Model::GlobalApi).scopes(["api:write"])),
                )
                .route("/upload", web::post().to(echo)),
        )
    ))
    .await;
    let reader = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    let writer = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:write"])
        .sign();

    for (token, status) in [
        (None, 401),
        (Some("not.a.token"), 401),
        (Some(reader.as_str()), 403),
    ] {
        let response =
            test::call_service(&app, post("/api/upload", token, "payload").to_request()).await;
        assert_eq!(response.status(), status, "{token:?}");
        assert!(response.headers().contains_key("www-authenticate"));
        assert!(!READ.load(Ordering::SeqCst), "{token:?}: the body was read");
    }
    let response = test::call_service(
        &app,
        post("/api/upload", Some(&writer), "payload").to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        READ.load(Ordering::SeqCst),
        "an allowed request's body is read"
    );
    assert_eq!(json_of(response).await["bytes"], 7);
}

#[actix_web::test]
async fn a_requires_handler_holds_the_body_back_until_it_has_decided() {
    static READ: AtomicBool = AtomicBool::new(false);
    let issuer = start_issuer().await;
    // A fresh validator: the first request waits for the issuer's keys, and
    // the body extractor after `auth` is polled meanwhile.
    let app = test::init_service(recording_app!(
        &READ,
        App::new()
            .app_data(issuer.validator(API))
            .route("/upload", web::post().to(upload))
    ))
    .await;
    let reader = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    let response =
        test::call_service(&app, post("/upload", Some(&reader), "payload").to_request()).await;
    assert_eq!(response.status(), 403);
    assert_eq!(json_of(response).await["code"], "insufficient_scope");
    assert!(
        !READ.load(Ordering::SeqCst),
        "a refused request's body was read"
    );

    let writer = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:write"])
        .sign();
    let response =
        test::call_service(&app, post("/upload", Some(&writer), "payload").to_request()).await;
    assert_eq!(response.status(), 200);
    assert!(READ.load(Ordering::SeqCst));
    assert_eq!(json_of(response).await["bytes"], 7);
}

async fn greeting(caller: OptionalAuthInfo) -> HttpResponse {
    let who = caller
        .as_ref()
        .and_then(AuthInfo::sub)
        .unwrap_or("stranger");
    HttpResponse::Ok().body(format!("hello, {who}"))
}

#[actix_web::test]
async fn optional_auth_info_is_none_without_a_header_and_refuses_a_bad_token() {
    let issuer = start_issuer().await;
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(issuer.validator(API)))
            .route("/hello", web::get().to(greeting)),
    )
    .await;
    let get = |token: Option<&str>| {
        let mut request = test::TestRequest::get().uri("/hello");
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        request.to_request()
    };
    let anonymous = test::call_service(&app, get(None)).await;
    assert_eq!(anonymous.status(), 200);
    assert_eq!(test::read_body(anonymous).await, "hello, stranger");

    let forged = test::call_service(&app, get(Some("not.a.token"))).await;
    assert_eq!(
        forged.status(),
        401,
        "a bad token is refused, not anonymous"
    );
    assert_eq!(json_of(forged).await["code"], "malformed_token");

    let token = issuer.token().for_global_api(API).subject("ada").sign();
    let known = test::call_service(&app, get(Some(&token))).await;
    assert_eq!(known.status(), 200);
    assert_eq!(test::read_body(known).await, "hello, ada");
}

#[actix_web::test]
async fn a_missing_validator_is_a_500_that_names_the_fix() {
    let app = test::init_service(App::new().route("/upload", web::post().to(upload))).await;
    let response =
        test::call_service(&app, post("/upload", Some("a.b.c"), "payload").to_request()).await;
    assert_eq!(response.status(), 500);
    let body = json_of(response).await;
    assert_eq!(body["code"], "validator_missing");
    assert!(
        body["error"].as_str().unwrap().contains(".app_data("),
        "{body}"
    );
}

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn item(path: web::Path<(String, u32)>, auth: AuthInfo) -> Result<HttpResponse, Rejected> {
    let (org_id, item) = path.into_inner();
    Ok(HttpResponse::Ok().json(json!({ "org": org_id, "item": item, "sub": auth.sub() })))
}

#[derive(serde::Deserialize)]
struct TenantItem {
    tenant: String,
    item: u32,
}

#[requires(model = org_resource, scopes("api:read"), org_from = path(tenant))]
async fn tenant_item(
    params: web::Path<TenantItem>,
    auth: AuthInfo,
) -> Result<HttpResponse, Rejected> {
    Ok(HttpResponse::Ok()
        .json(json!({ "org": params.tenant, "item": params.item, "sub": auth.sub() })))
}

#[actix_web::test]
async fn org_from_path_reads_the_route_parameter_inside_a_path_tuple_or_struct() {
    let issuer = start_issuer().await;
    let app = test::init_service(
        App::new()
            .app_data(issuer.validator(API))
            .route("/orgs/{org_id}/items/{item}", web::get().to(item))
            .route("/tenants/{tenant}/items/{item}", web::get().to(tenant_item)),
    )
    .await;
    let acme = issuer
        .token()
        .for_org_resource(API, "acme")
        .scopes(["api:read"])
        .sign();
    let get = |path: &str| {
        test::TestRequest::get()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {acme}")))
            .to_request()
    };
    for path in ["/orgs/acme/items/7", "/tenants/acme/items/7"] {
        let response = test::call_service(&app, get(path)).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(json_of(response).await["org"], "acme", "{path}");
    }
    // The item's number is never taken for the organization.
    for path in [
        "/orgs/globex/items/7",
        "/tenants/globex/items/7",
        "/orgs/7/items/7",
    ] {
        let response = test::call_service(&app, get(path)).await;
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(
            json_of(response).await["code"],
            "organization_mismatch",
            "{path}"
        );
    }
    // Called directly, no route names the organization: refused.
    let auth = issuer.validator(API).validate(&acme).await.unwrap();
    let direct = item(web::Path::from(("acme".to_owned(), 7)), auth.into()).await;
    assert_eq!(direct.unwrap_err().error().code(), "missing_organization");
}
