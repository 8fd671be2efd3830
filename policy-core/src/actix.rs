//! actix-web 4: extractors and a middleware over the shared request layer,
//! with the [`Validator`] taken from the app data (`App::app_data(validator)`
//! or `web::Data<Validator>`).
//!
//! - [`AuthInfo`] authenticates; [`OptionalAuthInfo`] yields `None` without
//!   an `Authorization` header (a bad token is still refused). Not
//!   `Option<AuthInfo>`: actix turns any extractor's error into `None` there,
//!   so a forged token would pass as an anonymous caller.
//! - [`Authorized<H>`](crate::Authorized), the type `#[requires]` gives a
//!   handler's `auth` parameter (`handler::Authorized`), authenticates and
//!   checks the declared policies. The body waits for the decision: until it
//!   is made, the request's payload is held back from every extractor after
//!   `auth`, and a refused request's body is never read. `#[requires]` makes
//!   a body extractor *before* `auth` a compile error, so the order of the
//!   parameters cannot undo this. One line on the handler is the whole
//!   protection.
//! - [`BearerMiddleware`] protects a scope (or an app, or a resource) of
//!   routes written without the macro under one policy set, on actix's
//!   `Transform`; the handlers take the [`AuthInfo`] it leaves in the
//!   request's extensions with the [`AuthInfo`] extractor.
//! - [`protected_resource_metadata`] serves RFC 9728 metadata.
//!
//! ```
//! # extern crate bearer_policy_core as bearer_policy;
//! use actix_web::{web, App, HttpResponse};
//! use bearer_policy::actix::{protected_resource_metadata, OptionalAuthInfo};
//! use bearer_policy::{AuthInfo, Validator};
//!
//! // With the `bearer-policy` crate: `#[requires(model = global_api,
//! // scopes("api:read"))]` on this handler, and its `auth: AuthInfo` is
//! // checked against the policy too (see `bearer_policy::guide::actix`).
//! async fn whoami(auth: AuthInfo) -> HttpResponse {
//!     HttpResponse::Ok().body(auth.sub().unwrap_or("?").to_owned())
//! }
//!
//! async fn greeting(caller: OptionalAuthInfo) -> HttpResponse {
//!     let who = caller.as_ref().and_then(AuthInfo::sub).unwrap_or("stranger");
//!     HttpResponse::Ok().body(format!("hello, {who}"))
//! }
//!
//! fn app(validator: Validator) {
//!     let _app = App::new()
//!         .app_data(validator.clone())
//!         .route("/me", web::get().to(whoami))
//!         .route("/hello", web::get().to(greeting))
//!         .service(protected_resource_metadata(&validator));
//! }
//! ```
//!
//! A policy whose organization comes from a path parameter reads the route's
//! parameter of that name (`/orgs/{org_id}/data`), percent-decoded as
//! `web::Path` hands it to the handler, so the policy decides on the value
//! the handler uses. Every refusal is a [`Rejected`], an actix
//! [`ResponseError`] answered with the status, `WWW-Authenticate` challenge,
//! `Retry-After` and JSON body of [`Rejected::response`]. A missing
//! validator is a 500 whose log line and body name the fix, never a panic.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{Future, Ready, ready};
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self as actix_header, HeaderName, HeaderValue};
use actix_web::{
    FromRequest, HttpMessage, HttpRequest, HttpResponse, Resource, ResponseError, web,
};
use bytes::Bytes;
use futures_core::Stream;

use crate::auth_info::AuthInfo;
use crate::authorized::{Authorized, DeclaredHandler, requirements_of};
use crate::error::Denied;
use crate::metadata::{PROTECTED_RESOURCE_METADATA_PATH, ResourceMetadata};
use crate::policy::PolicySet;
use crate::request::{PathParams, RequestHead, Requirements};
use crate::validator::Validator;

pub use crate::rejected::Rejected;

impl ResponseError for Rejected {
    fn status_code(&self) -> StatusCode {
        actix_status(self.error().status())
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        actix_response(self.response())
    }
}

impl ResponseError for Denied {
    /// A handler's own denial (`?` on a `Denied` in a handler returning
    /// `Result<_, actix_web::Error>`): 403, as [`Rejected`] answers it.
    fn status_code(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        Rejected::from(self.clone()).error_response()
    }
}

