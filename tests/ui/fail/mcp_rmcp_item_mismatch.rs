use bearer_policy::requires;

struct Items;

impl Items {
    #[requires(tool = "make_item", scopes("api:write"))]
    #[rmcp::tool(name = "create_item")]
    async fn create(&self) -> String {
        String::new()
    }

    #[requires(prompt = "summary", scopes("api:read"))]
    #[rmcp::tool]
    async fn list_items(&self) -> String {
        String::new()
    }

    #[requires(resource = "items://list", scopes("api:read"))]
    #[rmcp::prompt]
    async fn summary(&self) -> Vec<rmcp::model::PromptMessage> {
        Vec::new()
    }

    #[requires(scopes("api:read"))]
    async fn neither(&self) {}
}

fn main() {}
