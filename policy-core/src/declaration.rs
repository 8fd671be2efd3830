//! The process-wide inventory of policies declared with `#[requires]`, for
//! audits, generated documentation and tests that every route is protected.

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::policy::Policy;

/// One handler protected by `#[requires]` and the policies it declares.
///
/// Serialises as `{"function": "my_crate::handlers::org_data", "policies": [...]}`,
/// with `"tool"`, `"prompt"` or `"resource"` naming the MCP item it protects.
#[derive(Debug)]
pub struct Declaration {
    function: &'static str,
    policies: &'static [Policy],
    /// The MCP item whose requests the policies protect.
    item: Option<(McpKind, &'static str)>,
}

/// The kind of MCP item a `#[requires]` protects: what the `name` of
/// [`Declaration::mcp_item`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum McpKind {
    /// A tool (`tools/call`), by the name the server publishes.
    Tool,
    /// A prompt (`prompts/get`), by the name the server publishes.
    Prompt,
    /// A resource (`resources/read`, `resources/subscribe`, ...), by its
    /// exact URI.
    Resource,
}

impl McpKind {
    /// `"tool"`, `"prompt"` or `"resource"`: the key of the item in a
    /// serialised [`Declaration`], and the argument of `#[requires]` naming it.
    pub fn as_str(self) -> &'static str {
        match self {
            McpKind::Tool => "tool",
            McpKind::Prompt => "prompt",
            McpKind::Resource => "resource",
        }
    }
}

impl std::fmt::Display for McpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Declaration {
    /// Used by the code `#[requires]` generates.
    #[doc(hidden)]
    pub const fn new(function: &'static str, policies: &'static [Policy]) -> Self {
        Declaration {
            function,
            policies,
            item: None,
        }
    }

    /// Used by the code `#[requires]` generates on an MCP tool, prompt or resource.
    #[doc(hidden)]
    pub const fn mcp(
        function: &'static str,
        kind: McpKind,
        name: &'static str,
        policies: &'static [Policy],
    ) -> Self {
        Declaration {
            function,
            policies,
            item: Some((kind, name)),
        }
    }

    /// The MCP item these policies protect: its kind, and its name as the
    /// server publishes it (a tool's or a prompt's name, a resource's URI);
    /// `None` for an HTTP handler.
    pub fn mcp_item(&self) -> Option<(McpKind, &'static str)> {
        self.item
    }

    /// The MCP tool these policies protect, by the name the server publishes
    /// (`#[tool(name = "...")]`, or the method's name): `None` for an HTTP
    /// handler, a prompt or a resource.
    pub fn tool_name(&self) -> Option<&'static str> {
        match self.item {
            Some((McpKind::Tool, name)) => Some(name),
            _ => None,
        }
    }

    /// The handler's path, e.g. `my_service::routes::org_data`.
    pub fn function(&self) -> &'static str {
        self.function
    }

    /// The policies it declares, all of which must hold.
    pub fn policies(&self) -> &'static [Policy] {
        self.policies
    }
}

impl Serialize for Declaration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s =
            serializer.serialize_struct("Declaration", 2 + usize::from(self.item.is_some()))?;
        s.serialize_field("function", self.function)?;
        match self.item {
            Some((McpKind::Tool, name)) => s.serialize_field("tool", name)?,
            Some((McpKind::Prompt, name)) => s.serialize_field("prompt", name)?,
            Some((McpKind::Resource, name)) => s.serialize_field("resource", name)?,
            None => {}
        }
        s.serialize_field("policies", self.policies)?;
        s.end()
    }
}

inventory::collect!(Declaration);

/// Every policy declared with `#[requires]` in the program, sorted by function path.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// for declaration in bearer_policy::declared() {
///     println!("{} requires {:?}", declaration.function(), declaration.policies());
/// }
/// ```
pub fn declared() -> Vec<&'static Declaration> {
    let mut all: Vec<&'static Declaration> = inventory::iter::<Declaration>.into_iter().collect();
    all.sort_by_key(|d| d.function);
    all
}
