//! MCP servers on rmcp 3's streamable HTTP transport, protected as the MCP
//! authorization spec (2025-11-25) asks: [`McpAuth`] authenticates every
//! request to the endpoint, decides each call of a tool, prompt or resource
//! against its `#[requires]` before rmcp dispatches it, answers with the spec's
//! challenges, and serves the RFC 9728 metadata. Feature `rmcp`.
//!
//! ```no_run
//! # extern crate bearer_policy_core as bearer_policy;
//! # use rmcp::ServerHandler;
//! # use rmcp::handler::server::router::tool::ToolRouter;
//! # // An rmcp server: `#[tool_router]` writes `tool_router()` (see the guide).
//! # #[derive(Clone)]
//! # struct Items;
//! # impl ServerHandler for Items {}
//! # impl Items { fn tool_router() -> ToolRouter<Items> { ToolRouter::new() } }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bearer_policy::Validator;
//! use bearer_policy::mcp::McpAuth;
//! use rmcp::transport::streamable_http_server::{
//!     StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
//! };
//!
//! let validator = Validator::builder()
//!     .issuer("https://auth.example.com/oidc")
//!     // The canonical URI of the endpoint: tokens must be issued for it.
//!     .audience("https://mcp.example.com/mcp")
//!     .build()?;
//! // Fails if a `#[requires]` names a tool the router does not publish.
//! let auth = McpAuth::builder(validator).tools(&Items::tool_router()).build()?;
//! let service = StreamableHttpService::new(
//!     || Ok(Items),
//!     LocalSessionManager::default().into(),
//!     StreamableHttpServerConfig::default(),
//! );
//! // `/mcp` behind the layer, and the metadata at
//! // `/.well-known/oauth-protected-resource/mcp` and at the root:
//! // serve it with `axum::serve`, or merge it into your router.
//! let app: axum::Router = auth.router(service);
//! # Ok(()) }
//! ```
//!
//! The [MCP guide](https://docs.rs/bearer-policy/latest/bearer_policy/guide/mcp/index.html)
//! explains the canonical URI, scopes per tool, step-up, and how each point
//! of the spec is met.

mod builder;
mod challenge;
mod message;
mod protected;
mod service;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use tower_layer::Layer;
use tower_service::Service;

pub use builder::McpAuthBuilder;
pub use message::MessageError;
pub use service::{McpFuture, McpService};

use crate::metadata::{PROTECTED_RESOURCE_METADATA_PATH, ResourceMetadata};
use crate::rejected::json_response;
use crate::validator::Validator;
use service::Shared;

/// rmcp's own limit on a message, kept as the default of ours.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The protection of one MCP endpoint: a [`Layer`] around rmcp's
/// `StreamableHttpService`, and [`router`](McpAuth::router), the endpoint
/// with its metadata as an axum `Router`. Cheap to clone.
///
/// For every request (POST, GET, DELETE), in this order:
///
/// 1. the one authorize path: one `Authorization: Bearer` header (two are
///    400; a token in the query string is never read), a valid token whose
///    audience is the canonical URI (the validator's audience), else 401
///    with the metadata URL and the scopes to ask for. A session id is never
///    a credential: every request is authenticated.
/// 2. a POST's body, read to at most
///    [`max_message_bytes`](McpAuthBuilder::max_message_bytes) (413 past it),
///    parsed once; every ambiguity is 400 ([`MessageError`]).
/// 3. a `tools/call`, `prompts/get` or resource method (`resources/read`,
///    `subscribe`, `unsubscribe`, `directory/read`), request or
///    notification: the item's `#[requires]` policies, else 403
///    `insufficient_scope` naming every scope of the item (an item declared
///    with `dpop = required` refuses a token not bound to a DPoP key: 403
///    `dpop_binding_required`, naming no scope).
/// 4. rmcp gets the same bytes, with the [`AuthInfo`](crate::AuthInfo) in
///    the request's extensions; a tool reads it from rmcp's
///    `Extension<http::request::Parts>`: `parts.extensions.get::<AuthInfo>()`
///    (in a tool, a prompt, or `read_resource`'s `RequestContext`).
#[derive(Clone)]
pub struct McpAuth {
    shared: Arc<Shared>,
}

impl McpAuth {
    /// Settings for the endpoint whose canonical URI is `validator`'s audience.
    pub fn builder(validator: Validator) -> McpAuthBuilder {
        McpAuthBuilder::new(validator)
    }

    /// The RFC 9728 metadata: `resource` the canonical URI, the issuers,
    /// the scopes of the declared tool, prompt and resource policies, `bearer_methods_supported:
    /// ["header"]`.
    pub fn metadata(&self) -> &ResourceMetadata {
        &self.shared.metadata
    }

    /// The endpoint's path, from its canonical URI (`/mcp`).
    pub fn endpoint_path(&self) -> &str {
        &self.shared.endpoint_path
    }

    /// The path-inserted metadata path (`/.well-known/oauth-protected-resource/mcp`).
    pub fn metadata_path(&self) -> &str {
        &self.shared.metadata_path
    }

    /// The metadata URL every 401 and 403 of the endpoint advertises.
    pub fn metadata_url(&self) -> &str {
        &self.shared.challenges.metadata_url
    }

    /// An axum `Router` with `service` (rmcp's `StreamableHttpService`)
    /// behind this layer at the endpoint's path, and the metadata at the
    /// path-inserted location and at the root. Merge it into your own.
    pub fn router<S, ResBody>(&self, service: S) -> axum::Router
    where
        S: Service<Request<Full<Bytes>>, Response = Response<ResBody>, Error = Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send,
        ResBody: http_body::Body<Data = Bytes> + Send + 'static,
        ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let metadata = Arc::clone(&self.shared.metadata);
        let serve_metadata = move || {
            let metadata = Arc::clone(&metadata);
            async move { json_response::<axum::body::Body>(&*metadata) }
        };
        let mut router = axum::Router::new()
            .route_service(self.endpoint_path(), self.layer(service))
            .route(
                PROTECTED_RESOURCE_METADATA_PATH,
                axum::routing::get(serve_metadata.clone()),
            );
        if self.metadata_path() != PROTECTED_RESOURCE_METADATA_PATH {
            router = router.route(self.metadata_path(), axum::routing::get(serve_metadata));
        }
        router
    }
}

impl std::fmt::Debug for McpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shared.fmt(f)
    }
}

impl<S> Layer<S> for McpAuth {
    type Service = McpService<S>;

    fn layer(&self, inner: S) -> McpService<S> {
        McpService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}
