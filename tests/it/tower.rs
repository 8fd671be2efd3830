//! The tower layer, framework-free: `BearerLayer` over a bare
//! `tower::service_fn` driven with `oneshot`, and served by hyper on
//! loopback. No axum, no warp. Every request body is a tripwire that records
//! being polled, so each refusal also proves the body was never read.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bearer_policy::tower::{Bearer, BearerLayer, ResponseBody};
use bearer_policy::{AuthInfo, Model, OrgSource, Policy, requires};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use serde_json::json;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt, service_fn};

use crate::common::{self, API, App, Expect, Server, bearer, fast, start_issuer};

const ORG: &str = "acme";
const OTHER_ORG: &str = "globex";
const METADATA_URL: &str = "https://api.example.com/.well-known/oauth-protected-resource";

// ===== the inner service and the request body =====

/// A request body that records being polled, and then ends.
struct Tripwire {
    polled: Arc<AtomicBool>,
    data: Option<Bytes>,
}

impl Body for Tripwire {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.polled.store(true, Ordering::SeqCst);
        Poll::Ready(self.data.take().map(|data| Ok(Frame::data(data))))
    }
}

fn tripwire(data: &'static str) -> (Tripwire, Arc<AtomicBool>) {
    let polled = Arc::new(AtomicBool::new(false));
    let body = Tripwire {
        polled: polled.clone(),
        data: Some(Bytes::from_static(data.as_bytes())),
    };
    (body, polled)
}

/// The protected service: answers with the `AuthInfo` it finds in the
/// request's extensions and the body it read, or 500 without an `AuthInfo`.
async fn echo<B: Body>(request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    let Some(auth) = request.extensions().get::<AuthInfo>().cloned() else {
        let mut response = Response::new(Full::from("no AuthInfo in the extensions"));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return Ok(response);
    };
    let body = match request.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => "<body error>".to_owned(),
    };
    let json = json!({ "auth": auth, "body": body });
    Ok(Response::new(Full::from(json.to_string())))
}

// ===== fixtures =====

/// `GET /reports`-like handler written with the macro: the layer requires its
/// `POLICY`, and the handler checks it again when called.
#[requires(model = org_resource, scopes("reports:read"), org_from = query("organization_id"))]
fn tower_reports(auth: AuthInfo) -> Result<String, bearer_policy::Denied> {
    Ok(auth.organization_id().unwrap_or_default().to_owned())
}

fn read_policy() -> Policy {
    Policy::new(Model::GlobalApi).scopes(["api:read"])
}

fn billing_policy() -> Policy {
    Policy::new(Model::OrgPermission)
        .scopes(["manage:billing"])
        .organization(OrgSource::Header("X-Organization-Id".into()))
}

fn path_policy() -> Policy {
    Policy::new(Model::OrgResource)
        .scopes(["api:read"])
        .organization(OrgSource::PathParam("org_id".into()))
}

fn request(authorization: Option<&str>, uri: &str) -> http::request::Builder {
    let builder = Request::builder().uri(uri);
    match authorization {
        Some(value) => builder.header(AUTHORIZATION, value),
        None => builder,
    }
}

// ===== table-driven cases =====

/// A named request for one of the layers, and what it must get.
struct Case<'a> {
    name: &'static str,
    layer: &'a BearerLayer,
    request: http::request::Builder,
    expect: Expect,
}

fn case<'a>(
    name: &'static str,
    layer: &'a BearerLayer,
    request: http::request::Builder,
    expect: Expect,
) -> Case<'a> {
    Case {
        name,
        layer,
        request,
        expect,
    }
}

