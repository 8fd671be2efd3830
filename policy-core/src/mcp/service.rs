//! [`McpService`]: one request to the MCP endpoint, decided before rmcp sees
//! it. The head goes through the one authorize path
//! ([`Requirements::authorize`]: a token whose audience is the endpoint);
//! then a POST's body is read within its bound, its message read once
//! ([`message::read`]), and a call of a protected tool, prompt or resource
//! decided against its policies ([`decide`]); the same bytes go on, with the [`AuthInfo`] in the
//! request's extensions.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, header};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, LengthLimitError, Limited};
use tower_service::Service;

use super::challenge::{Challenges, message_refusal};
use super::message::{self, Call, MessageError};
use super::protected::Protected;
use crate::auth_info::AuthInfo;
use crate::declaration::McpKind;
use crate::error::Error;
use crate::metadata::ResourceMetadata;
use crate::request::{PathParams, RequestHead, Requirements, decide};
use crate::tower::ResponseBody;
use crate::validator::Validator;

/// What the layer and every service it builds share.
pub(crate) struct Shared {
    pub(crate) validator: Validator,
    /// The endpoint's: a valid token for this resource.
    pub(crate) requirements: Requirements,
    /// The declared policies of tools, prompts and resources.
    pub(crate) protected: Protected,
    pub(crate) challenges: Challenges,
    pub(crate) metadata: Arc<ResourceMetadata>,
    pub(crate) endpoint_path: String,
    pub(crate) metadata_path: String,
    pub(crate) max_message_bytes: usize,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpAuth")
            .field("resource", &self.metadata.resource)
            .field("protected_tools", &self.protected.names(McpKind::Tool))
            .field("protected_prompts", &self.protected.names(McpKind::Prompt))
            .field(
                "protected_resources",
                &self.protected.names(McpKind::Resource),
            )
            .field("max_message_bytes", &self.max_message_bytes)
            .finish()
    }
}

/// The [`Service`] that [`McpAuth`](super::McpAuth) wraps around rmcp's
/// `StreamableHttpService` (or any service taking the message as
/// `Full<Bytes>`).
#[derive(Clone)]
pub struct McpService<S> {
    pub(super) inner: S,
    pub(super) shared: Arc<Shared>,
}

impl<S: fmt::Debug> fmt::Debug for McpService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpService")
            .field("inner", &self.inner)
            .field("auth", &self.shared)
            .finish()
    }
}

/// The future of [`McpService`]: boxed, as rmcp's own is.
pub type McpFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, ResBody> Service<Request<B>> for McpService<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = McpFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // tower's clone-and-swap: the readied service goes with this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            match shared.admit(request).await {
                Ok(request) => inner
                    .call(request)
                    .await
                    .map(|response| response.map(Either::Left)),
                Err(refusal) => Ok(refusal.map(Either::Right)),
            }
        })
    }
}

impl Shared {
    /// The request as rmcp gets it (the same message bytes, the [`AuthInfo`]
    /// in its extensions), or the refusal.
    #[allow(clippy::result_large_err)]
    async fn admit<B>(
        &self,
        request: Request<B>,
    ) -> Result<Request<Full<Bytes>>, Response<Full<Bytes>>>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut parts, body) = request.into_parts();
        // Before the body: a request without a valid token costs no upload,
        // whatever it carries. No path parameters: MCP items have none.
        let auth = self
            .requirements
            .authorize(&self.validator, &RequestHead::from_parts(&parts))
            .await
            .map_err(|rejected| self.challenges.refusal(rejected.error(), None))?;
        let message = if parts.method == Method::POST {
            let message = self
                .read_body(&parts.headers, body)
                .await
                .map_err(|error| message_refusal(&error))?;
            let call =
                message::read(&message, &parts.headers).map_err(|error| message_refusal(&error))?;
            self.decide(&call, &auth)?;
            message
        } else {
            // GET opens the stream, DELETE ends the session: no message.
            Bytes::new()
        };
        parts.extensions.insert(auth);
        Ok(Request::from_parts(parts, Full::new(message)))
    }

    /// The whole body, refused (413) past the limit, announced or not.
    async fn read_body<B>(&self, headers: &http::HeaderMap, body: B) -> Result<Bytes, MessageError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let too_large = MessageError::TooLarge {
            limit: self.max_message_bytes,
        };
        let announced = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if announced.is_some_and(|length| length > self.max_message_bytes as u64) {
            return Err(too_large);
        }
        match Limited::new(body, self.max_message_bytes).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(error) if error.is::<LengthLimitError>() => Err(too_large),
            Err(_) => Err(MessageError::Unreadable),
        }
    }

    /// A call of a tool, prompt or resource, decided against its policies
    /// (none: authenticated is enough).
    // The refusal is the response itself, built once per refused request.
    #[allow(clippy::result_large_err)]
    fn decide(&self, call: &Call, auth: &AuthInfo) -> Result<(), Response<Full<Bytes>>> {
        let Call::Item(kind, name) = call else {
            return Ok(());
        };
        let Some(item) = self
            .protected
            .find(*kind, name)
            .map_err(|error| message_refusal(&error))?
        else {
            return Ok(());
        };
        decide(item.policies.iter().copied(), auth, PathParams::None).map_err(|denied| {
            // The name, not the URI: a resource URI may carry a user's data.
            let named = if *kind == McpKind::Resource { "" } else { name };
            tracing::debug!(%kind, name = named, code = denied.code(), "MCP call refused");
            self.challenges
                .refusal(&Error::Denied(denied), Some(&item.scopes))
        })
    }
}
