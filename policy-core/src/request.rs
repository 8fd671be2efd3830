//! The one authorize path, on the `http` crate's types: a request's head
//! ([`RequestHead`]) and a route's [`Requirements`] in, an [`AuthInfo`] or a
//! [`Rejected`] out. warp, axum, actix-web and tower each make one call to
//! [`Requirements::authorize`] and only adapt their own request and response
//! types; [`decide`] is the decision itself, which
//! [`PolicySet::decide_request`](crate::PolicySet::decide_request) and the
//! check `#[requires]` puts in a handler's body go through too.

// Without a front end (the `testing` or no feature), only the decision and
// the generated `RequirementsCell` use this module.
#![cfg_attr(
    not(any(
        feature = "warp",
        feature = "axum",
        feature = "tower",
        feature = "actix"
    )),
    allow(dead_code)
)]

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use http::header::{self, HeaderMap};
use http::{Method, Uri};
use tracing::Instrument as _;

use crate::auth_info::AuthInfo;
use crate::dpop::DpopMode;
use crate::error::{Denied, Error, TokenError};
use crate::observe::{self, PolicyLabel};
use crate::org_fields::OrgFields;
use crate::policy::{OrgSource, Policy, PolicySet};
use crate::rejected::Rejected;
use crate::validator::Validator;

/// What every front end can give about a request before its body: the
/// method, the path and query, the headers, and the route's path parameters.
#[derive(Clone, Copy)]
pub struct RequestHead<'a> {
    method: &'a Method,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    path_params: PathParams<'a>,
}

impl<'a> RequestHead<'a> {
    /// The head of a request for `uri`, without path parameters.
    pub fn new(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap) -> Self {
        Self::from_path(method, uri.path(), uri.query(), headers)
    }

    /// The head of a request from its path and query string (`None`: no
    /// `?`), for front ends that hold no [`Uri`].
    pub fn from_path(
        method: &'a Method,
        path: &'a str,
        query: Option<&'a str>,
        headers: &'a HeaderMap,
    ) -> Self {
        RequestHead {
            method,
            path,
            query,
            headers,
            path_params: PathParams::None,
        }
    }

    /// The head of `parts`, without path parameters.
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        Self::new(&parts.method, &parts.uri, &parts.headers)
    }

    /// With the route's path parameters.
    pub fn with_path_params(mut self, path_params: PathParams<'a>) -> Self {
        self.path_params = path_params;
        self
    }

    /// The request method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The request path, without the query.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The raw query string, if the request has one.
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// The request headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The route's path parameters.
    pub fn path_params(&self) -> PathParams<'a> {
        self.path_params
    }
}

/// A route's path parameters, as its front end knows them: where policies
/// whose organization comes from [`OrgSource::PathParam`] read it.
#[derive(Debug, Clone, Copy, Default)]
pub enum PathParams<'a> {
    /// None: the route has no parameters (tower), or passes none (warp's
    /// `authorize`). Path policies refuse with [`Denied::MissingOrganization`].
    #[default]
    None,
    /// The one organization id a route extracts (warp's `authorize_path`,
    /// `decide_request(auth, Some(id))`, a handler with one organization
    /// parameter): path policies reading parameter `name` read it (every path
    /// policy when `name` is `None`), and so does every policy without an
    /// organization source. A path policy reading another parameter finds
    /// none.
    One {
        /// The parameter the value stands for, if the route knows it.
        name: Option<&'a str>,
        /// The organization id.
        value: &'a str,
    },
    /// Values by parameter name (axum's captures, a handler's parameters):
    /// each path policy reads the value of its own name.
    Named(&'a [(&'a str, &'a str)]),
}

impl<'a> PathParams<'a> {
    /// The organization id for a policy whose source is the path parameter
    /// `name`, or (`name` `None`) a policy without a source.
    pub fn organization(&self, name: Option<&str>) -> Option<&'a str> {
        match (self, name) {
            (PathParams::One { name: None, value }, _) | (PathParams::One { value, .. }, None) => {
                Some(value)
            }
            (
                PathParams::One {
                    name: Some(own),
                    value,
                },
                Some(name),
            ) => (*own == name).then_some(*value),
            (PathParams::Named(params), Some(name)) => params
                .iter()
                .find(|(param, _)| *param == name)
                .map(|(_, value)| *value),
            (PathParams::Named(_), None) | (PathParams::None, _) => None,
        }
    }
}

impl<'a> From<Option<&'a str>> for PathParams<'a> {
    fn from(value: Option<&'a str>) -> Self {
        value.map_or(PathParams::None, |value| PathParams::One {
            name: None,
            value,
        })
    }
}

