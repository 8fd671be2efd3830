//! Permission rules: which model, which scopes, which audience and which
//! organization a request must match, the check function for what scopes
//! cannot say (`check_fn`), and the decision.

mod check_fn;

use std::borrow::Cow;

use serde::Serialize;

use crate::auth_info::AuthInfo;
use crate::claims::Confirmation;
use crate::dpop::DpopMode;
use crate::error::Denied;

pub use check_fn::CheckOutcome;
#[doc(hidden)]
pub use check_fn::{Check, CheckFn, check_name_of};

/// The audience prefix Logto uses for organization tokens.
pub const ORGANIZATION_AUDIENCE_PREFIX: &str = "urn:logto:organization:";

/// A permission model, as identity providers such as Logto define them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// `aud` holds the API resource indicator; scopes are API permissions; the
    /// token must not carry `organization_id` (an organization role's scopes
    /// must not act as global permissions).
    GlobalApi,
    /// `aud` holds `urn:logto:organization:<id>` for the request's organization;
    /// scopes are organization permissions.
    OrgPermission,
    /// `aud` holds the API resource indicator and `organization_id` equals the
    /// request's organization; scopes are API permissions granted within it.
    OrgResource,
}

impl Model {
    /// The model's name as written in `#[requires(model = …)]`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Model::GlobalApi => "global_api",
            Model::OrgPermission => "org_permission",
            Model::OrgResource => "org_resource",
        }
    }

    /// Whether requests under this model must name an organization.
    pub const fn needs_organization(self) -> bool {
        !matches!(self, Model::GlobalApi)
    }
}

/// Where the organization of a request comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "from", content = "name", rename_all = "snake_case")]
pub enum OrgSource {
    /// A handler parameter (a path segment in warp), by parameter name.
    PathParam(Cow<'static, str>),
    /// A request header, by header name (matched case-insensitively).
    Header(Cow<'static, str>),
    /// A query-string parameter, by name.
    Query(Cow<'static, str>),
}

impl OrgSource {
    /// The parameter, header or query name.
    pub fn name(&self) -> &str {
        match self {
            OrgSource::PathParam(n) | OrgSource::Header(n) | OrgSource::Query(n) => n,
        }
    }
}

/// A list of scopes that can be built at compile time or at run time.
pub type ScopeList = Cow<'static, [Cow<'static, str>]>;

/// A permission rule: a model, the scopes that are all required, the scopes
/// of which any one suffices, the audience, where the organization comes
/// from, and a check function for what scopes cannot say.
///
/// Build one at run time with the builder methods, or let `#[requires]` build
/// one at compile time. [`decide`](Policy::decide) decides a request for an
/// organization you name; [`PolicySet::decide_request`] reads it from the
/// policy's own source.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::{Model, OrgSource, Policy};
///
/// let read = Policy::new(Model::GlobalApi)
///     .scopes(["api:read"])
///     .audience("https://api.example.com");
/// assert_eq!(read.required_scopes().len(), 1);
///
/// let invite = Policy::new(Model::OrgPermission)
///     .scopes(["invite:member"])
///     .organization(OrgSource::Header("X-Organization-Id".into()));
/// assert!(invite.organization_source().is_some());
///
/// // A rule scopes cannot express, checked last.
/// let staff = Policy::new(Model::GlobalApi)
///     .scopes(["reports:read"])
///     .check_with("is_staff", |auth: &bearer_policy::AuthInfo| {
///         auth.claim("role").is_some_and(|role| role == "staff")
///     });
/// assert_eq!(staff.check_name(), Some("is_staff"));
/// ```
///
/// `Debug` and the JSON of the inventory show a check function by its name
/// (`"check": "my_crate::rules::is_staff"`). Two policies are equal when all
/// their parts are, the check being the same function (or, built with
/// [`check_with`](Policy::check_with), the same closure: a clone) under the
/// same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    model: Model,
    scopes: ScopeList,
    any_scopes: ScopeList,
    /// The trusted issuers whose tokens this policy accepts (empty: all).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    issuers: ScopeList,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<OrgSource>,
    /// Serialised as the check's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<Check>,
    /// The route's own DPoP mode ([`Policy::dpop`]); `None`: the validator's.
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop: Option<DpopMode>,
}

impl Policy {
    /// A policy of this model that requires no scope, uses the validator's
    /// configured audience, and has no organization source yet.
    pub const fn new(model: Model) -> Self {
        Policy {
            model,
            scopes: Cow::Borrowed(&[]),
            any_scopes: Cow::Borrowed(&[]),
            issuers: Cow::Borrowed(&[]),
            audience: None,
            organization: None,
            check: None,
            dpop: None,
        }
    }

