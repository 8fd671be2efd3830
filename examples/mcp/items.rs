//! The tools, prompt and resource of the MCP example server, shared with
//! its tests: `whoami` (any authenticated caller), `list_items` (`api:read`)
//! and `create_item` (`api:write`); the prompt `suggest_name` (`api:read`
//! and `api:write`); the resource `items://list` (`api:read`). Each is
//! protected by one `#[requires]` line.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bearer_policy::{AuthInfo, requires};
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    ListResourcesResult, PaginatedRequestParams, PromptMessage, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, Role, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{
    ErrorData, RoleServer, ServerHandler, prompt, prompt_handler, prompt_router, schemars, tool,
    tool_handler, tool_router,
};

/// The names created so far: one list for the whole process, shared by
/// every session and caller. rmcp makes a handler per session, so the list
/// lives outside the handler and each handler holds a reference to it.
pub type ItemList = Arc<Mutex<Vec<String>>>;

/// `create_item`'s argument.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct NewItem {
    /// The item's name.
    pub name: String,
}

/// How many times the prompt and the resource were served: what proves, in
/// the tests, that a refused call never ran them.
pub type Served = Arc<AtomicUsize>;

/// The URI of the item list resource.
pub const ITEM_LIST_URI: &str = "items://list";

/// One session's handler.
#[derive(Clone)]
pub struct Items {
    items: ItemList,
    served: Served,
}

/// The caller's name: the token's subject, or its client id.
fn caller(parts: &http::request::Parts) -> Result<String, ErrorData> {
    // The layer put it there; a request without it never reaches an item.
    let auth = parts.extensions.get::<AuthInfo>().ok_or_else(|| {
        ErrorData::internal_error("no AuthInfo: is the McpAuth layer in front?", None)
    })?;
    Ok(auth
        .sub()
        .or(auth.client_id())
        .unwrap_or("an anonymous client")
        .to_owned())
}

#[tool_router(vis = "pub")]
impl Items {
    /// A handler over the shared list, counting in `served` each time the
    /// prompt or the resource is served.
    pub fn new(items: ItemList, served: Served) -> Self {
        Items { items, served }
    }

    /// The names created so far, as JSON.
    fn names(&self) -> String {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        serde_json::to_string(&*items).unwrap_or_default()
    }

    /// Any authenticated caller: no `#[requires]`, the endpoint's token check is enough.
    #[tool(description = "Who is calling: the token's subject, or its client id")]
    async fn whoami(
        &self,
        Extension(parts): Extension<http::request::Parts>,
    ) -> Result<String, ErrorData> {
        caller(&parts)
    }

    #[requires(scopes("api:read"))]
    #[tool(description = "The names of the items created so far")]
    async fn list_items(&self) -> String {
        self.names()
    }

    #[requires(scopes("api:write"))]
    #[tool(description = "Creates an item")]
    async fn create_item(&self, Parameters(item): Parameters<NewItem>) -> String {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.push(item.name.clone());
        format!("created {}", item.name)
    }
}

#[prompt_router(vis = "pub")]
impl Items {
    /// Reads the list and is meant for creating: both scopes.
    #[requires(scopes("api:read", "api:write"))]
    #[prompt(description = "Asks for a name for a new item, unlike the existing ones")]
    async fn suggest_name(
        &self,
        Extension(parts): Extension<http::request::Parts>,
    ) -> Result<Vec<PromptMessage>, ErrorData> {
        self.served.fetch_add(1, Ordering::SeqCst);
        let text = format!(
            "Suggest a name for a new item for {}, unlike these: {}",
            caller(&parts)?,
            self.names()
        );
        Ok(vec![PromptMessage::new_text(Role::User, text)])
    }
}

impl Items {
    /// The resources this server publishes: what `resources/list` answers,
    /// and what the MCP layer checks `#[requires(resource = ...)]` against.
    pub fn resources() -> Vec<Resource> {
        vec![
            Resource::new(ITEM_LIST_URI, "item list")
                .with_description("The names of the items created so far, as JSON")
                .with_mime_type("application/json"),
        ]
    }

    /// `items://list`: rmcp has no per-resource attribute, so the policy
    /// names the URI it protects.
    #[requires(resource = "items://list", scopes("api:read"))]
    fn item_list(&self) -> ReadResourceResult {
        self.served.fetch_add(1, Ordering::SeqCst);
        ReadResourceResult::new(vec![
            ResourceContents::text(self.names(), ITEM_LIST_URI).with_mime_type("application/json"),
        ])
    }
}

#[tool_handler]
#[prompt_handler]
impl ServerHandler for Items {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(Items::resources()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        match request.uri.as_str() {
            ITEM_LIST_URI => Ok(self.item_list().into()),
            _ => Err(ErrorData::resource_not_found("no such resource", None)),
        }
    }
}
