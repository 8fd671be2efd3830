//! warp filters: authenticate a request, authorize it against policies before
//! its body is read, serve RFC 9728 Protected Resource Metadata, and turn our
//! rejections into RFC 6750 responses in one place ([`recover`]).
//!
//! Recommended route order: path, then method, then [`authorize`] (or [`authorize_path`]
//! for an organization in the path), then body filters, then the handler, so
//! that a caller without permission gets 403 before the server parses a body:
//!
//! ```
//! # extern crate bearer_policy_core as bearer_policy;
//! use bearer_policy::warp::{authorize, recover};
//! use bearer_policy::{Model, Policy, AuthInfo};
//! use warp::Filter;
//!
//! static WRITE: Policy = Policy::from_static(
//!     Model::GlobalApi, &[std::borrow::Cow::Borrowed("api:write")], &[], None, None, None, &[]);
//!
//! # #[cfg(feature = "testing")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # let issuer = bearer_policy::testing::TestIssuer::start().await;
//! # let validator = issuer.validator("https://api.example.com");
//! let route = warp::path!("api" / "products")
//!     .and(warp::post())
//!     .and(authorize(validator.clone(), &WRITE))
//!     .and(warp::body::json())
//!     .map(|auth: AuthInfo, body: serde_json::Value| warp::reply::json(&body))
//!     .recover(recover);
//!
//! // Without the permission, a malformed body still gets 403, not 400.
//! let token = issuer.token().for_global_api("https://api.example.com").scopes(["api:read"]).sign();
//! let response = warp::test::request()
//!     .method("POST")
//!     .path("/api/products")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body("{not json")
//!     .reply(&route)
//!     .await;
//! assert_eq!(response.status(), 403);
//! assert_eq!(
//!     response.headers()["www-authenticate"],
//!     "Bearer error=\"insufficient_scope\", scope=\"api:write\""
//! );
//! # });
//! ```

use std::convert::Infallible;
use std::sync::Arc;

use warp::http::{HeaderMap, Method};
use warp::path::FullPath;
use warp::reject::Reject;
use warp::{Filter, Rejection};

use crate::auth_info::AuthInfo;
use crate::authorized::{Decided, FromAuthInfo};
use crate::error::{Denied, Error};
use crate::policy::{OrgSource, PolicySet};
use crate::request::{PathParams, RequestHead, Requirements};
use crate::validator::Validator;

pub use crate::metadata::ResourceMetadata;
/// The rejection our filters produce: find it with
/// `rejection.find::<bearer_policy::warp::Rejected>()` in your own `recover`
/// and answer it with [`Rejected::response`], or let [`recover`] answer it.
pub use crate::rejected::Rejected;

impl Reject for Rejected {}

impl From<Denied> for Rejection {
    /// Lets handlers annotated with `#[requires]` return `Result<_, Rejection>`.
    fn from(denied: Denied) -> Self {
        warp::reject::custom(Rejected::from(denied))
    }
}

impl From<Error> for Rejection {
    fn from(error: Error) -> Self {
        warp::reject::custom(Rejected::from(error))
    }
}

/// Turns our rejections into responses; passes every other rejection (404,
/// 405, your own) through untouched. Use it as `.recover(bearer_policy::warp::recover)`,
/// or answer [`Rejected`] with [`Rejected::response`] in your own recover function.
pub async fn recover(rejection: Rejection) -> Result<warp::reply::Response, Rejection> {
    match rejection.find::<Rejected>() {
        // Denials were logged where they were decided (`Policy::decide`).
        Some(rejected) => Ok(rejected.response()),
        None => Err(rejection),
    }
}

/// A request's head as warp hands it over: owned, for the decision's future.
struct Head {
    method: Method,
    path: FullPath,
    query: Option<String>,
    headers: HeaderMap,
}

impl Head {
    fn request(&self) -> RequestHead<'_> {
        RequestHead::from_path(
            &self.method,
            self.path.as_str(),
            self.query.as_deref(),
            &self.headers,
        )
    }
}

