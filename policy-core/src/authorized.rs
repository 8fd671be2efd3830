//! `Authorized<H>`: the `AuthInfo` of a handler that `#[requires]` protects,
//! typed by the handler `H`. In axum it is the extractor that authenticates
//! and decides the declared policies before any body extractor runs; warp's
//! filters yield it; in a direct call it converts from an `AuthInfo` with
//! `.into()`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use crate::auth_info::AuthInfo;
use crate::policy::Policy;
use crate::request::{Requirements, RequirementsCell};

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
    /// `authorize` given `H`'s own policies, or `authenticate`): the handler's check then has
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
/// policies, or its `authenticate`): what `#[requires]` asks before its own check of an
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
/// Every filter decides through one [`Requirements::authorize`] call, which
/// reports the decision once. A filter that only authenticates
/// (`authenticate`) decides the [`policies`](Self::policies) of the type it
/// yields: a handler's own when none reads a path parameter (which such a
/// filter cannot see), so that a caller without permission is refused before
/// the body is read and the handler does not decide them again. After
/// `authorize` given the handler's own policies
/// (`authorize(v, &handler::POLICY)`), the handler does not decide them
/// again either; after anything else, it decides them in its body.
pub trait FromAuthInfo: Sized + Send + 'static {
    /// The policies a filter that only authenticates decides before it
    /// yields this type. `None`, the default, is authentication alone.
    fn policies() -> Option<&'static [Policy]> {
        None
    }

    /// `auth`, converted. A handler's `Authorized` made this way has the
    /// handler decide its policies in its body.
    fn from_auth_info(auth: AuthInfo) -> Self;

    /// The [`Decided`] `AuthInfo`, whose request a filter found its
    /// requirements allow with no path parameter: the handler whose policies
    /// these exactly are has nothing left to decide. Any other type converts
    /// as [`from_auth_info`](Self::from_auth_info) does.
    fn from_allowed(decided: Decided<'_>) -> Self {
        Self::from_auth_info(decided.into_auth_info())
    }
}

impl FromAuthInfo for AuthInfo {
    fn from_auth_info(auth: AuthInfo) -> Self {
        auth
    }
}

impl<H: DeclaredHandler> FromAuthInfo for Authorized<H> {
    fn policies() -> Option<&'static [Policy]> {
        (!requirements_of::<H>().reads_path()).then(H::policies)
    }

    fn from_auth_info(auth: AuthInfo) -> Self {
        auth.into()
    }

    fn from_allowed(decided: Decided<'_>) -> Self {
        // Other policies than the handler's: its body decides its own.
        match decided.requirements.are_exactly(H::policies()) {
            true => Authorized::decided_on_route(decided.auth),
            false => decided.auth.into(),
        }
    }
}
