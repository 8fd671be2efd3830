use bearer_policy::requires;

#[requires(resource = "items://{id}", scopes("api:read"))]
async fn template() {}

#[requires(resource = "list", scopes("api:read"))]
async fn relative() {}

#[requires(resource = "items://list#top", scopes("api:read"))]
async fn fragment() {}

#[requires(resource = "items://list/../secret", scopes("api:read"))]
async fn dot_segment() {}

#[requires(resource = "items://list", scopes("api:read"))]
#[requires(resource = "items://secret", scopes("api:write"))]
async fn two_resources() {}

fn main() {}
