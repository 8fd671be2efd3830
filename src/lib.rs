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
//! The three permission models (`global_api`, `org_permission`,
//! `org_resource`) are explained in [the models guide](guide::models).
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
//! assert_eq!(invite("acme", auth.clone().into()), Ok(()));
//! assert_eq!(invite("globex", auth.into()), Err(Denied::OrganizationMismatch));
//! # }
//! ```
//!
//! ## Guides
//!
//! The [`guide`] module holds the guides, one topic per page: [the
//! models](guide::models), the [warp](guide::warp), [axum](guide::axum),
//! [actix-web](guide::actix) and [tower](guide::tower) front ends,
//! [MCP servers](guide::mcp), [check functions](guide::check_functions),
//! [custom claims](guide::claims), [deployments](guide::deployments),
//! [operating](guide::operating) (metrics, spans and readiness),
//! [OpenAPI documents](guide::openapi), [testing](guide::testing) and
//! [DPoP](guide::dpop), sender-constrained tokens, and
//! [opaque tokens](guide::introspection) (token introspection). Every
//! refusal and its response is in [the responses table](Error#responses).
//!
//! ## Features
//!
//! - `warp` (default): the [`warp`] filters ([guide](guide::warp)).
//! - `testing`: [`testing::TestIssuer`], for your tests and demos
//!   ([guide](guide::testing)).
//! - `axum`: `axum` extractors: [`AuthInfo`], `Option<AuthInfo>`, and the
//!   `handler::Authorized` of a `#[requires]` handler, which makes the
//!   attribute the whole protection of an axum route ([guide](guide::axum)).
//! - `tower`: `tower::BearerLayer`, which authenticates and authorizes
//!   requests to any tower `Service` (hyper, tonic) without a web framework,
//!   putting the [`AuthInfo`] in the request's extensions
//!   ([guide](guide::tower)). axum applications need no layer: the extractors
//!   do it.
//! - `actix`: actix-web 4 extractors ([`AuthInfo`], `actix::OptionalAuthInfo`
//!   and the `handler::Authorized` of a `#[requires]` handler), which decide
//!   before the body is read, and `actix::BearerMiddleware` for routes
//!   written without the macro ([guide](guide::actix)).
//! - `rmcp`: `mcp::McpAuth`, which protects an MCP server on rmcp 3's
//!   streamable HTTP transport as the MCP authorization spec asks, with
//!   `#[requires]` on its tools, prompts and resources ([guide](guide::mcp)).
//! - `utoipa`: `utoipa::PolicySecurity`, a `utoipa::Modify` that puts the
//!   scopes of every `#[requires]` handler in your utoipa 6 OpenAPI document,
//!   with the issuer's security schemes ([guide](guide::openapi)).
//! - `redis`: `RedisReplayStore`, a DPoP replay store shared by replicas
//!   through a Redis server ([guide](guide::dpop)).
//! - `metrics`: counters and histograms of decisions, the token cache and key
//!   sets through the `metrics` facade, for the exporter your application
//!   installs ([guide](guide::operating)).
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

/// Guides: how to protect an API with `bearer-policy`, one topic per page.
/// Documentation only: the modules hold no items.
///
#[doc = include_str!("../docs/guide.md")]
pub mod guide {
    pub mod models {
        #![doc = include_str!("../docs/models.md")]
    }
    pub mod warp {
        #![doc = include_str!("../docs/warp.md")]
    }
    pub mod axum {
        #![doc = include_str!("../docs/axum.md")]
    }
    pub mod tower {
        #![doc = include_str!("../docs/tower.md")]
    }
    pub mod actix {
        #![doc = include_str!("../docs/actix.md")]
    }
    pub mod mcp {
        #![doc = include_str!("../docs/mcp.md")]
    }
    pub mod check_functions {
        #![doc = include_str!("../docs/check_functions.md")]
    }
    pub mod claims {
        #![doc = include_str!("../docs/claims.md")]
    }
    pub mod deployments {
        #![doc = include_str!("../docs/deployments.md")]
    }
    pub mod openapi {
        #![doc = include_str!("../docs/openapi.md")]
    }
    pub mod testing {
        #![doc = include_str!("../docs/testing.md")]
    }
    pub mod dpop {
        #![doc = include_str!("../docs/dpop.md")]
    }
    pub mod introspection {
        #![doc = include_str!("../docs/introspection.md")]
    }
    pub mod operating {
        #![doc = include_str!("../docs/operating.md")]
    }
}

// The README's examples are compiled and run as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
