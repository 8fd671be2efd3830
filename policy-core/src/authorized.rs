//! `Authorized<H>`: the `AuthInfo` of a handler that `#[requires]` protects,
//! typed by the handler `H`. In axum it is the extractor that authenticates
//! and decides the declared policies before any body extractor runs; warp's
//! filters yield it; in a direct call it converts from an `AuthInfo` with
//! `.into()`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use crate::auth_info::AuthInfo;
use crate::error::Denied;
use crate::policy::Policy;
use crate::request::{PathParams, Requirements, RequirementsCell, decide};

/// A handler that `#[requires]` protects, as a type: the `Handler` marker
/// that the attribute generates beside the handler's `POLICY`
/// (`org_data::Handler`). Not meant to be implemented by hand.
pub trait DeclaredHandler: 'static {
    /// The declared policies, all of which must hold.
    fn policies() -> &'static [Policy];

    /// Where the front end keeps the [`Requirements`] of these policies,
    /// built on the first request: one `static` per handler, so that later
    /// requests allocate nothing.
    fn requirements() -> &'static RequirementsCell;
}

/// The [`Requirements`] of handler `H`, built once.
#[cfg_attr(
    not(any(feature = "axum", feature = "warp", feature = "actix")),
    allow(dead_code)
)]
pub(crate) fn requirements_of<H: DeclaredHandler>() -> &'static Requirements {
    H::requirements().get(H::policies())
}

/// An [`AuthInfo`] whose request the policies of handler `H` allow.
///
/// `#[requires]` gives the handler's `auth: AuthInfo` parameter this type
/// (as `handler::Authorized`), and the handler's body still sees `auth` as
/// an `AuthInfo`. It dereferences to [`AuthInfo`].
///
/// - **axum** (feature `axum`): an extractor; the protection is in the
///   handler's signature, decided before any body extractor runs.
/// - **warp**: `authorize`, `authorize_path` and `authenticate` yield it
///   when the handler takes it.
/// - **A direct call**, as in a unit test, converts its `AuthInfo` with
///   `.into()`: `org_data(org_id, auth.into())`. The handler still decides
///   its policies, so a direct call is as protected as a routed one.
pub struct Authorized<H> {
    auth: AuthInfo,
    /// Whether the route decided `H`'s policies, with the route's own path
    /// parameters (actix's and axum's extractors) or with none (warp's
    /// `authorize` given `H`'s own policies): the handler's check then has
    /// nothing to add for an organization only the route names, nor for
    /// policies that read nothing of the handler's parameters, and skips.
    decided_on_route: bool,
    handler: PhantomData<fn() -> H>,
}

impl<H> Authorized<H> {
    /// `auth`, which the route found `H`'s policies allow, path parameters
    /// included.
    pub(crate) fn decided_on_route(auth: AuthInfo) -> Self {
        Authorized {
            auth,
            decided_on_route: true,
            handler: PhantomData,
        }
    }

    /// The `AuthInfo` itself.
    pub fn into_inner(self) -> AuthInfo {
        self.auth
    }
}

impl<H> Deref for Authorized<H> {
    type Target = AuthInfo;

    fn deref(&self) -> &AuthInfo {
        &self.auth
    }
}

impl<H> From<AuthInfo> for Authorized<H> {
    fn from(auth: AuthInfo) -> Self {
        Authorized {
            auth,
            decided_on_route: false,
            handler: PhantomData,
        }
    }
}

impl<H> From<Authorized<H>> for AuthInfo {
    fn from(authorized: Authorized<H>) -> Self {
        authorized.auth
    }
}

impl<H> Clone for Authorized<H> {
    fn clone(&self) -> Self {
        Authorized {
            auth: self.auth.clone(),
            decided_on_route: self.decided_on_route,
            handler: PhantomData,
        }
    }
}

/// Whether the route decided the policies of `auth`'s handler (an extractor,
/// path parameters included, or warp's `authorize` given the handler's own
/// policies): what `#[requires]` asks before its own check of an
/// organization only the route names (`web::Path<(String, u64)>`), or of
/// policies that read nothing of the handler's parameters.
#[doc(hidden)]
pub fn decided_on_route<H>(auth: &Authorized<H>) -> bool {
    auth.decided_on_route
}

impl<H> fmt::Debug for Authorized<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Authorized").field(&self.auth).finish()
    }
}

/// An [`AuthInfo`] with the proof that a filter decided `requirements` for
/// its request and allowed it: what [`FromAuthInfo::from_allowed`] takes.
/// Only this crate's front ends make one, after the decision, and it holds
/// the very `AuthInfo` decided: no caller can claim a decision that was not
/// made, nor lend one to another `AuthInfo`.
pub struct Decided<'a> {
    auth: AuthInfo,
    requirements: &'a Requirements,
}

impl<'a> Decided<'a> {
    /// `auth`, which `requirements` just allowed.
    #[cfg_attr(not(feature = "warp"), allow(dead_code))]
    pub(crate) fn allowed_by(auth: AuthInfo, requirements: &'a Requirements) -> Self {
        Decided { auth, requirements }
    }

    /// The `AuthInfo` decided, without the proof.
    pub fn into_auth_info(self) -> AuthInfo {
        self.auth
    }
}

impl fmt::Debug for Decided<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decided").finish_non_exhaustive()
    }
}

/// What warp's filters hand the next filter or handler: an [`AuthInfo`], or
/// the [`Authorized`] of a `#[requires]` handler.
///
/// After a filter that only authenticates (`authenticate`), an `Authorized`
/// decides its handler's policies on the way when none reads a path
/// parameter (which the filter cannot see), so that a caller without
/// permission is refused before the body is read; the handler decides them
/// again in its body in any case. After `authorize` given the handler's own
/// policies (`authorize(v, &handler::POLICY)`), the handler does not decide
/// them again.
pub trait FromAuthInfo: Sized + Send + 'static {
    /// `auth`, converted, or the denial of its handler's policies.
    fn from_auth_info(auth: AuthInfo) -> Result<Self, Denied>;

    /// The [`Decided`] `AuthInfo`, whose request a filter found its policies
    /// allow with no path parameter: the handler whose policies these
    /// exactly are has nothing left to decide. Any other type converts as
    /// [`from_auth_info`](Self::from_auth_info) does.
    fn from_allowed(decided: Decided<'_>) -> Result<Self, Denied> {
        Self::from_auth_info(decided.into_auth_info())
    }
}

impl FromAuthInfo for AuthInfo {
    fn from_auth_info(auth: AuthInfo) -> Result<Self, Denied> {
        Ok(auth)
    }
}

impl<H: DeclaredHandler> FromAuthInfo for Authorized<H> {
    fn from_auth_info(auth: AuthInfo) -> Result<Self, Denied> {
        let requirements = requirements_of::<H>();
        if !requirements.reads_path() {
            decide(requirements.policies(), &auth, PathParams::None)?;
        }
        Ok(auth.into())
    }

    fn from_allowed(decided: Decided<'_>) -> Result<Self, Denied> {
        // Other policies than the handler's: its body decides its own.
        Ok(match decided.requirements.are_exactly(H::policies()) {
            true => Authorized::decided_on_route(decided.auth),
            false => decided.auth.into(),
        })
    }
}