/// The head as `requirements` need it: the query string only for a route
/// whose policies read one (warp's query filter rejects a request without a
/// query, and that rejection allocates: most routes never pay it).
fn head(
    requirements: &Requirements,
) -> impl Filter<Extract = (Head,), Error = Infallible> + Clone + use<> {
    let reads_query = requirements.reads_query();
    let query = warp::any()
        .and_then(move || {
            std::future::ready(match reads_query {
                true => Err(warp::reject()),
                false => Ok::<_, Rejection>(None::<String>),
            })
        })
        .or(warp::query::raw().map(Some))
        .unify()
        .or(warp::any().map(|| None))
        .unify();
    warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .map(|method, path, query, headers| Head {
            method,
            path,
            query,
            headers,
        })
}

/// What a filter decides with: one reference count per request.
struct Gate {
    validator: Validator,
    requirements: Requirements,
}

impl Gate {
    fn new(validator: Validator, requirements: Requirements) -> Arc<Self> {
        Arc::new(Gate {
            validator,
            requirements,
        })
    }

    async fn authorize(&self, request: RequestHead<'_>) -> Result<AuthInfo, Rejection> {
        self.requirements
            .authorize(&self.validator, &request)
            .await
            .map_err(warp::reject::custom)
    }
}

/// The filter of [`authenticate`] and [`authorize`]: decides `requirements`
/// with one [`Requirements::authorize`] call, and yields `A`, told what was
/// decided.
fn decide<A: FromAuthInfo>(
    validator: Validator,
    requirements: Requirements,
) -> impl Filter<Extract = (A,), Error = Rejection> + Clone {
    let gate = Gate::new(validator, requirements);
    head(&gate.requirements).and_then(move |head: Head| {
        let gate = Arc::clone(&gate);
        async move {
            let auth = gate.authorize(head.request()).await?;
            Ok::<_, Rejection>(A::from_allowed(Decided::allowed_by(
                auth,
                &gate.requirements,
            )))
        }
    })
}

/// Extracts the bearer token from all of the request's `Authorization`
/// headers and validates it. Rejects with [`Rejected`] (400, 401 or 503; 403
/// too before a `#[requires]` handler, below).
///
/// Yielding an [`AuthInfo`], it checks no audience, scope or organization:
/// those are the [`Policy`](crate::Policy)'s. A route that only authenticates
/// accepts a token the issuer signed for any of its APIs; use [`authorize`]
/// (or check a policy) unless that is meant.
///
/// The [`AuthInfo`] also carries the headers and query parameters that the
/// program's `#[requires]` declarations read organizations from.
///
/// It also yields the [`Authorized`](crate::Authorized) type of a
/// `#[requires]` handler, so that
/// `warp::path!("orgs" / String / "data").and(authenticate(v)).and_then(org_data)`
/// composes. When none of that handler's policies reads a path parameter
/// (which this filter cannot see), it decides them here as [`authorize`]
/// given them would: before any body filter, once, reported, DPoP mode
/// included, and the handler does not decide them again. When one does, the
/// handler decides them in its body. A closure after it names its parameter
/// type: `.map(|auth: AuthInfo| …)`.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// # #[cfg(feature = "testing")]
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use bearer_policy::{warp::{authenticate, recover}, AuthInfo};
/// use warp::Filter;
/// let issuer = bearer_policy::testing::TestIssuer::start().await;
/// let validator = issuer.validator("https://api.example.com");
/// let whoami = warp::path("me")
///     .and(authenticate(validator))
///     .map(|auth: AuthInfo| warp::reply::json(&auth))
///     .recover(recover);
///
/// let response = warp::test::request().path("/me").reply(&whoami).await;
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], "Bearer");
/// # });
/// ```
pub fn authenticate<A: FromAuthInfo>(
    validator: Validator,
) -> impl Filter<Extract = (A,), Error = Rejection> + Clone {
    let requirements = match A::policies() {
        Some(policies) => Requirements::new(policies),
        None => Requirements::authenticated(),
    };
    decide(validator, requirements)
}

