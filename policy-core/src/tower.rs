//! tower 0.5 on http 1: [`BearerLayer`] protects any
//! `Service<http::Request<B>>` (a hyper server, a tonic server, a tower
//! stack of your own) with the shared request layer, without a web framework.
//!
//! - [`BearerLayer::new`] authenticates: no audience, scope or organization
//!   is checked (a service that only authenticates accepts a token the issuer
//!   signed for any of its APIs).
//! - [`.require(policies)`](BearerLayer::require) also authorizes: every
//!   policy of the set must hold.
//!
//! On success the request goes to the inner service with the [`AuthInfo`] in
//! its extensions (`request.extensions().get::<AuthInfo>()`). On refusal the
//! layer answers itself, with the status, `WWW-Authenticate` challenge
//! (`resource_metadata` included when the validator has one),
//! `Retry-After` and JSON body of [`Rejected::response`](crate::Rejected::response),
//! and the inner service never sees the request: its body is dropped unread,
//! so a caller without permission costs no upload.
//!
//! ```
//! # extern crate bearer_policy_core as bearer_policy;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use bearer_policy::tower::BearerLayer;
//! use bearer_policy::{AuthInfo, Model, Policy};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[cfg(feature = "testing")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # let issuer = bearer_policy::testing::TestIssuer::start().await;
//! # let validator = issuer.validator("https://api.example.com");
//! let hello = service_fn(|request: Request<Full<Bytes>>| async move {
//!     // The layer put it there: a request without it never gets here.
//!     let auth = request.extensions().get::<AuthInfo>().cloned();
//!     let who = auth.as_ref().and_then(AuthInfo::sub).unwrap_or("?").to_owned();
//!     Ok::<_, std::convert::Infallible>(Response::new(Full::<Bytes>::from(who)))
//! });
//! let layer = BearerLayer::new(validator)
//!     .require(Policy::new(Model::GlobalApi).scopes(["api:read"]));
//! let service = layer.layer(hello);
//!
//! let token = issuer.token().for_global_api("https://api.example.com").scopes(["api:read"]).sign();
//! let request = Request::builder()
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(Full::default())
//!     .unwrap();
//! let response = service.clone().oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//!
//! let anonymous = Request::new(Full::default());
//! let response = service.oneshot(anonymous).await.unwrap();
//! assert_eq!(response.status(), 401);
//! assert_eq!(response.headers()["www-authenticate"], "Bearer");
//! # });
//! ```
//!
//! **Which front end.** An axum application needs no layer: its extractors
//! ([`AuthInfo`], `Option<AuthInfo>`, a `#[requires]` handler's
//! [`Authorized`](crate::Authorized)) authenticate and authorize per handler,
//! path parameters included. This layer serves the stacks that have no
//! extractors: hyper's `service_fn`, tonic (`Server::builder().layer(…)`,
//! where the method's `request.extensions()` holds the [`AuthInfo`]), or
//! tower middleware in front of anything. A `#[requires]` handler called from
//! such a service takes the [`AuthInfo`] from the extensions with `.into()`,
//! and still checks its own policies.
//!
//! **Organizations.** Policies reading the organization from a header or a
//! query parameter are decided from the request, as in the other front ends.
//! tower has no routes, hence no path parameters: a policy whose organization
//! comes from [`OrgSource::PathParam`](crate::OrgSource::PathParam) finds
//! none, and refuses every request with 403 `missing_organization` (fails
//! closed). Use the axum extractors, or warp's `authorize_path`, for those.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body_util::{Either, Full};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::auth_info::AuthInfo;
use crate::policy::PolicySet;
use crate::rejected::Rejected;
use crate::request::{RequestHead, Requirements};
use crate::validator::Validator;

/// The body of a [`Bearer`] response: the inner service's (`Left`),
/// untouched, or the layer's own JSON refusal (`Right`).
///
/// An `Either` rather than a bound on the inner body: a `Default` body (what
/// tower-http's header validators ask for) would lose the JSON, and
/// `From<String>` rules out the bodies tower stacks actually carry (hyper's
/// `Incoming` in a proxy, tonic's `Body`, boxed bodies). This is the shape of
/// tower-http's own refusing layer (`RequestBodyLimit` wraps the inner body
/// beside a `Full<Bytes>`), without a body type of ours to learn: hyper,
/// tonic and axum all accept it whenever the inner body is an
/// `http_body::Body<Data = Bytes>`.
pub type ResponseBody<B> = Either<B, Full<Bytes>>;

/// A [`Layer`] that authenticates every request with a [`Validator`] and,
/// after [`require`](BearerLayer::require), checks policies; see the
/// [module docs](self). Cheap to clone.
#[derive(Clone)]
pub struct BearerLayer {
    shared: Arc<Shared>,
}

/// What the layer and every service it builds share: built once, one
/// reference count per request.
#[derive(Clone)]
struct Shared {
    validator: Validator,
    /// Every set passed to `require`, all of which must hold.
    requirements: Requirements,
}

impl BearerLayer {
    /// A layer that authenticates only: a valid token is enough. The
    /// [`AuthInfo`] in the request's extensions still carries the headers and
    /// query parameters that the program's `#[requires]` declarations read
    /// organizations from, so a handler's own check can decide them.
    pub fn new(validator: Validator) -> Self {
        BearerLayer {
            shared: Arc::new(Shared {
                validator,
                requirements: Requirements::authenticated(),
            }),
        }
    }