/// actix-web 4 is on `http` 0.2: its status, from ours.
fn actix_status(status: http::StatusCode) -> StatusCode {
    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The one refusal response ([`crate::error_response`]), as actix sends it.
fn actix_response(response: http::Response<String>) -> HttpResponse<BoxBody> {
    let (parts, body) = response.into_parts();
    let mut builder = HttpResponse::build(actix_status(parts.status));
    for (name, value) in &parts.headers {
        let name = HeaderName::from_bytes(name.as_str().as_bytes());
        let value = HeaderValue::from_bytes(value.as_bytes());
        // Both `http` versions accept the same names and values.
        if let (Ok(name), Ok(value)) = (name, value) {
            builder.append_header((name, value));
        }
    }
    builder.body(body)
}

/// No [`Validator`] in the app data: the server's configuration, not the
/// caller, is at fault (500).
#[derive(Debug, Clone, Copy)]
struct MissingValidator;

const MISSING_VALIDATOR: &str = "bearer_policy: no `Validator` in the actix app data: register it \
     with `App::new().app_data(validator.clone())` (or `.app_data(web::Data::new(validator))`)";

impl fmt::Display for MissingValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MISSING_VALIDATOR)
    }
}

impl ResponseError for MissingValidator {
    fn error_response(&self) -> HttpResponse<BoxBody> {
        tracing::error!("{MISSING_VALIDATOR}");
        let body = serde_json::json!({ "error": MISSING_VALIDATOR, "code": "validator_missing" });
        HttpResponse::InternalServerError().json(body)
    }
}

/// The validator of the app (or of the scope or resource) serving `request`.
fn app_validator(request: &HttpRequest) -> Result<Validator, MissingValidator> {
    if let Some(validator) = request.app_data::<Validator>() {
        return Ok(validator.clone());
    }
    request
        .app_data::<web::Data<Validator>>()
        .map(|validator| validator.get_ref().clone())
        .ok_or(MissingValidator)
}

/// A request's method and headers on the `http` 1 types that
/// [`RequestHead`] takes (actix-web 4 is on `http` 0.2).
struct Head {
    method: http::Method,
    headers: http::HeaderMap,
}

impl Head {
    /// The method, and the headers `requirements` read: copying the others
    /// would cost every request for nothing.
    fn of(request: &HttpRequest, requirements: &Requirements) -> Self {
        // actix parsed the method; an unreadable one cannot occur, and a
        // different one could only be refused later (fail closed).
        let method = http::Method::from_bytes(request.method().as_str().as_bytes())
            .unwrap_or(http::Method::CONNECT);
        let mut headers = http::HeaderMap::new();
        for (name, value) in request.headers() {
            if !requirements.reads_header(name.as_str()) {
                continue;
            }
            let name = http::HeaderName::from_bytes(name.as_str().as_bytes());
            let value = http::HeaderValue::from_bytes(value.as_bytes());
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.append(name, value);
            }
        }
        Head { method, headers }
    }
}

/// The route's parameters by name, percent-decoded as `web::Path`
/// deserialises them (`match_info` keeps `%2F`, `%25` and `%2B` encoded).
fn route_params(request: &HttpRequest) -> Vec<(&str, Cow<'_, str>)> {
    let quoter = actix_router::Quoter::new(b"", b"");
    request
        .match_info()
        .iter()
        .map(|(name, value)| {
            let value = match quoter.requote(value.as_bytes()) {
                Some(decoded) => Cow::Owned(String::from_utf8_lossy(&decoded).into_owned()),
                None => Cow::Borrowed(value),
            };
            (name, value)
        })
        .collect()
}

/// The one call to the authorize path, for an extractor or the middleware.
async fn authorize(
    requirements: &Requirements,
    validator: &Validator,
    request: &HttpRequest,
) -> Result<AuthInfo, Rejected> {
    let head = Head::of(request, requirements);
    // The route's parameters are looked up only for policies that read one.
    let decoded = match requirements.reads_path() {
        true => route_params(request),
        false => Vec::new(),
    };
    let named: Vec<(&str, &str)> = decoded.iter().map(|(n, v)| (*n, v.as_ref())).collect();
    let uri = request.uri();
    let head = RequestHead::from_path(&head.method, uri.path(), uri.query(), &head.headers)
        .with_path_params(PathParams::Named(&named));
    requirements.authorize(validator, &head).await
}

/// Whether the body may be read yet: closed until the decision, then open
/// (allowed) or shut (refused, or the decision dropped unmade).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum GateState {
    #[default]
    Closed,
    Open,
    Shut,
}

/// Shared by an extractor's decision and the payload it holds back; one
/// task polls both (actix extracts a handler's parameters in one future).
#[derive(Default)]
struct Gate {
    state: Cell<GateState>,
    waiting: RefCell<Option<Waker>>,
}

