#![deny(warnings)]

use bearer_policy::{AuthInfo, Denied, requires};

#[derive(Debug)]
pub enum AppError {
    Forbidden(Denied),
    NotFound,
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        AppError::Forbidden(denied)
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A synchronous function with a custom error type.
#[requires(model = org_resource, scopes("reports:read"), org_from = query("org"))]
pub fn report(auth: &AuthInfo, id: u32) -> Result<String, AppError> {
    let _ = auth;
    if id == 0 {
        return Err(AppError::NotFound);
    }
    Ok(format!("report {id}"))
}

/// An alias whose name ends in `Result` is accepted.
#[requires(model = global_api)]
pub fn alias(caller: AuthInfo) -> AppResult<()> {
    let _ = caller;
    Ok(())
}

/// Any error type that converts from `Denied` works, `Box<dyn Error>` too.
#[requires(model = global_api)]
pub fn boxed(auth: AuthInfo) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let _ = auth;
    Ok(())
}

fn main() {
    let _ = (report, alias, boxed);
}