    /// Also requires `policies` (a `#[requires]` handler's `POLICY`, a
    /// [`Policy`](crate::Policy) built at run time, an array of them: any [`PolicySet`]),
    /// checked as [`PolicySet::decide_request`] does after authentication.
    /// Called again, it adds a set: all must hold, and check functions
    /// ([`Policy::check_with`](crate::Policy::check_with)) run once every set's audience, organization
    /// and scopes hold.
    ///
    /// A policy whose organization comes from a path parameter refuses every
    /// request (403 `missing_organization`): tower has no path parameters.
    pub fn require(self, policies: impl PolicySet + 'static) -> Self {
        let Shared {
            validator,
            requirements,
        } = Arc::unwrap_or_clone(self.shared);
        BearerLayer {
            shared: Arc::new(Shared {
                validator,
                requirements: requirements.and(policies),
            }),
        }
    }
}

impl fmt::Debug for BearerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerLayer")
            .field("validator", &self.shared.validator)
            .field("requirements", &self.shared.requirements)
            .finish()
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Bearer<S> {
        Bearer {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The [`Service`] that [`BearerLayer`] wraps around `S`.
#[derive(Clone)]
pub struct Bearer<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Bearer<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for Bearer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bearer")
            .field("inner", &self.inner)
            .field("validator", &self.shared.validator)
            .field("requirements", &self.shared.requirements)
            .finish()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Bearer<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // `poll_ready` readied `self.inner`, not a clone of it: the ready one
        // goes with this request, and the clone waits for the next
        // `poll_ready` (tower's clone-and-swap).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        // Only the head goes to the decision; the body waits beside it, unpolled.
        let (parts, body) = request.into_parts();
        ResponseFuture {
            state: State::Deciding {
                deciding: Arc::clone(&self.shared).decide(parts),
                inner,
                body,
            },
        }
    }
}

/// The decision on one request's head: the head back, with the caller's
/// [`AuthInfo`] or the refusal.
///
/// Boxed because `Validator::authenticate` is an `async fn`, whose future has
/// no name to store; only this step is boxed (one allocation per request),
/// not the inner service's future nor the request body, so neither needs to
/// be `Send` or `'static` for the layer's sake.
type Deciding = Pin<Box<dyn Future<Output = (Parts, Result<AuthInfo, Rejected>)> + Send>>;

impl Shared {
    fn decide(self: Arc<Self>, parts: Parts) -> Deciding {
        Box::pin(async move {
            // No path parameters: tower has no routes, so path policies fail closed.
            let decision = self
                .requirements
                .authorize(&self.validator, &RequestHead::from_parts(&parts))
                .await;
            (parts, decision)
        })
    }
}

pin_project! {
    /// The response future of [`Bearer`]: the decision, then the inner
    /// service's future.
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody>,
    }
}

pin_project! {
    #[project = StateProj]
    #[project_replace = StateProjReplace]
    enum State<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        Deciding {
            deciding: Deciding,
            inner: S,
            body: ReqBody,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        Done,
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let deciding = match self.as_mut().project().state.project() {
                StateProj::Deciding { deciding, .. } => deciding,
                StateProj::Calling { future } => {
                    return future
                        .poll(cx)
                        .map_ok(|response| response.map(Either::Left));
                }
                // Polled after completion: like `futures`' `Fuse`, never again
                // ready, rather than a panic.
                StateProj::Done => return Poll::Pending,
            };
            let (mut parts, decision) = ready!(deciding.as_mut().poll(cx));
            // Take the service and the body out; a refusal drops both here.
            let StateProjReplace::Deciding {
                mut inner, body, ..
            } = self.as_mut().project().state.project_replace(State::Done)
            else {
                // Unreachable: the state was `Deciding` just above.
                return Poll::Pending;
            };
            match decision {
                Ok(auth) => {
                    parts.extensions.insert(auth);
                    let future = inner.call(Request::from_parts(parts, body));
                    self.as_mut().project().state.set(State::Calling { future });
                }
                Err(rejected) => return Poll::Ready(Ok(rejected.response().map(Either::Right))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::task::Waker;

    use super::*;
    use crate::policy::{Model, Policy};

    fn validator() -> Validator {
        // No I/O until a token needs a key: these requests carry none.
        Validator::builder()
            .issuer("https://issuer.invalid")
            .audience("https://api.example.com")
            .build()
            .unwrap()
    }

    async fn unreachable_service(_: Request<String>) -> Result<Response<String>, Infallible> {
        panic!("a refused request reached the inner service")
    }

    #[test]
    fn a_refusal_is_answered_at_once_and_a_completed_future_stays_pending() {
        let mut service =
            BearerLayer::new(validator()).layer(tower::service_fn(unreachable_service));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(service.poll_ready(&mut cx).is_ready());
        let mut future = Box::pin(service.call(Request::new("body".to_owned())));
        let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) else {
            panic!("a request without a token is refused without waiting");
        };
        assert_eq!(response.status(), 401);
        assert!(matches!(response.body(), Either::Right(_)));
        assert!(
            future.as_mut().poll(&mut cx).is_pending(),
            "fused, no panic"
        );
    }

    #[test]
    fn the_future_is_send_when_the_service_and_the_body_are() {
        fn send<T: Send + 'static>(_: &T) {}
        let mut service =
            BearerLayer::new(validator()).layer(tower::service_fn(unreachable_service));
        let future = service.call(Request::new(String::new()));
        send(&future);
        drop(future);
    }

    #[test]
    fn require_adds_a_set_all_of_which_hold() {
        let layer = BearerLayer::new(validator())
            .require(Policy::new(Model::GlobalApi).scopes(["api:read"]))
            .require([
                Policy::new(Model::GlobalApi).scopes(["api:write"]),
                Policy::new(Model::GlobalApi),
            ]);
        assert_eq!(layer.shared.requirements.policies().count(), 3);
        assert!(format!("{layer:?}").contains("policies: 3"), "{layer:?}");
    }
}
