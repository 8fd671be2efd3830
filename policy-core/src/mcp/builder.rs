//! [`McpAuthBuilder`]: the MCP endpoint's settings, checked once at start-up.

use std::sync::Arc;

use http::Uri;

use super::challenge::Challenges;
use super::protected::{Protected, Published};
use super::service::Shared;
use super::{DEFAULT_MAX_MESSAGE_BYTES, McpAuth};
use crate::declaration::McpKind;
use crate::error::ConfigError;
use crate::metadata::{PROTECTED_RESOURCE_METADATA_PATH, ResourceMetadata};
use crate::policy::{Model, Policy};
use crate::request::Requirements;
use crate::validator::Validator;

/// Builds an [`McpAuth`]; see [`McpAuth::builder`].
#[derive(Debug)]
pub struct McpAuthBuilder {
    validator: Validator,
    published: Published,
    challenge_scopes: Option<Vec<String>>,
    max_message_bytes: usize,
}

impl McpAuthBuilder {
    pub(super) fn new(validator: Validator) -> Self {
        McpAuthBuilder {
            validator,
            published: Published::default(),
            challenge_scopes: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }

    /// The tools the server publishes: every tool a `#[requires]` declares
    /// must be one of them, or [`build`](McpAuthBuilder::build) fails (a
    /// misspelt or renamed tool would otherwise run unprotected by its
    /// policy). Call it once per router when the server merges several.
    ///
    /// Required as soon as the program declares a tool policy; prompts and
    /// resources are published the same way
    /// ([`prompts`](McpAuthBuilder::prompts), [`resources`](McpAuthBuilder::resources)).
    pub fn tools<S: Send + Sync + 'static>(
        self,
        router: &rmcp::handler::server::router::tool::ToolRouter<S>,
    ) -> Self {
        self.tool_names(router.list_all().into_iter().map(|tool| tool.name))
    }

    /// [`tools`](McpAuthBuilder::tools) by name, for a server that lists its
    /// tools without a `ToolRouter`.
    pub fn tool_names<N: AsRef<str>>(self, names: impl IntoIterator<Item = N>) -> Self {
        self.publish(McpKind::Tool, names)
    }

    /// The prompts the server publishes (rmcp's `#[prompt_router]` writes
    /// `prompt_router()`): every prompt a `#[requires]` declares must be one
    /// of them, or [`build`](McpAuthBuilder::build) fails. Call it once per
    /// router when the server merges several.
    pub fn prompts<S: Send + Sync + 'static>(
        self,
        router: &rmcp::handler::server::router::prompt::PromptRouter<S>,
    ) -> Self {
        self.prompt_names(router.list_all().into_iter().map(|prompt| prompt.name))
    }

    /// [`prompts`](McpAuthBuilder::prompts) by name, for a server that lists
    /// its prompts without a `PromptRouter`.
    pub fn prompt_names<N: AsRef<str>>(self, names: impl IntoIterator<Item = N>) -> Self {
        self.publish(McpKind::Prompt, names)
    }

    /// The resources the server publishes (what its `list_resources`
    /// answers): every resource a `#[requires(resource = "...")]` declares
    /// must be one of them, by its exact URI, or
    /// [`build`](McpAuthBuilder::build) fails.
    pub fn resources<'r>(
        self,
        resources: impl IntoIterator<Item = &'r rmcp::model::Resource>,
    ) -> Self {
        self.resource_uris(resources.into_iter().map(|resource| resource.uri.as_str()))
    }

    /// [`resources`](McpAuthBuilder::resources) by URI.
    pub fn resource_uris<N: AsRef<str>>(self, uris: impl IntoIterator<Item = N>) -> Self {
        self.publish(McpKind::Resource, uris)
    }

    fn publish<N: AsRef<str>>(mut self, kind: McpKind, names: impl IntoIterator<Item = N>) -> Self {
        let published = self.published.entry(kind).or_default();
        published.extend(names.into_iter().map(|name| name.as_ref().to_owned()));
        self
    }

    /// The scopes a 401 challenge names (`scope="…"`): what a client without
    /// a token should ask for. Default: every scope of the declared tool,
    /// prompt and resource policies, so that one authorization serves every
    /// item; name fewer to let clients start with less and step up on an
    /// item's 403.
    pub fn challenge_scopes<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.challenge_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The largest JSON-RPC message read, in bytes; a larger body is refused
    /// with 413 before it is read further. Default: 4 MiB, rmcp's own limit.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// Checks the settings against the program's declarations.
    ///
    /// # Errors
    ///
    /// [`ConfigError::McpResource`] when the validator has no audience, or it
    /// is not an absolute `http`/`https` URI (the canonical URI of the
    /// endpoint, RFC 8707) whose path a route can serve;
    /// [`ConfigError::UnpublishedMcpItem`] when a `#[requires]` protects a
    /// tool, prompt or resource the server does not publish.
    pub fn build(self) -> Result<McpAuth, ConfigError> {
        let resource = self
            .validator
            .audience()
            .ok_or_else(|| ConfigError::McpResource("the validator has no audience".into()))?
            .to_owned();
        let endpoint = Endpoint::parse(&resource)?;
        let protected = Protected::declared(&self.published)?;
        let scopes_supported = protected.scopes();
        let challenge_scopes = self
            .challenge_scopes
            .unwrap_or_else(|| scopes_supported.clone())
            .join(" ");
        let metadata = ResourceMetadata {
            resource: resource.clone(),
            authorization_servers: self
                .validator
                .fetching_issuers()
                .map(str::to_owned)
                .collect(),
            scopes_supported,
            bearer_methods_supported: vec!["header".to_owned()],
        };
        // Every request: a token whose audience is this endpoint, else 401.
        let requirements = Requirements::new(Policy::new(Model::GlobalApi).audience(resource))
            .audience_as_authentication();
        Ok(McpAuth {
            shared: Arc::new(Shared {
                validator: self.validator,
                requirements,
                protected,
                challenges: Challenges {
                    metadata_url: endpoint.metadata_url,
                    scopes: challenge_scopes,
                },
                metadata: Arc::new(metadata),
                endpoint_path: endpoint.path,
                metadata_path: endpoint.metadata_path,
                max_message_bytes: self.max_message_bytes,
            }),
        })
    }
}

