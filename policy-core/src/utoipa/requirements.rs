//! From policies to OpenAPI security requirements: the scopes that are all
//! required in one requirement object, one object per alternative where any
//! one scope of a list suffices and per issuer scheme (OpenAPI's "or"), and
//! organization permissions under their own scheme (or, stacked with an API
//! policy, beside the API scopes: a request carries one token).

use std::collections::BTreeMap;

use utoipa::openapi::security::SecurityRequirement;

use super::PolicySecurity;
use crate::policy::{Model, Policy};

/// One way to satisfy an operation's policies: the scopes of the API access
/// token and of the organization token, `None` where no policy asks for
/// that kind of token.
#[derive(Clone, Default, PartialEq, Eq)]
struct Alternative {
    api: Option<Vec<String>>,
    organization: Option<Vec<String>>,
}

impl Alternative {
    fn scopes(&mut self, model: Model) -> &mut Vec<String> {
        let scopes = match model {
            Model::OrgPermission => &mut self.organization,
            Model::GlobalApi | Model::OrgResource => &mut self.api,
        };
        scopes.get_or_insert_with(Vec::new)
    }

    fn add(&mut self, model: Model, scope: &str) {
        let scopes = self.scopes(model);
        if !scopes.iter().any(|known| known == scope) {
            scopes.push(scope.to_owned());
        }
    }
}

/// The ways to satisfy every one of `policies`.
fn alternatives(policies: &[Policy]) -> Vec<Alternative> {
    let mut alternatives = vec![Alternative::default()];
    for policy in policies {
        for alternative in &mut alternatives {
            alternative.scopes(policy.model());
            for scope in policy.required_scopes() {
                alternative.add(policy.model(), scope);
            }
        }
        if !policy.any_of_scopes().is_empty() {
            let mut expanded: Vec<Alternative> = Vec::new();
            for alternative in &alternatives {
                for scope in policy.any_of_scopes() {
                    let mut choice = alternative.clone();
                    choice.add(policy.model(), scope);
                    // `any_scopes(["a", "b"])` with `a` also required: one way, not two.
                    if !expanded.contains(&choice) {
                        expanded.push(choice);
                    }
                }
            }
            alternatives = expanded;
        }
    }
    // `a` and one of `a` or `b` is just `a`: a way that asks for more than
    // another way is no way of its own.
    let covers = |small: &Alternative, large: &Alternative| {
        let within = |s: &Option<Vec<String>>, l: &Option<Vec<String>>| match (s, l) {
            (None, _) => true,
            (Some(s), Some(l)) => s.iter().all(|scope| l.contains(scope)),
            (Some(_), None) => false,
        };
        small != large
            && within(&small.api, &large.api)
            && within(&small.organization, &large.organization)
    };
    let minimal: Vec<Alternative> = alternatives
        .iter()
        .filter(|a| !alternatives.iter().any(|other| covers(other, a)))
        .cloned()
        .collect();
    minimal
}

/// Builds the requirements of operations, remembering which scopes each
/// scheme must list and which routes need them.
pub(super) struct SecurityRequirements {
    /// The schemes an API access token may come from: one requirement each.
    api_schemes: Vec<String>,
    /// Every API scope required, with the routes that require it.
    pub(super) api_scopes: BTreeMap<String, Vec<String>>,
    /// Whether an operation needs an organization token.
    pub(super) organization_used: bool,
}

impl SecurityRequirements {
    pub(super) fn new(api_schemes: Vec<String>) -> Self {
        SecurityRequirements {
            api_schemes,
            api_scopes: BTreeMap::new(),
            organization_used: false,
        }
    }

    /// The requirements of a route that takes any valid API access token:
    /// each API scheme, with no scope.
    pub(super) fn any_token(&self) -> Vec<SecurityRequirement> {
        self.api_schemes
            .iter()
            .map(|scheme| SecurityRequirement::new(scheme, Vec::<String>::new()))
            .collect()
    }

    /// The security requirements of an operation at `route` (`GET /path`)
    /// that must satisfy every one of `policies`.
    pub(super) fn of(&mut self, policies: &[Policy], route: &str) -> Vec<SecurityRequirement> {
        let mut requirements = Vec::new();
        for mut alternative in alternatives(policies) {
            // One request carries one token: stacked API and organization
            // policies ask that token for both kinds of scope, under the API
            // token's scheme (two schemes in one object would mean two tokens).
            if let Some(api) = alternative.api.as_mut()
                && let Some(organization) = alternative.organization.take()
            {
                for scope in organization {
                    if !api.contains(&scope) {
                        api.push(scope);
                    }
                }
            }
            for scope in alternative.api.iter().flatten() {
                let routes = self.api_scopes.entry(scope.clone()).or_default();
                if !routes.iter().any(|known| known == route) {
                    routes.push(route.to_owned());
                }
            }
            self.organization_used |= alternative.organization.is_some();
            let organization = alternative
                .organization
                .map(|scopes| (PolicySecurity::ORGANIZATION_SCHEME, scopes));
            match alternative.api {
                None => requirements.extend(
                    organization.map(|(scheme, scopes)| SecurityRequirement::new(scheme, scopes)),
                ),
                Some(api) => requirements.extend(
                    self.api_schemes
                        .iter()
                        .map(|scheme| SecurityRequirement::new(scheme, api.clone())),
                ),
            }
        }
        requirements
    }
}