    /// A policy from parts known at compile time: what `#[requires]` emits,
    /// its accepted issuers (empty: every trusted issuer) and check function
    /// included. A `static` of your own can call it with `&[]` and `None`
    /// for those; or build the policy at run time in a
    /// `std::sync::LazyLock` with the builder methods.
    pub const fn from_static(
        model: Model,
        scopes: &'static [Cow<'static, str>],
        any_scopes: &'static [Cow<'static, str>],
        audience: Option<&'static str>,
        organization: Option<OrgSource>,
        check: Option<Check>,
        issuers: &'static [Cow<'static, str>],
    ) -> Self {
        Policy {
            model,
            scopes: Cow::Borrowed(scopes),
            any_scopes: Cow::Borrowed(any_scopes),
            issuers: Cow::Borrowed(issuers),
            audience: match audience {
                Some(a) => Some(Cow::Borrowed(a)),
                None => None,
            },
            organization,
            check,
            dpop: None,
        }
    }

    /// The route's own DPoP mode: [`DpopMode::Required`] refuses bearer
    /// tokens on it (401 `dpop_required`, with the DPoP challenge) whatever
    /// the validator accepts elsewhere; [`DpopMode::Disabled`] refuses the
    /// `DPoP` scheme on it; [`DpopMode::Allowed`] is the validator's
    /// (the default). `#[requires(.., dpop = required)]` sets it.
    ///
    /// `Required` holds wherever the policy is decided: a handler's own
    /// check, an MCP tool's decision or [`decide`](Policy::decide) refuse a
    /// token not bound to a DPoP key with 403 `dpop_binding_required`, for
    /// a request whose route did not decide this policy.
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// use bearer_policy::{DpopMode, Model, Policy};
    /// let transfers = Policy::new(Model::GlobalApi)
    ///     .scopes(["payments:write"])
    ///     .dpop(DpopMode::Required);
    /// assert_eq!(transfers.dpop_mode(), Some(DpopMode::Required));
    /// ```
    pub const fn dpop(mut self, mode: DpopMode) -> Self {
        self.dpop = Some(mode);
        self
    }

    /// The route's own DPoP mode, if it has one ([`dpop`](Policy::dpop)).
    pub const fn dpop_mode(&self) -> Option<DpopMode> {
        self.dpop
    }

    /// Requires every one of these scopes (in addition to any set before).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.scopes
            .to_mut()
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Requires at least one of these scopes (in addition to any set before).
    pub fn any_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.any_scopes
            .to_mut()
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Accepts only tokens signed by these issuers (in addition to any set
    /// before), each as configured on the validator
    /// ([`AuthInfo::issuer`](crate::AuthInfo::issuer)); by default a policy
    /// accepts every issuer the validator trusts. A token of another trusted
    /// issuer is refused with [`Denied::IssuerNotAllowed`] (403) before
    /// anything else is decided, so a route of one tenant or partner stays
    /// closed to the others' tokens whatever their audiences and
    /// organization ids say.
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// use bearer_policy::{Model, Policy};
    /// let partner_only = Policy::new(Model::GlobalApi)
    ///     .scopes(["orders:read"])
    ///     .issuers(["https://partner.example"]);
    /// assert_eq!(partner_only.accepted_issuers(), ["https://partner.example"]);
    /// ```
    pub fn issuers<I, S>(mut self, issuers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.issuers
            .to_mut()
            .extend(issuers.into_iter().map(Into::into));
        self
    }

    /// Overrides the audience (API resource indicator) the token must carry.
    /// Default: the validator's configured audience. Not used by
    /// [`Model::OrgPermission`], whose audience is the organization's URN.
    pub fn audience(mut self, audience: impl Into<Cow<'static, str>>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets where the organization of a request comes from.
    pub fn organization(mut self, source: OrgSource) -> Self {
        self.organization = Some(source);
        self
    }

    /// Adds a check function for a rule that scopes cannot express (a role
    /// claim, an email domain, a tenant flag): the same rule as
    /// `#[requires(check = path)]`, here with a closure that may capture
    /// configuration. `name` stands for it in the inventory, in `Debug`
    /// output and in the logs; the client never sees it.
    ///
    /// The function returns `bool` (`false` refuses with 403 `check_failed`)
    /// or `Result<(), Denied>` to choose the denial (see
    /// [`Denied::check_failed`]). It runs only once the audience, the
    /// organization and the scopes hold, of this policy and of every policy
    /// checked with it, so it may rely on them; it runs on every request the
    /// policy decides, synchronously: keep it cheap, and never block in it.
    ///
    /// Called again, it adds a check: both must hold, in the order added,
    /// under the name `first && second`.
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// use bearer_policy::{AuthInfo, Model, Policy};
    ///
    /// let domain = String::from("@example.com"); // from configuration
    /// let staff_only = Policy::new(Model::GlobalApi)
    ///     .scopes(["reports:read"])
    ///     .check_with("staff_email", move |auth: &AuthInfo| {
    ///         auth.claim("email")
    ///             .and_then(|email| email.as_str().map(|e| e.ends_with(&domain)))
    ///             .unwrap_or(false)
    ///     });
    /// assert_eq!(staff_only.check_name(), Some("staff_email"));
    /// ```
    ///
    /// A closure of another type is a compile error:
    ///
    /// ```compile_fail
    /// # extern crate bearer_policy_core as bearer_policy;
    /// # use bearer_policy::{AuthInfo, Model, Policy};
    /// // error: `String` is not what a check function returns
    /// Policy::new(Model::GlobalApi).check_with("role", |auth: &AuthInfo| auth.sub().unwrap_or("").to_owned());
    /// ```
    pub fn check_with<F, R>(mut self, name: impl Into<Cow<'static, str>>, check: F) -> Self
    where
        F: Fn(&AuthInfo) -> R + Send + Sync + 'static,
        R: CheckOutcome,
    {
        let check = Check::shared(name.into(), check);
        self.check = Some(match self.check.take() {
            Some(first) => first.and(check),
            None => check,
        });
        self
    }

    /// The permission model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// The scopes that are all required.
    pub fn required_scopes(&self) -> &[Cow<'static, str>] {
        &self.scopes
    }

    /// The scopes of which any one suffices (empty: no such requirement).
    pub fn any_of_scopes(&self) -> &[Cow<'static, str>] {
        &self.any_scopes
    }

    /// Every scope the policy names, required or any-of: what a client may
    /// have to ask for (RFC 9728 `scopes_supported`, a challenge's `scope`).
    pub(crate) fn named_scopes(&self) -> impl Iterator<Item = &str> {
        self.required_scopes()
            .iter()
            .chain(self.any_of_scopes())
            .map(|scope| scope.as_ref())
    }

    /// The issuers whose tokens the policy accepts (empty: every trusted issuer).
    pub fn accepted_issuers(&self) -> &[Cow<'static, str>] {
        &self.issuers
    }

    /// The audience override, if any.
    pub fn audience_override(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Where the organization comes from, if the policy names it.
    pub fn organization_source(&self) -> Option<&OrgSource> {
        self.organization.as_ref()
    }

    /// The name of the check function, if the policy has one: the name given
    /// to [`check_with`](Policy::check_with), or for `#[requires(check =
    /// path)]` the function's path as the compiler names it
    /// (`my_crate::rules::is_staff`), wherever a `use` brought it from.
    pub fn check_name(&self) -> Option<&str> {
        self.check.as_ref().map(Check::name)
    }

    /// Decides whether `auth` may make a request for organization `org_id`
    /// (`None` when the request names none), whatever the policy's
    /// [organization source](Policy::organization_source): the caller names
    /// the organization. [`PolicySet::decide_request`] reads it from the source.
    ///
    /// Checks, in order: the token's binding (a policy that
    /// [requires DPoP](Policy::dpop) holds only for a token bound to a DPoP
    /// key, [`Denied::DpopBindingRequired`]), the issuer (when the policy names
    /// [issuers](Policy::issuers)), the audience, the organization, the
    /// scopes, so that a token meant for another issuer, resource or
    /// organization is refused as such rather than for its scopes, and last the check function, if any
    /// ([`check_with`](Policy::check_with)), which may thus rely on the rest.
    /// An empty organization id is no organization
    /// ([`Denied::MissingOrganization`]), from whatever source.
    ///
    /// Every denial is logged as a `tracing` event at `debug` level with its
    /// code, reason and model (and the check's name when the check refused;
    /// never the token): the response already tells the client why, and a
    /// client hammering a route must not flood the logs.
    pub fn decide(&self, auth: &AuthInfo, org_id: Option<&str>) -> Result<(), Denied> {
        self.decide_claims(auth, org_id)?;
        self.run_check(auth)
    }

    /// Everything but the check function, the denial logged.
    pub(crate) fn decide_claims(
        &self,
        auth: &AuthInfo,
        org_id: Option<&str>,
    ) -> Result<(), Denied> {
        self.evaluate_claims(auth, org_id)
            .map_err(|denied| self.logged(auth, denied))
    }

    /// The check function, if any, the denial logged with its name.
    pub(crate) fn run_check(&self, auth: &AuthInfo) -> Result<(), Denied> {
        let Some(check) = &self.check else {
            return Ok(());
        };
        check.run(auth).map_err(|denied| {
            tracing::debug!(
                code = denied.code(),
                reason = %denied,
                model = self.model.as_str(),
                check = check.name(),
                sub = auth.sub().unwrap_or(""),
                "request denied"
            );
            denied
        })
    }

    /// Logs a denial of this policy (see [`decide`](Policy::decide)).
    pub(crate) fn logged(&self, auth: &AuthInfo, denied: Denied) -> Denied {
        tracing::debug!(
            code = denied.code(),
            reason = %denied,
            model = self.model.as_str(),
            sub = auth.sub().unwrap_or(""),
            "request denied"
        );
        denied
    }

    fn evaluate_claims(&self, auth: &AuthInfo, org_id: Option<&str>) -> Result<(), Denied> {
        // A route deciding this policy refuses a bearer token before this
        // (401 `dpop_required`); a token bound to a DPoP key only ever
        // passed with its proof.
        if self.dpop == Some(DpopMode::Required)
            && !matches!(auth.confirmation(), Confirmation::Jkt(_))
        {
            return Err(Denied::DpopBindingRequired);
        }
        if !self.issuers.is_empty() && !self.issuers.iter().any(|i| i == auth.issuer()) {
            return Err(Denied::IssuerNotAllowed);
        }
        // `X-Organization-Id:`, `?organization_id=` and `/orgs//data` name none.
        let org_id = org_id.filter(|id| !id.is_empty());
        match self.model {
            Model::GlobalApi => {
                self.check_resource_audience(auth)?;
                if auth.organization_id().is_some() {
                    return Err(Denied::OrganizationTokenNotAllowed);
                }
            }
            Model::OrgPermission => {
                let org = org_id.ok_or(Denied::MissingOrganization)?;
                let has_org_audience = auth
                    .audience()
                    .iter()
                    .any(|aud| aud.strip_prefix(ORGANIZATION_AUDIENCE_PREFIX) == Some(org));
                if !has_org_audience {
                    // Distinguish "a token for another organization" from "not an
                    // organization token at all" for the caller's benefit.
                    let is_org_token = auth
                        .audience()
                        .iter()
                        .any(|aud| aud.starts_with(ORGANIZATION_AUDIENCE_PREFIX));
                    return Err(if is_org_token {
                        Denied::OrganizationMismatch
                    } else {
                        Denied::WrongAudience
                    });
                }
            }
            Model::OrgResource => {
                self.check_resource_audience(auth)?;
                let org = org_id.ok_or(Denied::MissingOrganization)?;
                if auth.organization_id() != Some(org) {
                    return Err(Denied::OrganizationMismatch);
                }
            }
        }
        self.check_scopes(auth)
    }

    /// The organization id named by the request captured in `auth`, for a
    /// header or query source (`None` for a path source, no source, no
    /// captured request, or a request that does not name it); what
    /// [`PolicySet::decide_request`] checks such a policy against. A request that names it more than once with
    /// different values is refused ([`Denied::AmbiguousOrganization`]): which
    /// one a proxy or a handler would read is anyone's guess.
    pub fn request_organization<'a>(&self, auth: &'a AuthInfo) -> Result<Option<&'a str>, Denied> {
        let (Some(request), Some(source)) = (auth.request(), self.organization.as_ref()) else {
            return Ok(None);
        };
        let mut values: Box<dyn Iterator<Item = &str>> = match source {
            OrgSource::Header(name) => Box::new(request.headers(name)),
            OrgSource::Query(name) => Box::new(request.queries(name)),
            OrgSource::PathParam(_) => return Ok(None),
        };
        let first = values.next();
        if let Some(first) = first
            && values.any(|other| other != first)
        {
            return Err(Denied::AmbiguousOrganization);
        }
        Ok(first)
    }

    fn check_resource_audience(&self, auth: &AuthInfo) -> Result<(), Denied> {
        let expected = match &self.audience {
            Some(audience) => audience.as_ref(),
            None => auth
                .configured_audience()
                .ok_or(Denied::NoAudienceConfigured)?,
        };
        if auth.audience().iter().any(|aud| aud == expected) {
            Ok(())
        } else {
            Err(Denied::WrongAudience)
        }
    }

    fn check_scopes(&self, auth: &AuthInfo) -> Result<(), Denied> {
        // Listing what is missing is for a refusal only.
        if !self.scopes.iter().all(|scope| auth.has_scope(scope)) {
            let missing = self
                .scopes
                .iter()
                .filter(|scope| !auth.has_scope(scope))
                .map(|scope| scope.to_string())
                .collect();
            return Err(Denied::MissingScopes { missing });
        }
        if !self.any_scopes.is_empty() && !self.any_scopes.iter().any(|s| auth.has_scope(s)) {
            return Err(Denied::NoneOfScopes {
                any_of: self.any_scopes.iter().map(|s| s.to_string()).collect(),
            });
        }
        Ok(())
    }
}

/// One policy or several that must all hold: what the authorization filters
/// and the inventory accept. `#[requires]` emits a [`Policy`] for one
/// attribute and an array of them for stacked attributes.
pub trait PolicySet: Send + Sync {
    /// The policies, all of which must hold.
    fn policies(&self) -> &[Policy];

    /// Decides whether `auth` may make the request: every policy of the set
    /// must hold, each checked with [`Policy::decide`] against the
    /// organization **its own source** names:
    ///
    /// - [`OrgSource::Header`] and [`OrgSource::Query`]: the header or query
    ///   parameter of the request captured in `auth` (see
    ///   [`Policy::request_organization`]); `path_org_id` is ignored. No
    ///   captured request, or a request that does not name the organization,
    ///   means no organization ([`Denied::MissingOrganization`] for the
    ///   organization models); a request that names it twice with different
    ///   values is refused ([`Denied::AmbiguousOrganization`]).
    /// - [`OrgSource::PathParam`], or no source: `path_org_id`, the id the
    ///   route extracted from the path (`None` when it extracts none).
    ///   [`Model::GlobalApi`] policies ignore the organization.
    ///
    /// A stacked set whose policies read a header and a path segment is thus
    /// decided by one call. A [`Policy`] is a set of one, so
    /// `policy.decide_request(&auth, None)` checks a single policy the same
    /// way. To name the organization yourself whatever the source, call
    /// [`Policy::decide`].
    ///
    /// Policies are checked in order and the first denial is returned. Check
    /// functions ([`Policy::check_with`], `#[requires(check = ...)]`) run
    /// last: only once every policy of the set has passed its audience,
    /// organization and scope checks.
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// use bearer_policy::{AuthInfo, Denied, Model, OrgSource, Policy, PolicySet};
    ///
    /// /// The caller must manage members of the organization in the header,
    /// /// and read the API within the organization in the path.
    /// fn allowed(auth: &AuthInfo, org_in_path: &str) -> Result<(), Denied> {
    ///     let set = [
    ///         Policy::new(Model::OrgPermission)
    ///             .scopes(["manage:member"])
    ///             .organization(OrgSource::Header("X-Organization-Id".into())),
    ///         Policy::new(Model::OrgResource)
    ///             .scopes(["api:read"])
    ///             .organization(OrgSource::PathParam("org_id".into())),
    ///     ];
    ///     set.decide_request(auth, Some(org_in_path))
    /// }
    /// ```
    fn decide_request(&self, auth: &AuthInfo, path_org_id: Option<&str>) -> Result<(), Denied> {
        crate::request::decide(self.policies(), auth, path_org_id.into())
    }
}

impl PolicySet for Policy {
    fn policies(&self) -> &[Policy] {
        std::slice::from_ref(self)
    }
}

impl PolicySet for [Policy] {
    fn policies(&self) -> &[Policy] {
        self
    }
}

impl<const N: usize> PolicySet for [Policy; N] {
    fn policies(&self) -> &[Policy] {
        self
    }
}

impl PolicySet for Vec<Policy> {
    fn policies(&self) -> &[Policy] {
        self
    }
}

impl<T: PolicySet + ?Sized> PolicySet for &T {
    fn policies(&self) -> &[Policy] {
        (**self).policies()
    }
}

impl<T: PolicySet + ?Sized> PolicySet for std::sync::Arc<T> {
    fn policies(&self) -> &[Policy] {
        (**self).policies()
    }
}

#[cfg(test)]
mod tests;