/// What a route requires of a request: a valid token, the policy sets that
/// must all hold (none: authentication only), and the request fields those
/// policies read. Built once per route; cheap to clone.
#[derive(Clone)]
pub struct Requirements {
    inner: Arc<RequirementsInner>,
}

#[derive(Clone)]
struct RequirementsInner {
    /// Shared, never cloned per request: a run-time `Policy` owns its scope lists.
    sets: Vec<Arc<dyn PolicySet>>,
    fields: OrgFields,
    /// Whether a policy reads its organization from a path parameter: the
    /// front end looks the route's parameters up only then.
    reads_path: bool,
    /// The route's DPoP mode ([`Policy::dpop`]): `required` if a policy
    /// requires it, else `disabled` if one disables it.
    dpop: Option<DpopMode>,
    /// Whether a token for another audience is an invalid token (401) rather
    /// than a denial (403): see [`Requirements::audience_as_authentication`].
    audience_as_authentication: bool,
    /// The `#[requires]` declaration these come from, if any: the `policy`
    /// of their decisions' metrics and spans.
    policy: Option<PolicyLabel>,
}

impl Requirements {
    /// A valid token and nothing more. The [`AuthInfo`] still carries the
    /// header and query fields that the program's `#[requires]` declarations
    /// read, so that a handler's own check can decide them.
    pub fn authenticated() -> Self {
        Self::authenticated_static().clone()
    }

    /// [`authenticated`](Requirements::authenticated), built once, for front
    /// ends that decide per request without a route of their own (axum's
    /// `AuthInfo` extractor): no reference count per request.
    pub(crate) fn authenticated_static() -> &'static Requirements {
        static AUTHENTICATED: OnceLock<Requirements> = OnceLock::new();
        AUTHENTICATED.get_or_init(|| Requirements::build(Vec::new(), OrgFields::declared().clone()))
    }

    /// A valid token and `policies` (a `#[requires]` handler's `POLICY`, a
    /// [`Policy`] built at run time, an array of them: any [`PolicySet`]).
    pub fn new(policies: impl PolicySet + 'static) -> Self {
        Self::authenticated().and(policies)
    }

    /// These requirements and `policies` too: all must hold, and check
    /// functions ([`Policy::check_with`]) run once every set's audience,
    /// organization and scopes hold.
    pub fn and(self, policies: impl PolicySet + 'static) -> Self {
        let mut sets = self.inner.sets.clone();
        sets.push(Arc::new(policies));
        let fields = OrgFields::declared_and(sets.iter().flat_map(|set| set.policies()));
        Self::build(sets, fields)
    }

    /// The policies of one `#[requires]` declaration, capturing only the
    /// fields they read: what a handler's `Authorized` extractor decides.
    pub(crate) fn declared(policies: &'static [Policy]) -> Self {
        Self::build(vec![Arc::new(policies)], OrgFields::of(policies))
    }

    fn build(sets: Vec<Arc<dyn PolicySet>>, fields: OrgFields) -> Self {
        let reads_path = sets
            .iter()
            .flat_map(|set| set.policies())
            .any(|policy| matches!(policy.organization_source(), Some(OrgSource::PathParam(_))));
        let modes = || {
            sets.iter()
                .flat_map(|set| set.policies())
                .map(Policy::dpop_mode)
        };
        let dpop = [DpopMode::Required, DpopMode::Disabled]
            .into_iter()
            .find(|mode| modes().any(|own| own == Some(*mode)));
        let policy = sets.iter().find_map(|set| PolicyLabel::of(set.policies()));
        Requirements {
            inner: Arc::new(RequirementsInner {
                sets,
                fields,
                reads_path,
                dpop,
                audience_as_authentication: false,
                policy,
            }),
        }
    }

    /// These requirements, with a token for another audience refused as an
    /// invalid token (401 [`TokenError::AudienceNotThisResource`]) instead of
    /// a denial (403 [`Denied::WrongAudience`]): for an endpoint where a
    /// token meant for another resource is no credential at all, as the MCP
    /// authorization spec says of an MCP server. Other denials stay 403.
    pub fn audience_as_authentication(self) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.audience_as_authentication = true;
        Requirements {
            inner: Arc::new(inner),
        }
    }

    /// Every policy, set after set.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> + Clone {
        self.inner.sets.iter().flat_map(|set| set.policies())
    }

    /// Whether these are exactly `policies`, the same declaration (not an
    /// equal copy), and read no path parameter: a request they allowed
    /// without the route's parameters is one `policies` allow.
    pub(crate) fn are_exactly(&self, policies: &[Policy]) -> bool {
        !self.inner.reads_path
            && matches!(&self.inner.sets[..], [set] if std::ptr::eq(set.policies(), policies))
    }

    /// Whether a policy reads its organization from a path parameter (the
    /// front end passes the route's parameters only then).
    pub fn reads_path(&self) -> bool {
        self.inner.reads_path
    }

    /// Whether a policy (or, for authentication alone, a `#[requires]`
    /// declaration) reads its organization from a query parameter: a front
    /// end that must copy the query string to decide does so only then.
    pub fn reads_query(&self) -> bool {
        self.inner.fields.reads_query()
    }

    /// Whether [`authorize`](Requirements::authorize) reads header `name`
    /// (any case): `Authorization`, `DPoP`, or a policy's organization
    /// header. Every header the decision reads is named here, so a front end
    /// that must copy a request's headers (actix-web 4 is on `http` 0.2)
    /// copies these alone.
    #[cfg_attr(not(feature = "actix"), allow(dead_code))]
    pub(crate) fn reads_header(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(header::AUTHORIZATION.as_str())
            || name.eq_ignore_ascii_case(crate::dpop::check::DPOP)
            || self.inner.fields.reads_header(name)
    }

    /// The decision for one request: the bearer token from every
    /// `Authorization` value, validated by `validator`, with the request's
    /// header and query organization fields captured in the [`AuthInfo`];
    /// then every policy [decided](decide) against it. A refusal carries the
    /// validator's metadata URL for its challenge.
    ///
    /// Each decision is reported here, once, for every front end: a `debug`
    /// span `authorize` and, with the `metrics` feature,
    /// `bearer_policy_decisions_total` (see the operating guide).
    pub async fn authorize(
        &self,
        validator: &Validator,
        request: &RequestHead<'_>,
    ) -> Result<AuthInfo, Rejected> {
        let span = observe::authorize_span(self.inner.policy);
        let outcome = self
            .decide_head(validator, request, &span)
            .instrument(span.clone())
            .await;
        let result = outcome.as_ref().map(drop);
        observe::record_decision(&span, result);
        validator.metrics().decision(self.inner.policy, result);
        outcome.map_err(|error| Rejected::of_request(validator, request, error))
    }

    /// [`authorize`](Requirements::authorize)'s decision, before it is reported.
    async fn decide_head(
        &self,
        validator: &Validator,
        request: &RequestHead<'_>,
        span: &tracing::Span,
    ) -> Result<AuthInfo, Error> {
        let auth = crate::dpop::authenticate(validator, request, self.inner.dpop).await?;
        if !span.is_disabled() {
            observe::record_issuer(span, validator.configured_issuer(auth.issuer()));
        }
        let auth = match self.inner.fields.capture(request.headers, request.query) {
            Some(context) => auth.with_request(context),
            None => auth,
        };
        decide(self.policies(), &auth, request.path_params).map_err(|denied| match denied {
            Denied::WrongAudience if self.inner.audience_as_authentication => {
                Error::InvalidToken(TokenError::AudienceNotThisResource)
            }
            denied => Error::Denied(denied),
        })?;
        Ok(auth)
    }

    /// Like [`authorize`](Requirements::authorize), for routes that serve
    /// everyone but more to the authenticated: a request without an
    /// `Authorization` header is `None`; a header with a bad token is still
    /// refused, never silently downgraded.
    pub async fn authorize_optional(
        &self,
        validator: &Validator,
        request: &RequestHead<'_>,
    ) -> Result<Option<AuthInfo>, Rejected> {
        if !request.headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        self.authorize(validator, request).await.map(Some)
    }
}