#[tokio::test]
async fn layer_over_a_bare_service_fn_answers_each_case_with_its_status_and_never_reads_refused_bodies()
 {
    let issuer = start_issuer().await;
    let validator = fast(&issuer).build().unwrap();
    let authenticate = BearerLayer::new(validator.clone());
    let read = BearerLayer::new(validator.clone()).require(read_policy());
    let billing = BearerLayer::new(validator.clone()).require(billing_policy());
    let reports = BearerLayer::new(validator.clone()).require(&tower_reports::POLICY);
    let path = BearerLayer::new(validator.clone()).require(path_policy());
    let both = BearerLayer::new(validator.clone())
        .require(billing_policy())
        .require(
            Policy::new(Model::OrgPermission)
                .scopes(["invite:member"])
                .organization(OrgSource::Header("X-Organization-Id".into())),
        );
    let with_metadata = BearerLayer::new(
        fast(&issuer)
            .resource_metadata(METADATA_URL)
            .build()
            .unwrap(),
    )
    .require(read_policy());
    // An issuer that is down before the first request: no keys to be had.
    let down = start_issuer().await;
    let down_layer = BearerLayer::new(fast(&down).build().unwrap());
    let down_token = down.token().for_global_api(API).scopes(["api:read"]).sign();
    down.stop().await;

    let global = |scopes: &[&str]| {
        issuer
            .token()
            .for_global_api(API)
            .subject("user-1")
            .scopes(scopes.iter().copied())
            .sign()
    };
    let reader = Some(bearer(&global(&["api:read"])));
    let writer = Some(bearer(&global(&["api:write"])));
    let org_token = Some(bearer(
        &issuer
            .token()
            .for_organization(ORG)
            .scopes(["manage:billing", "api:read"])
            .sign(),
    ));
    let inviter = Some(bearer(
        &issuer
            .token()
            .for_organization(ORG)
            .scopes(["manage:billing", "invite:member"])
            .sign(),
    ));
    let empty_org_token = Some(bearer(
        &issuer
            .token()
            .for_organization("")
            .scopes(["manage:billing"])
            .sign(),
    ));
    let org_resource = Some(bearer(
        &issuer
            .token()
            .for_org_resource(API, ORG)
            .scopes(["reports:read", "api:read"])
            .sign(),
    ));
    // Another issuer's key signing a token that claims to come from ours.
    let foreign = Some(bearer(
        &start_issuer()
            .await
            .token()
            .for_global_api(API)
            .issuer(issuer.issuer())
            .scopes(["api:read"])
            .sign(),
    ));
    let get = |auth: &Option<String>, uri: &str| request(auth.as_deref(), uri);
    let with_org = |auth: &Option<String>, orgs: &[&str]| {
        orgs.iter().fold(get(auth, "/billing"), |r, org| {
            r.header("X-Organization-Id", *org)
        })
    };

    let cases = vec![
        case(
            "authenticate only, valid token: the service sees the AuthInfo",
            &authenticate,
            get(&reader, "/me"),
            Expect::ok()
                .json("/auth/sub", json!("user-1"))
                .json("/auth/scopes", json!(["api:read"])),
        ),
        case(
            "authenticate only, a token for another scope still passes",
            &authenticate,
            get(&writer, "/me"),
            Expect::ok(),
        ),
        case(
            "no Authorization header: 401 with a bare challenge",
            &read,
            get(&None, "/"),
            Expect::status(401)
                .challenge("Bearer")
                .code("missing_authorization"),
        ),
        case(
            "another scheme: 401 with a bare challenge",
            &read,
            request(Some("Basic dXNlcjpwYXNz"), "/"),
            Expect::status(401)
                .challenge("Bearer")
                .code("unsupported_scheme"),
        ),
        case(
            "malformed header: a space inside the token",
            &read,
            request(Some("Bearer a b"), "/"),
            Expect::invalid_request("invalid_token_characters"),
        ),
        case(
            "malformed header: two Authorization values",
            &read,
            get(&reader, "/").header(AUTHORIZATION, reader.as_deref().unwrap()),
            Expect::invalid_request("multiple_authorization_headers"),
        ),
        case(
            "not a JWT: 401 invalid_token",
            &read,
            request(Some("Bearer not.a.token"), "/"),
            Expect::invalid_token(Some("malformed_token")),
        ),
        case(
            "bad token: another issuer's key under the same kid, 401 invalid_token",
            &read,
            get(&foreign, "/"),
            Expect::invalid_token(Some("invalid_signature")),
        ),
        case(
            "the required scope",
            &read,
            get(&reader, "/"),
            Expect::ok().json("/auth/sub", json!("user-1")),
        ),
        case(
            "the wrong scope: 403 naming the missing one",
            &read,
            get(&writer, "/"),
            Expect::status(403)
                .challenge("Bearer error=\"insufficient_scope\", scope=\"api:read\"")
                .code("insufficient_scope"),
        ),
        case(
            "organization from the header: the token's",
            &billing,
            with_org(&org_token, &[ORG]),
            Expect::ok().json(
                "/auth/audience",
                json!([format!("urn:logto:organization:{ORG}")]),
            ),
        ),
        case(
            "organization from the header: another one",
            &billing,
            with_org(&org_token, &[OTHER_ORG]),
            Expect::denied("organization_mismatch"),
        ),
        case(
            "organization from the header: none",
            &billing,
            with_org(&org_token, &[]),
            Expect::denied("missing_organization"),
        ),
        case(
            "organization from the header: empty, with a token for the empty organization",
            &billing,
            with_org(&empty_org_token, &[""]),
            Expect::denied("missing_organization"),
        ),
        case(
            "organization from the header: two values, even if the first matches",
            &billing,
            with_org(&org_token, &[ORG, OTHER_ORG]),
            Expect::denied("ambiguous_organization"),
        ),
        case(
            "organization from the query, a #[requires] POLICY: the token's",
            &reports,
            get(
                &org_resource,
                &format!("/reports?page=2&organization_id={ORG}"),
            ),
            Expect::ok().json("/auth/organizationId", json!(ORG)),
        ),
        case(
            "organization from the query: another one",
            &reports,
            get(
                &org_resource,
                &format!("/reports?organization_id={OTHER_ORG}"),
            ),
            Expect::denied("organization_mismatch"),
        ),
        case(
            "organization from a path parameter: tower has none, fails closed",
            &path,
            get(&org_resource, &format!("/orgs/{ORG}/data")),
            Expect::denied("missing_organization"),
        ),
        case(
            "two required sets: both hold",
            &both,
            with_org(&inviter, &[ORG]),
            Expect::ok(),
        ),
        case(
            "two required sets: the second refuses",
            &both,
            with_org(&org_token, &[ORG]),
            Expect::status(403)
                .challenge("Bearer error=\"insufficient_scope\", scope=\"invite:member\"")
                .code("insufficient_scope"),
        ),
        case(
            "metadata configured: advertised in the 401 challenge",
            &with_metadata,
            get(&None, "/"),
            Expect::status(401)
                .challenge(format!("Bearer resource_metadata=\"{METADATA_URL}\""))
                .code("missing_authorization"),
        ),
        case(
            "metadata configured: other refusals keep their own challenge",
            &with_metadata,
            get(&writer, "/"),
            Expect::denied("insufficient_scope"),
        ),
        case(
            "issuer down before the first request: 503 without a challenge",
            &down_layer,
            get(&Some(bearer(&down_token)), "/"),
            Expect::status(503).no_challenge().code("keys_unavailable"),
        ),
    ];

    for Case {
        name,
        layer,
        request,
        expect,
    } in cases
    {
        let (body, polled) = tripwire("payload");
        let request = request.body(body).unwrap();
        let response: Response<ResponseBody<Full<Bytes>>> = layer
            .layer(service_fn(echo))
            .oneshot(request)
            .await
            .unwrap();
        let response = common::Response::read_http("tower", response).await;
        expect.check(name, &response);
        let polled = polled.load(Ordering::SeqCst);
        let json = response.json();
        if expect.status == 200 {
            assert_eq!(json["body"], "payload", "{name}: the service read the body");
            assert!(polled, "{name}");
        } else {
            // Exactly the `{"error", "code"}` body of `error_response`.
            assert!(json["error"].is_string(), "{name}: {response:?}");
            assert_eq!(json.as_object().unwrap().len(), 2, "{name}: {response:?}");
            assert_eq!(
                response.header(CONTENT_TYPE),
                Some("application/json"),
                "{name}"
            );
            assert!(!polled, "{name}: the body of a refused request was polled");
        }
        if response.status == 503 {
            let retry_after: u64 = response.header(RETRY_AFTER).unwrap().parse().unwrap();
            assert!(retry_after >= 1, "{name}: {response:?}");
        } else {
            assert_eq!(response.header(RETRY_AFTER), None, "{name}: {response:?}");
        }
    }
}