impl Gate {
    fn settle(&self, state: GateState) {
        self.state.set(state);
        if let Some(waker) = self.waiting.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// The request payload behind a [`Gate`]: a body extractor after `auth`
/// reads nothing until the decision allows the request.
struct GatedPayload {
    inner: Payload,
    gate: Rc<Gate>,
}

impl Stream for GatedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.gate.state.get() {
            GateState::Open => Pin::new(&mut this.inner).poll_next(cx),
            GateState::Shut => Poll::Ready(None),
            GateState::Closed => {
                *this.gate.waiting.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Puts the request's payload behind a gate, for the extractors after this
/// one; nothing to hold back for a request without a body.
fn hold_back(payload: &mut Payload) -> Option<Rc<Gate>> {
    if matches!(payload, Payload::None) {
        return None;
    }
    let gate = Rc::new(Gate::default());
    let inner = payload.take();
    *payload = Payload::Stream {
        payload: Box::pin(GatedPayload {
            inner,
            gate: Rc::clone(&gate),
        }),
    };
    Some(gate)
}

type Decision<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// The future of this module's extractors: the decision, then the gate of
/// the request's body opened (allowed) or shut (refused).
pub struct Extracting<T> {
    decision: Decision<T>,
    gate: Option<Rc<Gate>>,
}

impl<T: 'static> Extracting<T> {
    fn ready(result: Result<T, actix_web::Error>) -> Self {
        Extracting {
            decision: Box::pin(ready(result)),
            gate: None,
        }
    }

    fn deciding(
        payload: &mut Payload,
        decision: impl Future<Output = Result<T, actix_web::Error>> + 'static,
    ) -> Self {
        Extracting {
            decision: Box::pin(decision),
            gate: hold_back(payload),
        }
    }
}

impl<T> Future for Extracting<T> {
    type Output = Result<T, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = std::task::ready!(this.decision.as_mut().poll(cx));
        if let Some(gate) = this.gate.take() {
            gate.settle(match result {
                Ok(_) => GateState::Open,
                Err(_) => GateState::Shut,
            });
        }
        Poll::Ready(result)
    }
}

impl<T> Drop for Extracting<T> {
    fn drop(&mut self) {
        // Dropped undecided (another extractor failed first): the body stays unread.
        if let Some(gate) = self.gate.take() {
            gate.settle(GateState::Shut);
        }
    }
}

impl<T> fmt::Debug for Extracting<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extracting").finish_non_exhaustive()
    }
}

/// An extraction under `requirements`: the validator from the app data, the
/// body held back until the decision.
fn extract<T: 'static>(
    request: &HttpRequest,
    payload: &mut Payload,
    requirements: &'static Requirements,
    finish: fn(AuthInfo) -> T,
) -> Extracting<T> {
    let validator = match app_validator(request) {
        Ok(validator) => validator,
        Err(missing) => return Extracting::ready(Err(missing.into())),
    };
    let request = request.clone();
    Extracting::deciding(payload, async move {
        let auth = authorize(requirements, &validator, &request).await?;
        Ok(finish(auth))
    })
}

impl FromRequest for AuthInfo {
    type Error = actix_web::Error;
    type Future = Extracting<AuthInfo>;

    /// Authenticates only: no audience, scope or organization is checked (a
    /// route that only authenticates accepts a token the issuer signed for
    /// any of its APIs). Protect routes with `#[requires]` or
    /// [`BearerMiddleware::require`]. Behind the middleware, the `AuthInfo`
    /// it put in the request's extensions.
    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Behind `BearerMiddleware`, the request was already authorized.
        if let Some(auth) = request.extensions().get::<AuthInfo>() {
            return Extracting::ready(Ok(auth.clone()));
        }
        extract(
            request,
            payload,
            Requirements::authenticated_static(),
            |auth| auth,
        )
    }
}

impl<H: DeclaredHandler> FromRequest for Authorized<H> {
    type Error = actix_web::Error;
    type Future = Extracting<Authorized<H>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        extract(
            request,
            payload,
            requirements_of::<H>(),
            Authorized::decided_on_route,
        )
    }
}

/// The caller's [`AuthInfo`] if the request has an `Authorization` header:
/// for routes that serve everyone but more to the authenticated. A header
/// with a bad token is still refused, never downgraded to `None`.
///
/// This and not `Option<AuthInfo>`: actix extracts an `Option<T>` as `None`
/// whenever `T` fails, which would serve a forged or expired token as an
/// anonymous request.
#[derive(Debug, Clone, Default)]
pub struct OptionalAuthInfo(pub Option<AuthInfo>);

impl OptionalAuthInfo {
    /// The `AuthInfo`, if the request had one.
    pub fn into_inner(self) -> Option<AuthInfo> {
        self.0
    }
}

impl Deref for OptionalAuthInfo {
    type Target = Option<AuthInfo>;

    fn deref(&self) -> &Option<AuthInfo> {
        &self.0
    }
}

