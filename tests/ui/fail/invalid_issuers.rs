use bearer_policy::{AuthInfo, Denied, requires};

#[requires(model = global_api, issuers("https://tenant.example", "https://tenant.example"))]
fn duplicate(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, issuers("https://tenant .example", ""))]
fn whitespace_and_empty(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, issuers())]
fn empty_list(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api, issuer("https://tenant.example"))]
fn singular(auth: AuthInfo) -> Result<(), Denied> {
    let _ = auth;
    Ok(())
}

fn main() {}