/// Where the endpoint and its metadata are, from its canonical URI.
struct Endpoint {
    /// The endpoint's path, as routed: `/mcp`.
    path: String,
    /// The path-inserted metadata path: `/.well-known/oauth-protected-resource/mcp`.
    metadata_path: String,
    /// Its absolute URL, advertised in every challenge.
    metadata_url: String,
}

impl Endpoint {
    fn parse(resource: &str) -> Result<Endpoint, ConfigError> {
        let refuse = |why: &str| ConfigError::McpResource(format!("{resource:?} {why}"));
        let uri: Uri = resource.parse().map_err(|_| refuse("is not a URI"))?;
        let scheme = uri.scheme_str().ok_or_else(|| refuse("is not absolute"))?;
        if scheme != "https" && scheme != "http" {
            return Err(refuse("is not an http or https URI"));
        }
        let authority = uri.authority().ok_or_else(|| refuse("has no host"))?;
        if uri.query().is_some() || resource.contains('#') {
            return Err(refuse("has a query or a fragment"));
        }
        // A path axum can route as written: no captures, no wildcards.
        let path = uri.path().trim_end_matches('/');
        if !path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
        {
            return Err(refuse(
                "has a path with characters other than letters, digits and -._~/",
            ));
        }
        let metadata_path = format!("{PROTECTED_RESOURCE_METADATA_PATH}{path}");
        Ok(Endpoint {
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
            metadata_url: format!("{scheme}://{authority}{metadata_path}"),
            metadata_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_is_path_inserted() {
        let endpoint = Endpoint::parse("http://127.0.0.1:3000/mcp").unwrap();
        assert_eq!(endpoint.path, "/mcp");
        assert_eq!(
            endpoint.metadata_path,
            "/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            endpoint.metadata_url,
            "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp"
        );
        let root = Endpoint::parse("https://mcp.example.com").unwrap();
        assert_eq!(root.path, "/");
        assert_eq!(
            root.metadata_url,
            "https://mcp.example.com/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn a_canonical_uri_that_cannot_be_served_is_refused() {
        for bad in [
            "mcp.example.com/mcp",
            "ftp://mcp.example.com/mcp",
            "https://mcp.example.com/mcp?x=1",
            "https://mcp.example.com/{tool}",
            "/mcp",
        ] {
            assert!(
                matches!(Endpoint::parse(bad), Err(ConfigError::McpResource(_))),
                "{bad}"
            );
        }
    }
}