impl FromRequest for OptionalAuthInfo {
    type Error = actix_web::Error;
    type Future = Extracting<OptionalAuthInfo>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if let Some(auth) = request.extensions().get::<AuthInfo>() {
            return Extracting::ready(Ok(OptionalAuthInfo(Some(auth.clone()))));
        }
        if !request.headers().contains_key(actix_header::AUTHORIZATION) {
            return Extracting::ready(Ok(OptionalAuthInfo(None)));
        }
        extract(
            request,
            payload,
            Requirements::authenticated_static(),
            |auth| OptionalAuthInfo(Some(auth)),
        )
    }
}

/// Middleware (actix's [`Transform`]) that authenticates every request of
/// the app, scope or resource it wraps and, after
/// [`require`](BearerMiddleware::require), checks policies: for routes
/// written without `#[requires]`. Cheap to clone.
///
/// On success the request goes on with the [`AuthInfo`] in its extensions
/// (the [`AuthInfo`] extractor hands it to the handler). On refusal the
/// middleware answers itself with [`Rejected`]'s response; the wrapped
/// service never sees the request, and its body is dropped unread.
///
/// Path parameters are those the router has matched when the middleware
/// runs: on a `web::resource("/orgs/{org_id}/audit").wrap(…)` or a
/// `web::scope("/orgs/{org_id}").wrap(…)`, the resource's or the scope's.
/// A policy reading a parameter the wrapped level does not match finds none
/// and refuses (403 `missing_organization`, fails closed).
#[derive(Clone)]
pub struct BearerMiddleware {
    shared: Arc<Shared>,
}

struct Shared {
    validator: Validator,
    requirements: Requirements,
}

impl BearerMiddleware {
    /// Middleware that authenticates only: a valid token is enough.
    pub fn new(validator: Validator) -> Self {
        BearerMiddleware {
            shared: Arc::new(Shared {
                validator,
                requirements: Requirements::authenticated(),
            }),
        }
    }

    /// Also requires `policies` (a `#[requires]` handler's `POLICY`, a
    /// [`Policy`](crate::Policy) built at run time, an array of them: any
    /// [`PolicySet`]). Called again, it adds a set: all must hold.
    pub fn require(self, policies: impl PolicySet + 'static) -> Self {
        BearerMiddleware {
            shared: Arc::new(Shared {
                validator: self.shared.validator.clone(),
                requirements: self.shared.requirements.clone().and(policies),
            }),
        }
    }
}

impl fmt::Debug for BearerMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerMiddleware")
            .field("validator", &self.shared.validator)
            .field("requirements", &self.shared.requirements)
            .finish()
    }
}

impl<S, B> Transform<S, ServiceRequest> for BearerMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = BearerService<S>;
    type InitError = ();
    type Future = Ready<Result<BearerService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BearerService {
            service: Rc::new(service),
            shared: Arc::clone(&self.shared),
        }))
    }
}

/// The service [`BearerMiddleware`] wraps around `S`.
pub struct BearerService<S> {
    service: Rc<S>,
    shared: Arc<Shared>,
}

impl<S> fmt::Debug for BearerService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerService")
            .field("requirements", &self.shared.requirements)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for BearerService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, actix_web::Error>>>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let decision =
                authorize(&shared.requirements, &shared.validator, request.request()).await;
            match decision {
                Ok(auth) => {
                    request.extensions_mut().insert(auth);
                    let response = service.call(request).await?;
                    Ok(response.map_into_left_body())
                }
                // The payload, still in `request`, is dropped unread.
                Err(rejected) => Ok(request
                    .into_response(rejected.error_response())
                    .map_into_right_body()),
            }
        })
    }
}

/// A resource serving `GET /.well-known/oauth-protected-resource` (RFC
/// 9728), for `App::service`: OAuth clients discover which issuer to get a
/// token from and which scopes exist.
pub fn protected_resource_metadata(validator: &Validator) -> Resource {
    resource_metadata(ResourceMetadata::from_declared(validator))
}

/// A resource serving `metadata` at `GET /.well-known/oauth-protected-resource`,
/// e.g. `ResourceMetadata::from_declared(&v).with_policies([&billing])` for
/// routes protected without the macro.
pub fn resource_metadata(metadata: ResourceMetadata) -> Resource {
    // Serialised once: the document does not change while the server runs.
    let json = Bytes::from(serde_json::to_string(&metadata).unwrap_or_default());
    web::resource(PROTECTED_RESOURCE_METADATA_PATH).route(web::get().to(move || {
        let json = json.clone();
        async move {
            HttpResponse::Ok()
                .content_type("application/json")
                .body(json)
        }
    }))
}
