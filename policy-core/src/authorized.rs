//! `Authorized<D>`: the `AuthInfo` of a handler that `#[requires]` protects,
//! typed by the handler's declaration `D`. In axum it is the extractor that
//! authenticates and checks the declared policies before any body extractor
//! runs; with warp, `authorize` yields it; in a direct call it converts from
//! an `AuthInfo` with `.into()`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::OnceLock;

use crate::auth_info::AuthInfo;
use crate::policy::Policy;
use crate::request::Capture;

/// The policies a `#[requires]` declaration holds a handler to. Implemented
/// by the marker type that the attribute generates beside the handler's
/// `POLICY` (`org_data::Requires`); not meant to be implemented by hand.
pub trait Declared: 'static {
    /// The declared policies, all of which must hold.
    fn policies() -> &'static [Policy];

    /// Where the front end keeps what these policies read from a request
    /// (their header and query sources), worked out on the first request:
    /// one `static` per declaration, so later requests allocate nothing.
    fn capture() -> &'static CaptureCell;
}

/// What one declaration's policies read from a request, computed once. The
/// `static` that [`Declared::capture`] returns.
pub struct CaptureCell(OnceLock<Capture>);

impl CaptureCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        CaptureCell(OnceLock::new())
    }

    /// The capture of `policies`' own header and query sources.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn get(&self, policies: &[Policy]) -> &Capture {
        self.0.get_or_init(|| Capture::of(policies))
    }
}

impl Default for CaptureCell {
    fn default() -> Self {
        Self::new()
    }
}

/// An [`AuthInfo`] whose request the policies of declaration `D` allow.
///
/// `#[requires]` gives the handler's `auth: AuthInfo` parameter this type
/// (as `handler::Authorized`), and the handler's body still sees `auth` as
/// an `AuthInfo`. It dereferences to [`AuthInfo`].
///
/// - **axum** (feature `axum`): an extractor; the protection is in the
///   handler's signature, decided before any body extractor runs.
/// - **warp**: [`warp::authorize`](crate::warp::authorize) yields it when
///   the handler takes it.
/// - **A direct call**, as in a unit test, converts its `AuthInfo` with
///   `.into()`: `org_data(org_id, auth.into())`. The handler still checks its
///   policies, so a direct call is as protected as a routed one.
pub struct Authorized<D> {
    auth: AuthInfo,
    declaration: PhantomData<fn() -> D>,
}

impl<D> Authorized<D> {
    /// The `AuthInfo` itself.
    pub fn into_inner(self) -> AuthInfo {
        self.auth
    }
}

impl<D> Deref for Authorized<D> {
    type Target = AuthInfo;

    fn deref(&self) -> &AuthInfo {
        &self.auth
    }
}

impl<D> From<AuthInfo> for Authorized<D> {
    fn from(auth: AuthInfo) -> Self {
        Authorized {
            auth,
            declaration: PhantomData,
        }
    }
}

impl<D> From<Authorized<D>> for AuthInfo {
    fn from(authorized: Authorized<D>) -> Self {
        authorized.auth
    }
}

impl<D> Clone for Authorized<D> {
    fn clone(&self) -> Self {
        self.auth.clone().into()
    }
}

impl<D> fmt::Debug for Authorized<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Authorized").field(&self.auth).finish()
    }
}
