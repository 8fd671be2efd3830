//! The security schemes: one OAuth 2.0 scheme per issuer whose discovery
//! published its endpoints, one HTTP bearer scheme for the others, and the
//! organization token's own.

use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
    SecurityScheme,
};
use utoipa::openapi::{Components, OpenApi};

use super::PolicySecurity;
use super::requirements::SecurityRequirements;
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
}

impl From<OAuthEndpoints> for IssuerScheme {
    fn from(endpoints: OAuthEndpoints) -> Self {
        IssuerScheme {
            issuer: endpoints.issuer,
            authorization_endpoint: endpoints.authorization_endpoint,
            token_endpoint: endpoints.token_endpoint,
            audience: endpoints.audience,
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
}

/// The schemes of a document, built once its operations are known.
pub(super) struct Schemes<'a> {
    issuers: &'a [IssuerScheme],
    audience: Option<&'a str>,
}

impl<'a> Schemes<'a> {
    pub(super) fn new(issuers: &'a [IssuerScheme], audience: Option<&'a str>) -> Self {
        Schemes { issuers, audience }
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
        let mut plain: Vec<&str> = Vec::new();
        for issuer in self.issuers {
            let Some(token_url) = issuer.token_endpoint.as_ref().filter(|_| issuer.has_flow())
            else {
                plain.push(&issuer.issuer);
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
            let description = format!(
                "Access tokens from `{}`{}.",
                issuer.issuer,
                for_resource(issuer.audience.as_deref().or(self.audience))
            );
            components.add_security_scheme(
                oauth_scheme_name(oauth),
                SecurityScheme::OAuth2(OAuth2::with_description([flow], description)),
            );
        }
        if !plain.is_empty() || self.issuers.is_empty() {
            let from = if plain.is_empty() {
                String::new()
            } else {
                format!(" from {}", code_list(&plain))
            };
            let description = format!(
                "An access token (JWT){from}{}.",
                for_resource(self.audience)
            );
            components.add_security_scheme(PolicySecurity::BEARER_SCHEME, jwt_bearer(description));
        }
        if requirements.organization_used {
            let issuers: Vec<&str> = self.issuers.iter().map(|i| i.issuer.as_str()).collect();
            let from = if issuers.is_empty() {
                String::new()
            } else {
                format!(" from {}", code_list(&issuers))
            };
            let description = format!(
                "An organization token (JWT){from}: its audience is \
                 `{ORGANIZATION_AUDIENCE_PREFIX}<id>` for the request's organization, and its \
                 scopes are organization permissions. An OAuth 2.0 flow cannot ask for \
                 one: with Logto, a client gets it from the token endpoint with a refresh \
                 token and the `organization_id` parameter."
            );
            components
                .add_security_scheme(PolicySecurity::ORGANIZATION_SCHEME, jwt_bearer(description));
        }
    }
}

/// " for the API resource `…`", or nothing without an audience.
fn for_resource(audience: Option<&str>) -> String {
    audience
        .map(|audience| format!(" for the API resource `{audience}`"))
        .unwrap_or_default()
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

/// `` `a`, `b` `` for the descriptions.
fn code_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
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
        }
    }
}
