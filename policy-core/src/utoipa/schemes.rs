//! The security schemes: one OAuth 2.0 scheme per issuer whose discovery
//! published its endpoints, one HTTP bearer scheme for the others, and the
//! organization token's own. Each description names the issuers whose names
//! are public and the audience their tokens need.

use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityScheme,
};
use utoipa::openapi::{Components, OpenApi};

use super::requirements::SecurityRequirements;
use super::{Disclosure, PolicySecurity, issuers};
use crate::policy::ORGANIZATION_AUDIENCE_PREFIX;
use crate::validator::OAuthEndpoints;

/// An issuer and the endpoints its discovery published.
#[derive(Debug, Clone)]
pub(super) struct IssuerScheme {
    issuer: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    /// What policies without their own audience require of its tokens.
    audience: Option<String>,
    /// Whether its keys are fetched: its name is then a URL clients reach.
    keys_fetched: bool,
}

impl From<OAuthEndpoints> for IssuerScheme {
    fn from(endpoints: OAuthEndpoints) -> Self {
        IssuerScheme {
            issuer: endpoints.issuer,
            authorization_endpoint: endpoints.authorization_endpoint,
            token_endpoint: endpoints.token_endpoint,
            audience: endpoints.audience,
            keys_fetched: endpoints.keys_fetched,
        }
    }
}

impl IssuerScheme {
    /// Whether clients can get a token from it through an OAuth 2.0 flow:
    /// every flow but the implicit one (which OAuth 2.0 security best
    /// practice retires) needs the token endpoint.
    fn has_flow(&self) -> bool {
        self.token_endpoint.is_some()
    }

    /// What policies without their own audience require of its tokens.
    pub(super) fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Its name, if the document may show it: an issuer whose keys are
    /// fetched is public (clients need its URL), one of static keys may be
    /// an internal name and is shown only if the user says so.
    pub(super) fn public_name(&self, disclosure: Disclosure) -> Option<&str> {
        (self.keys_fetched || disclosure.static_key_issuers).then_some(self.issuer.as_str())
    }
}

/// The schemes of a document, built once its operations are known.
pub(super) struct Schemes<'a> {
    issuers: &'a [IssuerScheme],
    disclosure: Disclosure,
}

impl<'a> Schemes<'a> {
    pub(super) fn new(issuers: &'a [IssuerScheme], disclosure: Disclosure) -> Self {
        Schemes {
            issuers,
            disclosure,
        }
    }

    /// The names of the schemes an API access token may come from, in the
    /// issuers' order: `oauth2`, `oauth2_2`… then `bearer` if an issuer has
    /// no flow, or if there is no issuer.
    pub(super) fn api_scheme_names(issuers: &[IssuerScheme]) -> Vec<String> {
        let oauth = issuers.iter().filter(|issuer| issuer.has_flow()).count();
        let mut names: Vec<String> = (1..=oauth).map(oauth_scheme_name).collect();
        if oauth < issuers.len() || issuers.is_empty() {
            names.push(PolicySecurity::BEARER_SCHEME.to_owned());
        }
        names
    }

    /// Adds the schemes that `requirements` name to the document's components.
    pub(super) fn add_to(&self, openapi: &mut OpenApi, requirements: &SecurityRequirements) {
        let components = openapi.components.get_or_insert_with(Components::new);
        let mut oauth = 0;
        let mut plain: Vec<&IssuerScheme> = Vec::new();
        for issuer in self.issuers {
            let Some(token_url) = issuer.token_endpoint.as_ref().filter(|_| issuer.has_flow())
            else {
                plain.push(issuer);
                continue;
            };
            oauth += 1;
            let scopes =
                Scopes::from_iter(requirements.api_scopes.iter().map(|(scope, routes)| {
                    (scope.clone(), format!("Required by {}", routes.join(", ")))
                }));
            let flow = match &issuer.authorization_endpoint {
                Some(authorization_url) => Flow::AuthorizationCode(AuthorizationCode::new(
                    authorization_url.clone(),
                    token_url.clone(),
                    scopes,
                )),
                None => Flow::ClientCredentials(ClientCredentials::new(token_url.clone(), scopes)),
            };
            // A flow comes from discovery, so its issuer's keys are fetched
            // and its name public.
            let description = format!(
                "Access tokens from `{}`{}.",
                issuer.issuer,
                self.for_resource(&[issuer])
            );
            components.add_security_scheme(
                oauth_scheme_name(oauth),
                SecurityScheme::OAuth2(OAuth2::with_description([flow], description)),
            );
        }
        if !plain.is_empty() || self.issuers.is_empty() {
            let description = format!(
                "An access token (JWT){}{}.",
                self.from(&plain),
                self.for_resource(&plain)
            );
            components.add_security_scheme(PolicySecurity::BEARER_SCHEME, jwt_bearer(description));
        }
        if requirements.organization_used {
            let issuers: Vec<&IssuerScheme> = self.issuers.iter().collect();
            let description = format!(
                "An organization token (JWT){}: its audience is \
                 `{ORGANIZATION_AUDIENCE_PREFIX}<id>` for the request's organization, and its \
                 scopes are organization permissions. An OAuth 2.0 flow cannot ask for \
                 one: with Logto, a client gets it from the token endpoint with a refresh \
                 token and the `organization_id` parameter.",
                self.from(&issuers)
            );
            components
                .add_security_scheme(PolicySecurity::ORGANIZATION_SCHEME, jwt_bearer(description));
        }
    }
}

impl Schemes<'_> {
    /// " from `a` or `b`", or nothing without an issuer.
    fn from(&self, issuers: &[&IssuerScheme]) -> String {
        if issuers.is_empty() {
            return String::new();
        }
        format!(" from {}", issuers::names(issuers, self.disclosure, "or"))
    }

    /// " for the API resource `…`", or nothing without an audience.
    fn for_resource(&self, issuers: &[&IssuerScheme]) -> String {
        issuers::resource(issuers, self.disclosure)
            .map(|resource| format!(" for {resource}"))
            .unwrap_or_default()
    }
}

/// `oauth2` for the first issuer with a flow, `oauth2_<n>` for the n-th.
fn oauth_scheme_name(n: usize) -> String {
    match n {
        1 => PolicySecurity::OAUTH2_SCHEME.to_owned(),
        n => format!("{}_{n}", PolicySecurity::OAUTH2_SCHEME),
    }
}

fn jwt_bearer(description: String) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(description))
            .build(),
    )
}

#[cfg(test)]
impl IssuerScheme {
    pub(super) fn for_tests(
        issuer: &str,
        authorization_endpoint: Option<String>,
        token_endpoint: Option<String>,
    ) -> Self {
        IssuerScheme {
            issuer: issuer.to_owned(),
            authorization_endpoint,
            token_endpoint,
            audience: None,
            keys_fetched: true,
        }
    }

    /// An issuer of static keys, with its audience.
    pub(super) fn static_for_tests(issuer: &str, audience: Option<&str>) -> Self {
        IssuerScheme {
            issuer: issuer.to_owned(),
            authorization_endpoint: None,
            token_endpoint: None,
            audience: audience.map(str::to_owned),
            keys_fetched: false,
        }
    }

    /// This issuer, its tokens needing `audience`.
    pub(super) fn with_audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }
}
