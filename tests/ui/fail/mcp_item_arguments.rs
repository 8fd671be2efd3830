use bearer_policy::requires;

#[requires(tool = "", scopes("api:read"))]
async fn unnamed() {}

#[requires(tool = "list_items", prompt = "list_items", scopes("api:read"))]
async fn both() {}

#[requires(resource = items_list, scopes("api:read"))]
async fn not_a_string() {}

#[requires(prompt, scopes("api:read"))]
async fn no_value() {}

#[requires(prompt = "summary", prompt = "summary", scopes("api:read"))]
async fn twice() {}

#[requires(resource = "items://list", org_from = path, scopes("api:read"))]
async fn path_parameter() {}

fn main() {}