#[tokio::test]
async fn refused_requests_never_reach_the_inner_service() {
    let issuer = start_issuer().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = {
        let calls = calls.clone();
        service_fn(move |request: Request<Tripwire>| {
            calls.fetch_add(1, Ordering::SeqCst);
            echo(request)
        })
    };
    let service = BearerLayer::new(issuer.validator(API))
        .require(read_policy())
        .layer(counted);
    let writer = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:write"])
        .sign();
    let reader = issuer
        .token()
        .for_global_api(API)
        .scopes(["api:read"])
        .sign();
    for (token, status, expected_calls) in [(writer, 403, 0), (reader, 200, 1)] {
        let (body, polled) = tripwire("payload");
        let request = request(Some(&bearer(&token)), "/").body(body).unwrap();
        let response = service.clone().oneshot(request).await.unwrap();
        let response = common::Response::read_http("tower", response).await;
        assert_eq!(response.status, status, "{response:?}");
        assert_eq!(calls.load(Ordering::SeqCst), expected_calls);
        assert_eq!(polled.load(Ordering::SeqCst), status == 200);
    }
}

/// An inner service that is not ready at first, and whose clones are not
/// ready either (as a clone of a concurrency-limited service holds no
/// permit): calling an instance that `poll_ready` did not ready is a 500.
struct ReadyOnce {
    ready: bool,
    polls: Arc<AtomicUsize>,
}

