// An actix handler whose policy reads the organization from the path, with
// no path extractor at all: the attribute names each framework's way.
use bearer_policy::actix::Rejected;
use bearer_policy::{AuthInfo, requires};

#[requires(model = org_resource, scopes("api:read"), org_from = path)]
async fn item(auth: AuthInfo) -> Result<String, Rejected> {
    Ok(format!("{:?}", auth.sub()))
}

fn main() {}
