//! `AuthInfo`: what a validated access token says about the caller, as a cheap
//! shareable handle.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::claims::{Confirmation, VerifiedClaims};

/// The identity and permissions carried by a validated access token.
///
/// Where a handler gets it: warp's `authenticate` and `authorize` filters
/// yield it; axum extracts it (or a `#[requires]` handler's `Authorized`)
/// with no layer; behind the tower layer (`tower::BearerLayer`, for hyper,
/// tonic and other tower stacks) it is in the request's extensions,
/// `request.extensions().get::<AuthInfo>()`; and
/// [`Validator::validate`](crate::Validator::validate) returns it anywhere.
///
/// A cheap handle: the data sits behind an [`Arc`], so a clone never
/// allocates. Serialised as JSON it reads
/// `{"sub", "clientId", "organizationId", "scopes", "audience"}`.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// # use bearer_policy::AuthInfo;
/// fn greet(auth: &AuthInfo) -> String {
///     format!("hello {}", auth.sub().unwrap_or("anonymous client"))
/// }
/// ```
#[derive(Clone)]
pub struct AuthInfo {
    claims: Arc<VerifiedClaims>,
    request: Option<Arc<RequestContext>>,
}

impl AuthInfo {
    pub(crate) fn new(claims: Arc<VerifiedClaims>) -> Self {
        AuthInfo {
            claims,
            request: None,
        }
    }

    /// An `AuthInfo` with the given claims, for unit tests of policies.
    #[cfg(test)]
    pub(crate) fn for_tests(
        audience: &[&str],
        scopes: &[&str],
        organization_id: Option<&str>,
        configured_audience: Option<&str>,
    ) -> Self {
        let mut claims = crate::claims::tests::sample_claims();
        claims.organization_id = organization_id.map(Into::into);
        claims.scopes = scopes.iter().map(|s| s.to_string()).collect();
        claims.audience = audience.iter().map(|s| s.to_string()).collect();
        claims.configured_audience = configured_audience.map(Arc::from);
        AuthInfo::new(Arc::new(claims))
    }

    /// What the token is bound to (`cnf`), whatever verified it.
    pub(crate) fn confirmation(&self) -> &Confirmation {
        &self.claims.confirmation
    }

    /// The position of its issuer among the validator's trusted issuers.
    pub(crate) fn issuer_index(&self) -> usize {
        self.claims.issuer_index
    }

    /// The subject (`sub`): the user, or the client for machine-to-machine tokens.
    pub fn sub(&self) -> Option<&str> {
        self.claims.sub.as_deref()
    }

    /// The OAuth client the token was issued to (`client_id`).
    pub fn client_id(&self) -> Option<&str> {
        self.claims.client_id.as_deref()
    }

    /// The organization the token was issued for (`organization_id`), if any.
    pub fn organization_id(&self) -> Option<&str> {
        self.claims.organization_id.as_deref()
    }

    /// The granted scopes, from the space-separated `scope` claim and the `scp` array.
    pub fn scopes(&self) -> &[String] {
        &self.claims.scopes
    }

    /// Whether `scope` was granted (byte-exact comparison).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims.scopes.iter().any(|s| s == scope)
    }

    /// The audiences (`aud`), always as a list.
    pub fn audience(&self) -> &[String] {
        &self.claims.audience
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.claims.issuer
    }

    /// Expiry (`exp`) in seconds since the Unix epoch. For an introspected
    /// token whose answer had no `exp`: the end of the answer's maximum age.
    pub fn expires_at(&self) -> i64 {
        self.claims.expires_at
    }

    /// Not-before (`nbf`) in seconds since the Unix epoch, if the token has one.
    pub fn not_before(&self) -> Option<i64> {
        self.claims.not_before
    }

    /// The id of the key that signed the token (`kid`), if the header named one.
    pub fn key_id(&self) -> Option<&str> {
        self.claims.key_id.as_deref()
    }

    /// One claim of the payload as JSON, registered or not; `None` when
    /// absent, or when the payload names it more than once (refused, as
    /// [`claims`](AuthInfo::claims) refuses it, rather than read as its last
    /// value). Reads the payload each time, down to this one claim.
    pub fn claim(&self, name: &str) -> Option<serde_json::Value> {
        crate::claims::member(&self.claims.payload, name)
    }

    /// Deserialises the whole payload into your own type, for claims this
    /// crate does not model.
    ///
    /// ```
    /// # extern crate bearer_policy_core as bearer_policy;
    /// # #[cfg(feature = "testing")] {
    /// # use bearer_policy::testing::TestIssuer;
    /// #[derive(serde::Deserialize)]
    /// struct Extra { tenant_plan: String }
    /// # let rt = tokio::runtime::Runtime::new().unwrap();
    /// # rt.block_on(async {
    /// # let issuer = TestIssuer::start().await;
    /// # let validator = issuer.validator("https://api.example.com");
    /// # let token = issuer.token().audience("https://api.example.com").claim("tenant_plan", "pro").sign();
    /// let auth = validator.validate(&token).await.unwrap();
    /// let extra: Extra = auth.claims().unwrap();
    /// assert_eq!(extra.tenant_plan, "pro");
    /// # });
    /// # }
    /// ```
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.claims.payload)
    }

    /// The audience configured on the validator that produced this value (the
    /// API resource indicator), used by policies that set none of their own.
    pub fn configured_audience(&self) -> Option<&str> {
        self.claims.configured_audience.as_deref()
    }

    /// The request details captured with the token (headers and query
    /// parameters that policies read the organization from).
    pub fn request(&self) -> Option<&RequestContext> {
        self.request.as_deref()
    }

    /// Attaches request details, for header and query organization sources.
    /// The warp filters do this for you; tests call it directly.
    pub fn with_request(mut self, request: RequestContext) -> Self {
        self.request = Some(Arc::new(request));
        self
    }
}

impl std::fmt::Debug for AuthInfo {
    // Only the identity: the payload may hold personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthInfo")
            .field("sub", &self.sub())
            .field("client_id", &self.client_id())
            .field("organization_id", &self.organization_id())
            .field("scopes", &self.scopes())
            .field("audience", &self.audience())
            .finish()
    }
}

impl Serialize for AuthInfo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("AuthInfo", 5)?;
        s.serialize_field("sub", &self.sub())?;
        s.serialize_field("clientId", &self.client_id())?;
        s.serialize_field("organizationId", &self.organization_id())?;
        s.serialize_field("scopes", self.scopes())?;
        s.serialize_field("audience", self.audience())?;
        s.end()
    }
}

/// Request details that policies may read an organization id from: the
/// headers and query parameters named by header and query
/// [`OrgSource`](crate::OrgSource)s.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::RequestContext;
/// let request = RequestContext::new()
///     .with_header("X-Organization-Id", "org-1")
///     .with_query("page", "2");
/// assert_eq!(request.header("x-organization-id"), Some("org-1"));
/// assert_eq!(request.query("page"), Some("2"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
}

impl RequestContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header (names compare case-insensitively).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter (names compare exactly).
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Every value of header `name`, in order.
    pub fn headers<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of query parameter `name`, in order.
    pub fn queries<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.query
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}
