#![deny(warnings)]

// An `AuthInfo` taken by value is typed `<handler>::Authorized` in the
// signature, and the body still sees the `AuthInfo` it was written for,
// whatever the binding's name, path, `mut` or `ref`.
use bearer_policy::DeclaredHandler;
use bearer_policy::{AuthInfo, Authorized, Denied, RequestContext, requires};

fn needs_an_auth_info(auth: AuthInfo) -> Option<String> {
    auth.sub().map(str::to_owned)
}

#[requires(model = global_api)]
pub fn plain(auth: AuthInfo) -> Result<Option<String>, Denied> {
    Ok(needs_an_auth_info(auth))
}

#[requires(model = global_api)]
pub fn qualified_and_mutable(mut caller: bearer_policy::AuthInfo) -> Result<AuthInfo, Denied> {
    caller = caller.with_request(RequestContext::new());
    Ok(caller)
}

#[requires(model = global_api)]
pub fn by_ref(ref auth: AuthInfo) -> Result<bool, Denied> {
    let borrowed: &AuthInfo = auth;
    Ok(borrowed.sub().is_some())
}

#[requires(model = global_api)]
pub fn borrowed(auth: &AuthInfo) -> Result<(), Denied> {
    let _: &AuthInfo = auth;
    Ok(())
}

#[requires(model = org_resource, org_from = path)]
#[requires(model = global_api, scopes("audit"))]
pub async fn stacked(org_id: String, auth: AuthInfo) -> Result<String, Denied> {
    let _: AuthInfo = auth;
    Ok(org_id)
}

/// A direct call, as in a unit test: the `AuthInfo` converts with `.into()`.
#[allow(dead_code)]
async fn call_directly(auth: AuthInfo) -> Result<(), Denied> {
    plain(auth.clone().into())?;
    qualified_and_mutable(auth.clone().into())?;
    by_ref(auth.clone().into())?;
    borrowed(&auth)?;
    stacked("acme".to_owned(), auth.into()).await?;
    Ok(())
}

fn main() {
    let _: fn(plain::Authorized) -> Result<Option<String>, Denied> = plain;
    let _: fn(Authorized<qualified_and_mutable::Handler>) -> Result<AuthInfo, Denied> =
        qualified_and_mutable;
    let _: fn(by_ref::Authorized) -> Result<bool, Denied> = by_ref;
    let _: fn(&AuthInfo) -> Result<(), Denied> = borrowed;
    assert_eq!(
        <plain::Handler as DeclaredHandler>::policies(),
        std::slice::from_ref(&plain::POLICY)
    );
    assert_eq!(<stacked::Handler as DeclaredHandler>::policies(), &stacked::POLICY);
}