/// Like [`authenticate`], for routes that serve everyone but more to the
/// authenticated: no `Authorization` header yields `None`; a header with a
/// bad token is still rejected, never silently downgraded.
///
/// It checks no audience, scope or organization: those are the [`Policy`](crate::Policy)'s.
/// A route that only authenticates accepts a token the issuer signed for any
/// of its APIs; use [`authorize`] (or check a policy) unless that is meant.
pub fn optional(
    validator: Validator,
) -> impl Filter<Extract = (Option<AuthInfo>,), Error = Rejection> + Clone {
    let gate = Gate::new(validator, Requirements::authenticated());
    head(&gate.requirements).and_then(move |head: Head| {
        let gate = Arc::clone(&gate);
        async move {
            gate.requirements
                .authorize_optional(&gate.validator, &head.request())
                .await
                .map_err(warp::reject::custom)
        }
    })
}

/// Authenticates and checks `policies` (a `#[requires]` module's `POLICY`,
/// or any [`PolicySet`]), reading header and query organization sources from
/// the request. Place it before body filters.
///
/// It yields what the next filter or handler takes: an [`AuthInfo`], or the
/// [`Authorized`](crate::Authorized) type of a `#[requires]` handler
/// (`handler::Authorized`), so `.and_then(handler)` needs no conversion. When
/// `policies` are that handler's own (`&handler::POLICY`), the handler does
/// not decide them again. A closure after it names its parameter type:
/// `.map(|auth: AuthInfo| …)`.
///
/// Policies whose organization comes from a path parameter need the id from
/// the path: use [`authorize_path`] for those (here they are refused with
/// [`Denied::MissingOrganization`]).
///
/// A policy built at run time, for a route written without the macro, is a
/// [`PolicySet`] too: pass it by value.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::{Model, OrgSource, Policy};
/// # #[cfg(feature = "testing")]
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let issuer = bearer_policy::testing::TestIssuer::start().await;
/// # let validator = issuer.validator("https://api.example.com");
/// use warp::Filter;
/// let billing = warp::path("billing")
///     .and(bearer_policy::warp::authorize(
///         validator,
///         Policy::new(Model::OrgPermission)
///             .scopes(["manage:billing"])
///             .organization(OrgSource::Header("X-Organization-Id".into())),
///     ))
///     .map(|auth: bearer_policy::AuthInfo| "ok")
///     .recover(bearer_policy::warp::recover);
///
/// let token = issuer.token().for_organization("org-1").scopes(["manage:billing"]).sign();
/// let ok = warp::test::request()
///     .path("/billing")
///     .header("authorization", format!("Bearer {token}"))
///     .header("x-organization-id", "org-1")
///     .reply(&billing)
///     .await;
/// assert_eq!(ok.status(), 200);
/// let other_org = warp::test::request()
///     .path("/billing")
///     .header("authorization", format!("Bearer {token}"))
///     .header("x-organization-id", "org-2")
///     .reply(&billing)
///     .await;
/// assert_eq!(other_org.status(), 403);
/// # });
/// ```
pub fn authorize<P, A>(
    validator: Validator,
    policies: P,
) -> impl Filter<Extract = (A,), Error = Rejection> + Clone
where
    P: PolicySet + 'static,
    A: FromAuthInfo,
{
    decide(validator, Requirements::new(policies))
}

