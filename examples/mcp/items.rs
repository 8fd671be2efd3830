//! The tools of the MCP example server, shared with its tests: `whoami`
//! (any authenticated caller), `list_items` (`api:read`) and `create_item`
//! (`api:write`), each protected by one `#[requires]` line.

use std::sync::{Arc, Mutex, PoisonError};

use bearer_policy::{AuthInfo, requires};
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, schemars, tool, tool_handler, tool_router};

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

/// One session's handler.
#[derive(Clone)]
pub struct Items {
    items: ItemList,
}

#[tool_router(vis = "pub")]
impl Items {
    /// A handler over the shared list.
    pub fn new(items: ItemList) -> Self {
        Items { items }
    }

    /// Any authenticated caller: no `#[requires]`, the endpoint's token check is enough.
    #[tool(description = "Who is calling: the token's subject, or its client id")]
    async fn whoami(
        &self,
        Extension(parts): Extension<http::request::Parts>,
    ) -> Result<String, ErrorData> {
        // The layer put it there; a request without it never reaches a tool.
        let auth = parts.extensions.get::<AuthInfo>().ok_or_else(|| {
            ErrorData::internal_error("no AuthInfo: is the McpAuth layer in front?", None)
        })?;
        Ok(auth
            .sub()
            .or(auth.client_id())
            .unwrap_or("an anonymous client")
            .to_owned())
    }

    #[requires(scopes("api:read"))]
    #[tool(description = "The names of the items created so far")]
    async fn list_items(&self) -> String {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        serde_json::to_string(&*items).unwrap_or_default()
    }

    #[requires(scopes("api:write"))]
    #[tool(description = "Creates an item")]
    async fn create_item(&self, Parameters(item): Parameters<NewItem>) -> String {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.push(item.name.clone());
        format!("created {}", item.name)
    }
}

#[tool_handler]
impl ServerHandler for Items {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}