impl Clone for ReadyOnce {
    fn clone(&self) -> Self {
        ReadyOnce {
            ready: false,
            polls: self.polls.clone(),
        }
    }
}

impl Service<Request<Tripwire>> for ReadyOnce {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if self.polls.fetch_add(1, Ordering::SeqCst) == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Tripwire>) -> Self::Future {
        let was_ready = std::mem::replace(&mut self.ready, false);
        Box::pin(async move {
            if !was_ready {
                let mut response = Response::new(Full::from("called without poll_ready"));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return Ok(response);
            }
            echo(request).await
        })
    }
}

#[tokio::test]
async fn inner_readiness_is_passed_through_and_the_readied_instance_is_called() {
    let issuer = start_issuer().await;
    let polls = Arc::new(AtomicUsize::new(0));
    let inner = ReadyOnce {
        ready: false,
        polls: polls.clone(),
    };
    let mut service: Bearer<ReadyOnce> = BearerLayer::new(issuer.validator(API)).layer(inner);
    let token = issuer.token().for_global_api(API).sign();

    // The layer is pending while its inner service is.
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert!(service.poll_ready(&mut cx).is_pending());
    for round in 0..3 {
        let (body, _) = tripwire("payload");
        let request = request(Some(&bearer(&token)), "/").body(body).unwrap();
        // `ready` polls the layer, which polls the inner instance; `call`
        // must hand the request to that very instance, not a fresh clone.
        let response = service.ready().await.unwrap().call(request).await;
        let response = common::Response::read_http("tower", response.unwrap()).await;
        assert_eq!(response.status, 200, "round {round}: {response:?}");
    }
    assert_eq!(
        polls.load(Ordering::SeqCst),
        4,
        "one Pending, then one per request"
    );
}

#[tokio::test]
async fn served_by_hyper_on_loopback_without_any_framework() {
    let issuer = start_issuer().await;
    let service = BearerLayer::new(issuer.validator(API))
        .require(billing_policy())
        .layer(service_fn(echo::<hyper::body::Incoming>));
    let server = Server::start(App::Tower(BoxCloneSyncService::new(service))).await;

    let token = issuer
        .token()
        .for_organization(ORG)
        .subject("user-7")
        .scopes(["manage:billing"])
        .sign();
    let send = |org: &'static str, authorization: Option<String>| {
        let request = server
            .post("/billing")
            .header("X-Organization-Id", org)
            .body("payload");
        server.send(match authorization {
            Some(value) => request.header(AUTHORIZATION, value),
            None => request,
        })
    };

    let ok = send(ORG, Some(bearer(&token))).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let json = ok.json();
    assert_eq!(json["auth"]["sub"], "user-7");
    assert_eq!(json["body"], "payload");

    let anonymous = send(ORG, None).await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert_eq!(anonymous.challenge(), "Bearer");
    assert_eq!(
        anonymous.json(),
        json!({ "error": "Authorization header is missing", "code": "missing_authorization" })
    );

    let other_org = send(OTHER_ORG, Some(bearer(&token))).await;
    assert_eq!(other_org.status, 403, "{other_org:?}");
    assert_eq!(other_org.code(), "organization_mismatch");
}

#[tokio::test]
async fn a_requires_handler_behind_the_layer_takes_the_auth_info_from_the_extensions() {
    let issuer = start_issuer().await;
    let service = BearerLayer::new(issuer.validator(API))
        .require(&tower_reports::POLICY)
        .layer(service_fn(|request: Request<Full<Bytes>>| async move {
            let auth = request.extensions().get::<AuthInfo>().cloned().unwrap();
            // The handler checks its policy again against the captured query.
            // `.into()`: the handler's parameter is `Authorized` where `#[requires]`
            // types it so, a plain `AuthInfo` otherwise.
            #[allow(clippy::useless_conversion)]
            let org = tower_reports(auth.into()).unwrap();
            Ok::<_, Infallible>(Response::new(Full::from(org)))
        }));
    let token = issuer
        .token()
        .for_org_resource(API, ORG)
        .scopes(["reports:read"])
        .sign();
    let request = request(
        Some(&bearer(&token)),
        &format!("/reports?organization_id={ORG}"),
    )
    .body(Full::default())
    .unwrap();
    let response =
        common::Response::read_http("tower", service.oneshot(request).await.unwrap()).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), ORG);
}