/// Authenticates and checks `policies` against the organization id that
/// `path` extracts, for policies whose organization comes from the path
/// (each policy still reads its organization from its own source: a header or
/// query policy in the same set is decided by the header or query).
///
/// `path` extracts one value, the parameter of the first path policy: a
/// policy reading another path parameter finds none and refuses
/// (`missing_organization`, with a warning when the route is built). A
/// policy without an organization source reads the path's value too.
/// Extracts `(org_id, A)`, `A` an [`AuthInfo`] or a handler's
/// [`Authorized`](crate::Authorized) type, as with [`authorize`].
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::{Model, OrgSource, Policy, AuthInfo};
/// use warp::Filter;
/// static READ: Policy = Policy::from_static(
///     Model::OrgResource, &[std::borrow::Cow::Borrowed("api:read")], &[], None,
///     Some(OrgSource::PathParam(std::borrow::Cow::Borrowed("org_id"))), None, &[]);
/// # #[cfg(feature = "testing")]
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let issuer = bearer_policy::testing::TestIssuer::start().await;
/// # let validator = issuer.validator("https://api.example.com");
/// let route = bearer_policy::warp::authorize_path(warp::path!("orgs" / String / "data"), validator, &READ)
///     .map(|org_id: String, _auth: AuthInfo| org_id)
///     .recover(bearer_policy::warp::recover);
/// let token = issuer.token().for_org_resource("https://api.example.com", "acme").scopes(["api:read"]).sign();
/// let call = |path: &'static str| warp::test::request().path(path).header("authorization", format!("Bearer {token}"));
/// assert_eq!(call("/orgs/acme/data").reply(&route).await.status(), 200);
/// assert_eq!(call("/orgs/other/data").reply(&route).await.status(), 403);
/// # });
/// ```
pub fn authorize_path<F, P, A>(
    path: F,
    validator: Validator,
    policies: P,
) -> impl Filter<Extract = (String, A), Error = Rejection> + Clone
where
    F: Filter<Extract = (String,), Error = Rejection> + Clone + Send + Sync + 'static,
    P: PolicySet + 'static,
    A: From<AuthInfo> + Send + 'static,
{
    let requirements = Requirements::new(policies);
    let parameter: Option<Arc<str>> = path_parameter(&requirements).map(Arc::from);
    let gate = Gate::new(validator, requirements);
    path.and(head(&gate.requirements))
        .and_then(move |org_id: String, head: Head| {
            let (gate, parameter) = (Arc::clone(&gate), parameter.clone());
            async move {
                let request = head.request().with_path_params(PathParams::One {
                    name: parameter.as_deref(),
                    value: &org_id,
                });
                let auth = gate.authorize(request).await?;
                Ok::<_, Rejection>((org_id, A::from(auth)))
            }
        })
        .untuple_one()
}

/// The path parameter that `authorize_path`'s one value stands for: the
/// first path policy's. Policies reading other parameters would otherwise be
/// handed a value extracted for another: the operator hears of it once, here.
fn path_parameter(requirements: &Requirements) -> Option<&str> {
    let mut names =
        requirements
            .policies()
            .filter_map(|policy| match policy.organization_source() {
                Some(OrgSource::PathParam(name)) => Some(name.as_ref()),
                _ => None,
            });
    let first = names.next()?;
    if let Some(other) = names.find(|name| *name != first) {
        tracing::warn!(
            parameter = first,
            other,
            "`authorize_path` extracts one path value, given to the policies reading `{first}`: \
             a policy reading `{other}` finds none and refuses every request"
        );
    }
    Some(first)
}

/// Serves `GET /.well-known/oauth-protected-resource` (RFC 9728) so that OAuth
/// clients discover which issuer to get a token from and which scopes exist:
/// [`ResourceMetadata::from_declared`]. For routes protected without the
/// macro, serve [`resource_metadata`] with their policies added.
pub fn protected_resource_metadata(
    validator: &Validator,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone + use<> {
    resource_metadata(ResourceMetadata::from_declared(validator))
}

/// Serves `metadata` at `GET /.well-known/oauth-protected-resource`, e.g.
/// `ResourceMetadata::from_declared(&v).with_policies([&billing])`.
pub fn resource_metadata(
    metadata: ResourceMetadata,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone {
    let metadata = Arc::new(metadata);
    // Path before method, so that other methods on other paths stay 404, not 405.
    warp::path!(".well-known" / "oauth-protected-resource")
        .and(warp::get())
        .map(move || -> warp::reply::Response { crate::rejected::json_response(&*metadata) })
}
