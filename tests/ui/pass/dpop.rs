#![deny(warnings)]

use bearer_policy::{AuthInfo, DpopMode, requires};
use warp::{Rejection, Reply};

/// Moves money: bearer tokens are refused here whatever the validator accepts.
#[requires(model = global_api, scopes("payments:write"), dpop = required)]
pub async fn transfer(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(format!("transfer by {:?}", auth.sub()))
}

#[requires(model = global_api, scopes("reports:read"))]
pub async fn report(auth: AuthInfo) -> Result<impl Reply, Rejection> {
    Ok(format!("report for {:?}", auth.sub()))
}

fn main() {
    assert_eq!(transfer::POLICY.dpop_mode(), Some(DpopMode::Required));
    assert_eq!(report::POLICY.dpop_mode(), None);
}
