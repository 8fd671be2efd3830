#![deny(warnings)]

use bearer_policy::{AuthInfo, Denied, requires};

fn main() {
    // Handlers may be declared inside a function body (as in doctests);
    // scope constants they name must then live at module level.
    #[requires(model = global_api, scopes("api:read"))]
    fn local(auth: AuthInfo) -> Result<(), Denied> {
        let _ = auth;
        Ok(())
    }

    #[requires(model = org_resource, org_from = path)]
    fn local_org(org_id: &str, auth: AuthInfo) -> Result<(), Denied> {
        let _ = (org_id, auth);
        Ok(())
    }

    let _ = (local, local_org, &local::POLICY, &local_org::POLICY);
}
