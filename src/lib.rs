//! # bearer-policy
//!
//! Protect HTTP APIs with OAuth 2.0 / OpenID Connect access tokens and
//! declarative, compile-time checked permission rules.
//!
//! - [`Validator`] checks an access token: a signature by a key of the
//!   issuer's JWKS (fetched, cached, refreshed and rotated for you), the
//!   issuer, the lifetime, and the header. It yields an [`AuthInfo`].
//! - [`Policy`] decides whether that [`AuthInfo`] may make a request under
//!   one of three [`Model`]s, with the scopes it requires, the
//!   organization of the request, and a check function for what scopes
//!   cannot express ([`Policy::check_with`], `check = path` in
//!   `#[requires]`); a refusal is a typed [`Denied`].
//! - [`#[requires]`](requires) declares a policy on a handler, checked at
//!   compile time, and emits the policy as a value (`handler::POLICY`) that a
//!   route can check before it reads the body. The handler's `AuthInfo`
//!   becomes an [`Authorized`] typed by that declaration
//!   (`handler::Authorized`); a direct call converts an `AuthInfo` with
//!   `.into()`.
//! - [`warp`] has the filters: [`warp::authenticate`], [`warp::authorize`],
//!   [`warp::authorize_path`], [`warp::optional`], and
//!   [`warp::recover`], which answers with the right status, the RFC 6750
//!   `WWW-Authenticate` challenge and a JSON body.
//! - [`testing::TestIssuer`] (feature `testing`) is an issuer on loopback for
//!   your tests.
//!
//! Every failure is an [`Error`] with a stable [`code`](Error::code), an HTTP
//! [`status`](Error::status) (400, 401, 403 or 503) and a message that never
//! contains the token.
//!
//! ## The three models
//!
//! ### `global_api`: `aud` holds the API resource indicator
//!
//! ```
//! use bearer_policy::testing::TestIssuer;
//! use bearer_policy::{requires, AuthInfo, Denied};
//!
//! #[derive(Debug)]
//! struct ApiError(Denied);
//! impl From<Denied> for ApiError {
//!     fn from(denied: Denied) -> Self {
//!         ApiError(denied)
//!     }
//! }
//!
//! #[requires(model = global_api, scopes("api:read"))]
//! fn list_products(auth: AuthInfo) -> Result<String, ApiError> {
//!     Ok(format!("products for {}", auth.sub().unwrap_or("?")))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! const API: &str = "https://api.example.com";
//! let issuer = TestIssuer::start().await;
//! let validator = issuer.validator(API);
//!
//! // Called directly, the handler takes its `list_products::Authorized`:
//! // the `AuthInfo` converts with `.into()`, and the policy is still checked.
//! let reader = issuer.token().for_global_api(API).scopes(["api:read"]).sign();
//! let auth = validator.validate(&reader).await.unwrap();
//! assert!(list_products(auth.into()).is_ok());
//!
//! let writer = issuer.token().for_global_api(API).scopes(["api:write"]).sign();
//! let auth = validator.validate(&writer).await.unwrap();
//! assert!(matches!(list_products(auth.into()), Err(ApiError(Denied::MissingScopes { .. }))));
//!
//! // An organization token never acts as a global permission.
//! let org = issuer.token().for_org_resource(API, "acme").scopes(["api:read"]).sign();
//! let auth = validator.validate(&org).await.unwrap();
//! assert!(matches!(list_products(auth.into()), Err(ApiError(Denied::OrganizationTokenNotAllowed))));
//! # }
//! ```
//!
//! ### `org_permission`: `aud` holds `urn:logto:organization:<id>`
//!
//! ```
//! use bearer_policy::testing::TestIssuer;
//! use bearer_policy::{requires, AuthInfo, Denied};
//!
//! #[requires(model = org_permission, scopes("invite:member"), org_from = path)]
//! fn invite(org_id: &str, auth: AuthInfo) -> Result<(), Denied> {
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = TestIssuer::start().await;
//! let validator = issuer.validator("https://api.example.com");
//! let token = issuer.token().for_organization("acme").scopes(["invite:member"]).sign();
//! let auth = validator.validate(&token).await.unwrap();
//!
//! assert_eq!(invite("acme", auth.clone().into()), Ok(()));
//! assert_eq!(invite("globex", auth.into()), Err(Denied::OrganizationMismatch));
//! # }
//! ```
//!
//! ### `org_resource`: `aud` holds the API resource indicator and `organization_id` the organization
//!
//! ```
//! use bearer_policy::testing::TestIssuer;
//! use bearer_policy::{requires, AuthInfo, Denied, RequestContext};
//!
//! #[requires(model = org_resource, scopes("api:read"), org_from = header("X-Organization-Id"))]
//! fn org_report(auth: AuthInfo) -> Result<&'static str, Denied> {
//!     Ok("report")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! const API: &str = "https://api.example.com";
//! let issuer = TestIssuer::start().await;
//! let validator = issuer.validator(API);
//! let token = issuer.token().for_org_resource(API, "acme").scopes(["api:read"]).sign();
//! let auth = validator.validate(&token).await.unwrap();
//!
//! // The warp filters capture the header with the token; here we attach it by hand.
//! let from_acme = auth.clone().with_request(RequestContext::new().with_header("X-Organization-Id", "acme"));
//! assert_eq!(org_report(from_acme.into()), Ok("report"));
//! let from_globex = auth.with_request(RequestContext::new().with_header("X-Organization-Id", "globex"));
//! assert_eq!(org_report(from_globex.into()), Err(Denied::OrganizationMismatch));
//! # }
//! ```
//!
//! ## In a warp service
//!
//! See [`warp`] for the filters and the recommended route order, the
//! README for a complete example server, and `examples/server.rs`.
//!
//! ## Features
//!
//! - `warp` (default): the [`warp`] filters.
//! - `testing`: [`testing::TestIssuer`], for your tests and demos.
//! - `axum`: `axum` extractors: [`AuthInfo`], `Option<AuthInfo>`, and the
//!   `handler::Authorized` of a `#[requires]` handler, which makes the
//!   attribute the whole protection of an axum route (see the README).
//! - `tower`: `tower::BearerLayer`, which authenticates and authorizes
//!   requests to any tower `Service` (hyper, tonic) without a web framework,
//!   putting the [`AuthInfo`] in the request's extensions. axum applications
//!   need no layer: the extractors do it.
//!
//! - `utoipa`: `utoipa::PolicySecurity`, a `utoipa::Modify` that puts the
//!   scopes of every `#[requires]` handler in your utoipa 6 OpenAPI document,
//!   with the issuer's security schemes (see the README).
//!
//! Every item that needs a feature says so in these docs.
//!
#![cfg_attr(
    feature = "testing",
    doc = "[`testing::TestIssuer`]: testing::TestIssuer"
)]
#![cfg_attr(
    not(feature = "testing"),
    doc = "[`testing::TestIssuer`]: https://docs.rs/bearer-policy/latest/bearer_policy/testing/struct.TestIssuer.html"
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use policy_core::*;
pub use policy_macros::*;

// The README's examples are compiled and run as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
