//! The process-wide inventory of policies declared with `#[requires]`, for
//! audits, generated documentation and tests that every route is protected.

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::policy::Policy;

/// One handler protected by `#[requires]` and the policies it declares.
///
/// Serialises as `{"function": "my_crate::handlers::org_data", "policies": [...]}`,
/// with `"tool": "<name>"` for an MCP tool.
#[derive(Debug)]
pub struct Declaration {
    function: &'static str,
    policies: &'static [Policy],
    /// The MCP tool whose calls the policies protect (an rmcp `#[tool]` method).
    tool: Option<&'static str>,
}

impl Declaration {
    /// Used by the code `#[requires]` generates.
    #[doc(hidden)]
    pub const fn new(function: &'static str, policies: &'static [Policy]) -> Self {
        Declaration {
            function,
            policies,
            tool: None,
        }
    }

    /// Used by the code `#[requires]` generates on an MCP tool.
    #[doc(hidden)]
    pub const fn tool(
        function: &'static str,
        tool: &'static str,
        policies: &'static [Policy],
    ) -> Self {
        Declaration {
            function,
            policies,
            tool: Some(tool),
        }
    }

    /// The MCP tool these policies protect, by the name the server publishes
    /// (`#[tool(name = "...")]`, or the method's name): `None` for an HTTP handler.
    pub fn tool_name(&self) -> Option<&'static str> {
        self.tool
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
            serializer.serialize_struct("Declaration", 2 + usize::from(self.tool.is_some()))?;
        s.serialize_field("function", self.function)?;
        if let Some(tool) = self.tool {
            s.serialize_field("tool", tool)?;
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
