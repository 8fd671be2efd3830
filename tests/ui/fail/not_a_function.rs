use bearer_policy::requires;

#[requires(model = global_api, scopes("api:read"))]
struct Products;

#[requires(model = global_api, scopes("api:read"))]
mod handlers {}

fn main() {
    let _ = Products;
}