impl fmt::Debug for Requirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirements")
            .field("policies", &self.policies().count())
            .finish()
    }
}

/// Where a `#[requires]` declaration keeps its [`Requirements`], built on
/// the first request: one `static` per declaration, so that later requests
/// allocate nothing.
pub struct RequirementsCell(OnceLock<Requirements>);

impl RequirementsCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        RequirementsCell(OnceLock::new())
    }

    /// The requirements of `policies`, built once.
    #[cfg_attr(
        not(any(feature = "axum", feature = "warp", feature = "actix")),
        allow(dead_code)
    )]
    pub(crate) fn get(&self, policies: &'static [Policy]) -> &Requirements {
        self.0.get_or_init(|| Requirements::declared(policies))
    }
}

impl Default for RequirementsCell {
    fn default() -> Self {
        Self::new()
    }
}

/// The decision: whether `auth` may make the request, under every one of
/// `policies`. Each policy is decided by [`Policy::decide`] against the
/// organization its own source names:
///
/// - [`OrgSource::Header`] and [`OrgSource::Query`]: the request fields
///   captured in `auth` ([`Policy::request_organization`]);
/// - [`OrgSource::PathParam`], or no source: `path`'s value for it
///   ([`PathParams::organization`]).
///
/// First the audience, organization and scopes of every policy, then the
/// check function of each, so that a check runs only for a request every
/// policy otherwise allows. The first denial is returned.
pub fn decide<'p, I>(policies: I, auth: &AuthInfo, path: PathParams<'_>) -> Result<(), Denied>
where
    I: IntoIterator<Item = &'p Policy>,
    I::IntoIter: Clone,
{
    let policies = policies.into_iter();
    for policy in policies.clone() {
        let org_id =
            match policy.organization_source() {
                Some(OrgSource::Header(_) | OrgSource::Query(_)) => policy
                    .request_organization(auth)
                    .map_err(|denied| policy.logged(auth, denied))?,
                Some(OrgSource::PathParam(name)) => {
                    let org_id = path.organization(Some(name));
                    if org_id.is_none() && policy.model().needs_organization() {
                        warn_unwired_path_parameter(name);
                    }
                    org_id
                }
                None => path.organization(None),
            };
        policy.decide_claims(auth, org_id)?;
    }
    policies
        .into_iter()
        .try_for_each(|policy| policy.run_check(auth))
}

