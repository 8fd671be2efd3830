//! Permission rules: which model, which scopes, which audience and which
//! organization a request must match, and the check that decides it.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use crate::auth_info::AuthInfo;
use crate::error::Denied;

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
/// of which any one suffices, the audience, and where the organization comes
/// from.
///
/// Build one at run time with the builder methods, or let `#[requires]` build
/// one at compile time. [`check`](Policy::check) decides a request for an
/// organization you name; [`PolicySet::check_request`] reads it from the
/// policy's own source.
///
/// ```
/// use policy_core::{Model, OrgSource, Policy};
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
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    model: Model,
    scopes: ScopeList,
    any_scopes: ScopeList,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<OrgSource>,
}

impl Policy {
    /// A policy of this model that requires no scope, uses the validator's
    /// configured audience, and has no organization source yet.
    pub const fn new(model: Model) -> Self {
        Policy {
            model,
            scopes: Cow::Borrowed(&[]),
            any_scopes: Cow::Borrowed(&[]),
            audience: None,
            organization: None,
        }
    }

    /// A policy from parts known at compile time (what `#[requires]` emits).
    pub const fn from_static(
        model: Model,
        scopes: &'static [Cow<'static, str>],
        any_scopes: &'static [Cow<'static, str>],
        audience: Option<&'static str>,
        organization: Option<OrgSource>,
    ) -> Self {
        Policy {
            model,
            scopes: Cow::Borrowed(scopes),
            any_scopes: Cow::Borrowed(any_scopes),
            audience: match audience {
                Some(a) => Some(Cow::Borrowed(a)),
                None => None,
            },
            organization,
        }
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

    /// The audience override, if any.
    pub fn audience_override(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Where the organization comes from, if the policy names it.
    pub fn organization_source(&self) -> Option<&OrgSource> {
        self.organization.as_ref()
    }

    /// Decides whether `auth` may make a request for organization `org_id`
    /// (`None` when the request names none), whatever the policy's
    /// [organization source](Policy::organization_source): the caller names
    /// the organization. [`PolicySet::check_request`] reads it from the source.
    ///
    /// Checks, in order: the audience, the organization, then the scopes, so
    /// that a token meant for another resource or organization is refused as
    /// such rather than for its scopes. An empty organization id is no
    /// organization ([`Denied::MissingOrganization`]), from whatever source.
    ///
    /// Every denial is logged as a `tracing` event at `debug` level with its
    /// code, reason and model (never the token): the response already tells
    /// the client why, and a client hammering a route must not flood the logs.
    pub fn check(&self, auth: &AuthInfo, org_id: Option<&str>) -> Result<(), Denied> {
        self.decide(auth, org_id)
            .map_err(|denied| self.logged(auth, denied))
    }

    /// Logs a denial of this policy (see [`check`](Policy::check)).
    fn logged(&self, auth: &AuthInfo, denied: Denied) -> Denied {
        tracing::debug!(
            code = denied.code(),
            reason = %denied,
            model = self.model.as_str(),
            sub = auth.sub().unwrap_or(""),
            "request denied"
        );
        denied
    }

    fn decide(&self, auth: &AuthInfo, org_id: Option<&str>) -> Result<(), Denied> {
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
    /// [`PolicySet::check_request`] checks such a policy against. A request that names it more than once with
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
        let missing: Vec<String> = self
            .scopes
            .iter()
            .filter(|scope| !auth.has_scope(scope))
            .map(|scope| scope.to_string())
            .collect();
        if !missing.is_empty() {
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
    /// must hold, each checked with [`Policy::check`] against the
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
    /// `policy.check_request(&auth, None)` checks a single policy the same
    /// way. To name the organization yourself whatever the source, call
    /// [`Policy::check`].
    ///
    /// Policies are checked in order and the first denial is returned.
    ///
    /// ```
    /// use policy_core::{AuthInfo, Denied, Model, OrgSource, Policy, PolicySet};
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
    ///     set.check_request(auth, Some(org_in_path))
    /// }
    /// ```
    fn check_request(&self, auth: &AuthInfo, path_org_id: Option<&str>) -> Result<(), Denied> {
        self.policies().iter().try_for_each(|policy| {
            let org_id = match &policy.organization {
                Some(OrgSource::Header(_) | OrgSource::Query(_)) => policy
                    .request_organization(auth)
                    .map_err(|denied| policy.logged(auth, denied))?,
                Some(OrgSource::PathParam(name)) => {
                    if path_org_id.is_none() && policy.model.needs_organization() {
                        warn_unwired_path_parameter(name);
                    }
                    path_org_id
                }
                None => path_org_id,
            };
            policy.check(auth, org_id)
        })
    }
}

/// Warns, once per parameter name, that a policy reading its organization
/// from a path parameter was checked without one: its route never passes the
/// path segment (warp's `authorize` instead of `authorize_path`, an axum route
/// without that capture, the tower layer), so it refuses every request. The
/// operator must fix the route; the client cannot.
fn warn_unwired_path_parameter(name: &str) {
    // Bounded: names come from the program's policies, not from requests.
    static WARNED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut warned = WARNED.lock().unwrap_or_else(PoisonError::into_inner);
    if warned.len() < 64 && !warned.iter().any(|known| known == name) {
        warned.push(name.to_owned());
        tracing::warn!(
            parameter = name,
            "a policy reads the organization from a path parameter, but its route passes none: \
             every request is refused (warp: use `authorize_path`; axum: name the route's \
             capture like the parameter; tower has no path parameters)"
        );
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
mod tests {
    use super::*;

    const API: &str = "https://api.example.com";

    fn auth(audience: &[&str], scopes: &[&str], org: Option<&str>) -> AuthInfo {
        AuthInfo::for_tests(audience, scopes, org, Some(API))
    }

    #[test]
    fn global_api_allow_deny_matrix() {
        let policy = Policy::new(Model::GlobalApi).scopes(["api:read"]);
        assert_eq!(
            policy.check(&auth(&[API], &["api:read"], None), None),
            Ok(())
        );
        assert_eq!(
            policy.check(&auth(&["https://other"], &["api:read"], None), None),
            Err(Denied::WrongAudience)
        );
        assert_eq!(
            policy.check(&auth(&[API], &["api:write"], None), None),
            Err(Denied::MissingScopes {
                missing: vec!["api:read".into()]
            })
        );
        assert_eq!(
            policy.check(&auth(&[API], &["api:read"], Some("org-1")), None),
            Err(Denied::OrganizationTokenNotAllowed)
        );
        // The audience is one of several.
        assert_eq!(
            policy.check(&auth(&["x", API], &["api:read"], None), None),
            Ok(())
        );
    }

    #[test]
    fn org_permission_allow_deny_matrix() {
        let policy = Policy::new(Model::OrgPermission).scopes(["invite:member"]);
        let org_token = auth(&["urn:logto:organization:acme"], &["invite:member"], None);
        assert_eq!(policy.check(&org_token, Some("acme")), Ok(()));
        assert_eq!(
            policy.check(&org_token, Some("other")),
            Err(Denied::OrganizationMismatch)
        );
        assert_eq!(
            policy.check(&org_token, None),
            Err(Denied::MissingOrganization)
        );
        // Prefix tricks do not match: the id is compared exactly.
        assert_eq!(
            policy.check(&org_token, Some("acm")),
            Err(Denied::OrganizationMismatch)
        );
        assert_eq!(
            policy.check(&auth(&[API], &["invite:member"], None), Some("acme")),
            Err(Denied::WrongAudience)
        );
        assert_eq!(
            policy.check(
                &auth(&["urn:logto:organization:acme"], &[], None),
                Some("acme")
            ),
            Err(Denied::MissingScopes {
                missing: vec!["invite:member".into()]
            })
        );
    }

    #[test]
    fn org_resource_allow_deny_matrix() {
        let policy = Policy::new(Model::OrgResource).scopes(["api:read"]);
        let token = auth(&[API], &["api:read"], Some("acme"));
        assert_eq!(policy.check(&token, Some("acme")), Ok(()));
        assert_eq!(
            policy.check(&token, Some("other")),
            Err(Denied::OrganizationMismatch)
        );
        assert_eq!(policy.check(&token, None), Err(Denied::MissingOrganization));
        assert_eq!(
            policy.check(&auth(&[API], &["api:read"], None), Some("acme")),
            Err(Denied::OrganizationMismatch)
        );
        assert_eq!(
            policy.check(
                &auth(&["https://other"], &["api:read"], Some("acme")),
                Some("acme")
            ),
            Err(Denied::WrongAudience)
        );
        // Unicode look-alikes are different organizations: no normalisation.
        assert_eq!(
            policy.check(&token, Some("acme\u{200b}")),
            Err(Denied::OrganizationMismatch)
        );
        assert_eq!(
            policy.check(&auth(&[API], &["api:read"], Some("аcme")), Some("acme")),
            Err(Denied::OrganizationMismatch)
        );
    }

    #[test]
    fn any_scopes_need_one_of_them() {
        let policy = Policy::new(Model::GlobalApi).any_scopes(["admin", "support"]);
        assert_eq!(
            policy.check(&auth(&[API], &["support"], None), None),
            Ok(())
        );
        assert_eq!(
            policy.check(&auth(&[API], &["api:read"], None), None),
            Err(Denied::NoneOfScopes {
                any_of: vec!["admin".into(), "support".into()]
            })
        );
    }

    #[test]
    fn missing_scopes_are_all_listed() {
        let policy = Policy::new(Model::GlobalApi).scopes(["a", "b", "c"]);
        assert_eq!(
            policy.check(&auth(&[API], &["b"], None), None),
            Err(Denied::MissingScopes {
                missing: vec!["a".into(), "c".into()]
            })
        );
    }

    #[test]
    fn policy_audience_overrides_the_configured_one() {
        let policy = Policy::new(Model::GlobalApi).audience("https://billing");
        assert_eq!(
            policy.check(&auth(&["https://billing"], &[], None), None),
            Ok(())
        );
        assert_eq!(
            policy.check(&auth(&[API], &[], None), None),
            Err(Denied::WrongAudience)
        );
        let unconfigured = AuthInfo::for_tests(&[API], &[], None, None);
        assert_eq!(
            Policy::new(Model::GlobalApi).check(&unconfigured, None),
            Err(Denied::NoAudienceConfigured)
        );
    }

    #[test]
    fn header_and_query_sources_read_the_captured_request() {
        use crate::auth_info::RequestContext;
        let header = Policy::new(Model::OrgResource)
            .organization(OrgSource::Header("X-Organization-Id".into()));
        let query = Policy::new(Model::OrgResource)
            .organization(OrgSource::Query("organization_id".into()));
        let token = auth(&[API], &[], Some("acme"));
        assert_eq!(
            header.check_request(&token, None),
            Err(Denied::MissingOrganization)
        );
        let with_header = token
            .clone()
            .with_request(RequestContext::new().with_header("x-organization-id", "acme"));
        assert_eq!(header.check_request(&with_header, None), Ok(()));
        assert_eq!(
            query.check_request(&with_header, None),
            Err(Denied::MissingOrganization)
        );
        let with_query =
            token.with_request(RequestContext::new().with_query("organization_id", "other"));
        assert_eq!(
            query.check_request(&with_query, None),
            Err(Denied::OrganizationMismatch)
        );
    }

    #[test]
    fn check_request_reads_each_organization_from_its_own_source() {
        use crate::auth_info::RequestContext;
        let set = [
            Policy::new(Model::OrgPermission)
                .organization(OrgSource::Header("X-Organization-Id".into())),
            Policy::new(Model::OrgResource).organization(OrgSource::PathParam("org_id".into())),
        ];
        // One token that satisfies both models for `acme`.
        let token = auth(&["urn:logto:organization:acme", API], &[], Some("acme"));
        let header = |org: &str| {
            token
                .clone()
                .with_request(RequestContext::new().with_header("x-organization-id", org))
        };
        assert_eq!(set.check_request(&header("acme"), Some("acme")), Ok(()));
        assert_eq!(
            set.check_request(&header("acme"), Some("other")),
            Err(Denied::OrganizationMismatch)
        );
        assert_eq!(
            set.check_request(&header("other"), Some("acme")),
            Err(Denied::OrganizationMismatch)
        );
        // The path's id never stands in for a missing header.
        assert_eq!(
            set.check_request(&token, Some("acme")),
            Err(Denied::MissingOrganization)
        );
        assert_eq!(
            set.check_request(&header("acme"), None),
            Err(Denied::MissingOrganization)
        );
    }

    #[test]
    fn an_empty_organization_id_is_no_organization_from_every_source() {
        use crate::auth_info::RequestContext;
        let org_token = auth(&["urn:logto:organization:"], &[], None);
        let resource_token = auth(&[API], &[], Some(""));
        for (model, token) in [
            (Model::OrgPermission, &org_token),
            (Model::OrgResource, &resource_token),
        ] {
            let path = Policy::new(model).organization(OrgSource::PathParam("org_id".into()));
            assert_eq!(
                path.check_request(token, Some("")),
                Err(Denied::MissingOrganization),
                "{model}"
            );
            assert_eq!(
                path.check(token, Some("")),
                Err(Denied::MissingOrganization)
            );
            let header = Policy::new(model).organization(OrgSource::Header("X-Org".into()));
            let empty_header = (*token)
                .clone()
                .with_request(RequestContext::new().with_header("x-org", ""));
            assert_eq!(
                header.check_request(&empty_header, None),
                Err(Denied::MissingOrganization),
                "{model}"
            );
            let query = Policy::new(model).organization(OrgSource::Query("org".into()));
            let empty_query = (*token)
                .clone()
                .with_request(RequestContext::new().with_query("org", ""));
            assert_eq!(
                query.check_request(&empty_query, None),
                Err(Denied::MissingOrganization),
                "{model}"
            );
        }
    }

    /// What `f` logs at `level` and above, as text.
    fn logged_at(level: tracing::Level, f: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let text = buffer.0.lock().unwrap().clone();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn denials_are_logged_at_debug_not_info() {
        let policy = Policy::new(Model::GlobalApi).scopes(["api:write"]);
        let reader = auth(&[API], &["api:read"], None);
        let deny = || {
            for _ in 0..100 {
                assert!(policy.check(&reader, None).is_err());
            }
        };
        assert_eq!(logged_at(tracing::Level::INFO, deny), "");
        let debug = logged_at(tracing::Level::DEBUG, deny);
        assert_eq!(debug.matches("request denied").count(), 100, "{debug}");
        assert!(debug.contains("insufficient_scope"), "{debug}");
    }

    #[test]
    fn a_path_policy_checked_without_a_path_warns_the_operator_once() {
        let policy = Policy::new(Model::OrgResource)
            .organization(OrgSource::PathParam("tenant_id_never_bound".into()));
        let token = auth(&[API], &[], Some("acme"));
        let logs = logged_at(tracing::Level::WARN, || {
            for _ in 0..10 {
                assert_eq!(
                    policy.check_request(&token, None),
                    Err(Denied::MissingOrganization)
                );
            }
        });
        assert_eq!(logs.matches("tenant_id_never_bound").count(), 1, "{logs}");
        // With the path segment there is nothing to warn about.
        let bound = Policy::new(Model::OrgResource)
            .organization(OrgSource::PathParam("tenant_id_bound".into()));
        let logs = logged_at(tracing::Level::WARN, || {
            assert_eq!(bound.check_request(&token, Some("acme")), Ok(()));
        });
        assert_eq!(logs, "");
    }

    #[test]
    fn stacked_policies_must_all_hold() {
        let set = [
            Policy::new(Model::GlobalApi).scopes(["a"]),
            Policy::new(Model::GlobalApi).scopes(["b"]),
        ];
        assert_eq!(
            set.check_request(&auth(&[API], &["a", "b"], None), None),
            Ok(())
        );
        assert!(
            set.check_request(&auth(&[API], &["a"], None), None)
                .is_err()
        );
    }

    #[test]
    fn policies_serialise_for_the_inventory() {
        let policy = Policy::new(Model::OrgPermission)
            .scopes(["invite:member"])
            .organization(OrgSource::PathParam("org_id".into()));
        assert_eq!(
            serde_json::to_value(&policy).unwrap(),
            serde_json::json!({"model": "org_permission", "scopes": ["invite:member"], "anyScopes": [],
                "organization": {"from": "path_param", "name": "org_id"}})
        );
    }
}
