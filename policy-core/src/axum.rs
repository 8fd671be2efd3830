//! axum 0.8: extractors over the shared request layer, with the
//! [`Validator`] taken from the router's state (`Validator: FromRef<S>`, so a
//! router without one does not compile).
//!
//! - [`AuthInfo`] authenticates; `Option<AuthInfo>` yields `None` without an
//!   `Authorization` header (a bad token is still refused).
//! - [`Claims<T>`] authenticates and deserialises the token's payload into
//!   your own type, for claims this crate does not model (`roles`, `email`).
//! - [`Authorized<D>`](crate::Authorized), the type `#[requires]` gives a
//!   handler's `auth` parameter (`handler::Authorized`), authenticates and
//!   checks the declared policies. axum runs it with the other
//!   `FromRequestParts` extractors, before the one body extractor: a caller
//!   without permission gets 401/403 and the body is never read. One line on
//!   the handler is the whole protection:
//!
//! ```
//! # extern crate bearer_policy_core as bearer_policy;
//! use axum::{routing::get, Router};
//! use bearer_policy::{AuthInfo, Validator};
//!
//! // With the `bearer-policy` crate: `#[requires(model = org_resource,
//! // scopes("api:read"), org_from = path)]` on this handler, and its
//! // `auth: AuthInfo` is checked against the policy too (see `bearer_policy::guide::axum`).
//! async fn whoami(auth: AuthInfo, maybe: Option<AuthInfo>) -> String {
//!     assert!(maybe.is_some());
//!     auth.sub().unwrap_or("?").to_owned()
//! }
//!
//! fn app(validator: Validator) -> Router {
//!     Router::new()
//!         .route("/me", get(whoami))
//!         .merge(bearer_policy::axum::protected_resource_metadata(&validator))
//!         .with_state(validator)
//! }
//! ```
//!
//! A policy whose organization comes from a path parameter reads the route's
//! capture of that name (`{org_id}`), percent-decoded as axum's `Path` hands it
//! to the handler, so the policy decides on the value the handler uses. Every
//! refusal is a [`Rejected`], answered with the status, `WWW-Authenticate`
//! challenge, `Retry-After` and JSON body of [`Rejected::response`].

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts, RawPathParams};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::request::Parts;

use crate::auth_info::AuthInfo;
use crate::authorized::{Authorized, DeclaredHandler, requirements_of};
use crate::error::TokenError;
use crate::metadata::{PROTECTED_RESOURCE_METADATA_PATH, ResourceMetadata};
use crate::rejected::json_response;
use crate::request::{PathParams, RequestHead, Requirements};
use crate::validator::Validator;

pub use crate::rejected::Rejected;

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        self.response()
    }
}

impl<S> FromRequestParts<S> for AuthInfo
where
    Validator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejected;

    /// Authenticates only: no audience, scope or organization is checked (a
    /// route that only authenticates accepts a token the issuer signed for any
    /// of its APIs). Protect routes with `#[requires]`. Behind the tower
    /// layer, the `AuthInfo` it put in the request's extensions.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejected> {
        // Behind the tower layer (`bearer_policy::tower`), the request was
        // already authenticated (and authorized): no second look at the token.
        if let Some(auth) = parts.extensions.get::<AuthInfo>() {
            return Ok(auth.clone());
        }
        let validator = Validator::from_ref(state);
        Requirements::authenticated_static()
            .authorize(&validator, &RequestHead::from_parts(parts))
            .await
    }
}

impl<S> OptionalFromRequestParts<S> for AuthInfo
where
    Validator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Rejected> {
        if let Some(auth) = parts.extensions.get::<AuthInfo>() {
            return Ok(Some(auth.clone()));
        }
        let validator = Validator::from_ref(state);
        Requirements::authenticated_static()
            .authorize_optional(&validator, &RequestHead::from_parts(parts))
            .await
    }
}

impl<S, H> FromRequestParts<S> for Authorized<H>
where
    H: DeclaredHandler,
    Validator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejected> {
        let validator = Validator::from_ref(state);
        let requirements = requirements_of::<H>();
        // The route's captures by name, looked up only for policies that read
        // one; a route without the capture fails closed (`missing_organization`).
        let raw = match requirements.reads_path() {
            true => RawPathParams::from_request_parts(parts, state).await.ok(),
            false => None,
        };
        let named: Vec<(&str, &str)> = raw.iter().flat_map(|params| params.iter()).collect();
        let request = RequestHead::from_parts(parts).with_path_params(PathParams::Named(&named));
        let auth = requirements.authorize(&validator, &request).await?;
        Ok(Authorized::decided_on_route(auth))
    }
}

/// The token's claims as your own type: the whole payload deserialised into
/// `T` (with serde), for claims this crate does not model.
///
/// It authenticates as [`AuthInfo`] does, and checks no policy: put it beside
/// a `#[requires]` handler's `auth`, or on a route behind the tower layer.
/// Authentication is shared with the other extractors through the
/// verified-token cache, so a second extractor costs a cache hit and the
/// deserialisation (measured in `BENCHMARKS.md`). A payload that does not fit
/// `T` is refused with 401 `unexpected_claims` (the serde error is logged at
/// `debug`, never sent); make a claim that may be absent an `Option`.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use axum::{routing::get, Router};
/// use bearer_policy::{axum::Claims, Validator};
///
/// #[derive(serde::Deserialize)]
/// struct Staff {
///     email: String,
///     #[serde(default)]
///     roles: Vec<String>,
/// }
///
/// async fn me(Claims(staff): Claims<Staff>) -> String {
///     format!("{}: {}", staff.email, staff.roles.join(" "))
/// }
///
/// fn app(validator: Validator) -> Router {
///     Router::new().route("/me", get(me)).with_state(validator)
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Claims<T>(pub T);

impl<S, T> FromRequestParts<S> for Claims<T>
where
    T: serde::de::DeserializeOwned,
    Validator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejected> {
        let auth = <AuthInfo as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        auth.claims::<T>().map(Claims).map_err(|e| {
            tracing::debug!(error = %e, "the token's claims do not fit the extractor's type");
            Rejected::by(
                &Validator::from_ref(state),
                TokenError::UnexpectedClaims.into(),
            )
        })
    }
}

/// A router serving `GET /.well-known/oauth-protected-resource` (RFC 9728),
/// to `merge` into yours: OAuth clients discover which issuer to get a token
/// from and which scopes exist.
pub fn protected_resource_metadata<S>(validator: &Validator) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    resource_metadata(ResourceMetadata::from_declared(validator))
}

/// A router serving `metadata` at `GET /.well-known/oauth-protected-resource`,
/// e.g. `ResourceMetadata::from_declared(&v).with_policies([&billing])` for
/// routes protected without the macro.
pub fn resource_metadata<S>(metadata: ResourceMetadata) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let metadata = Arc::new(metadata);
    Router::new().route(
        PROTECTED_RESOURCE_METADATA_PATH,
        get(move || {
            let metadata = Arc::clone(&metadata);
            async move { json_response::<axum::body::Body>(&*metadata) }
        }),
    )
}
