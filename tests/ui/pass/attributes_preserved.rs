#![deny(warnings)]

use bearer_policy::{AuthInfo, requires};

/// Docs, other attributes, `cfg`s, visibility and `unsafe` are kept.
#[inline]
#[must_use = "the result says whether the caller may proceed"]
#[requires(model = global_api)]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn documented(auth: AuthInfo) -> Result<u8, bearer_policy::Denied> {
    #![allow(unused_variables)]
    let unused = 1;
    let _ = auth;
    Ok(1)
}

#[cfg(any())]
#[requires(model = global_api)]
fn compiled_out(auth: AuthInfo) -> Result<(), bearer_policy::Denied> {
    let _ = auth;
    Ok(())
}

#[requires(model = global_api)]
unsafe fn dangerous(_auth: AuthInfo) -> Result<(), bearer_policy::Denied> {
    Ok(())
}

mod inner {
    use bearer_policy::{AuthInfo, requires};

    #[requires(model = global_api)]
    pub(super) async fn visible_to_parent(auth: AuthInfo) -> Result<(), warp::Rejection> {
        let _ = auth;
        Ok(())
    }
}

fn main() {
    let _ = documented;
    let _ = dangerous;
    let _ = &inner::visible_to_parent::POLICY;
    let _ = inner::visible_to_parent;
}