/// Warns, once per parameter name, that a policy reading its organization
/// from a path parameter was decided without one: its route never passes the
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
             every request is refused (warp: use `authorize_path`; axum and actix-web: name \
             the route's capture like the parameter; tower has no path parameters)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_params_give_each_policy_its_own_value() {
        let named = [("org_id", "acme"), ("team", "blue")];
        let named = PathParams::Named(&named);
        assert_eq!(named.organization(Some("team")), Some("blue"));
        assert_eq!(named.organization(Some("other")), None);
        assert_eq!(named.organization(None), None, "no source reads no name");
        let unnamed = PathParams::One {
            name: None,
            value: "acme",
        };
        assert_eq!(unnamed.organization(Some("anything")), Some("acme"));
        assert_eq!(unnamed.organization(None), Some("acme"));
        let one = PathParams::One {
            name: Some("org_id"),
            value: "acme",
        };
        assert_eq!(one.organization(Some("org_id")), Some("acme"));
        assert_eq!(one.organization(Some("team_id")), None, "another parameter");
        assert_eq!(
            one.organization(None),
            Some("acme"),
            "a policy without a source"
        );
        assert_eq!(PathParams::None.organization(Some("org_id")), None);
        assert!(matches!(PathParams::from(None), PathParams::None));
    }

    #[test]
    fn requirements_know_whether_they_read_the_path() {
        use crate::policy::Model;
        let header =
            Policy::new(Model::OrgPermission).organization(OrgSource::Header("X-Org".into()));
        let path =
            Policy::new(Model::OrgResource).organization(OrgSource::PathParam("org_id".into()));
        assert!(!Requirements::authenticated().reads_path());
        assert!(!Requirements::new(header.clone()).reads_path());
        let both = Requirements::new(header).and(path);
        assert!(both.reads_path());
        assert_eq!(both.policies().count(), 2);
    }

    /// Only the declaration itself, alone and reading no path parameter,
    /// is exactly a handler's policies: never an equal copy, one policy of
    /// a stacked declaration, or the declaration with more beside it.
    #[test]
    fn requirements_are_exactly_one_declaration_only() {
        use crate::policy::Model;
        use std::borrow::Cow;
        const READ: &[Cow<'static, str>] = &[Cow::Borrowed("api:read")];
        static ONE: Policy =
            Policy::from_static(Model::GlobalApi, READ, &[], None, None, None, &[]);
        static STACKED: [Policy; 2] = [
            Policy::from_static(Model::GlobalApi, READ, &[], None, None, None, &[]),
            Policy::from_static(Model::GlobalApi, &[], READ, None, None, None, &[]),
        ];
        static PATH: Policy = Policy::from_static(
            Model::OrgResource,
            READ,
            &[],
            None,
            Some(OrgSource::PathParam(Cow::Borrowed("org_id"))),
            None,
            &[],
        );
        let one = std::slice::from_ref(&ONE);
        assert!(Requirements::new(&ONE).are_exactly(one));
        assert!(Requirements::new(one).are_exactly(one));
        assert!(
            Requirements::new(&ONE)
                .audience_as_authentication()
                .are_exactly(one)
        );
        assert!(!Requirements::new(ONE.clone()).are_exactly(one), "a copy");
        assert!(!Requirements::new(&ONE).and(&ONE).are_exactly(one));
        assert!(!Requirements::authenticated().are_exactly(one));
        assert!(Requirements::new(&STACKED).are_exactly(&STACKED));
        assert!(!Requirements::new(&STACKED[0]).are_exactly(&STACKED));
        assert!(!Requirements::new(&STACKED).are_exactly(std::slice::from_ref(&STACKED[0])));
        let path = std::slice::from_ref(&PATH);
        assert!(
            !Requirements::new(&PATH).are_exactly(path),
            "reads the path"
        );
    }
}
