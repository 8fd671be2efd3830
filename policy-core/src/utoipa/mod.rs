//! utoipa 6: the permissions declared with `#[requires]`, written once, in
//! your OpenAPI document. [`PolicySecurity`] is a [`Modify`] that adds the
//! issuer's security schemes and, on every operation whose handler carries
//! `#[requires]`, the security requirement with its scopes and a sentence on
//! the permission model and where the organization comes from.
//!
//! Operations are matched by utoipa's operation id, which `#[utoipa::path]`
//! takes from the handler function's name, so nothing is written twice.
//!
//! ```
//! # extern crate bearer_policy_core as bearer_policy;
//! use bearer_policy::utoipa::PolicySecurity;
//! use bearer_policy::{Model, OrgSource, Policy};
//! use utoipa::OpenApi;
//!
//! /// Billing of an organization.
//! #[utoipa::path(get, path = "/billing", responses((status = 200)))]
//! async fn billing() {}
//!
//! #[derive(OpenApi)]
//! #[openapi(paths(billing))]
//! struct ApiDoc;
//!
//! let billing_policy = Policy::new(Model::OrgPermission)
//!     .scopes(["manage:billing"])
//!     .organization(OrgSource::Header("X-Organization-Id".into()));
//! let security = PolicySecurity::new()
//!     // A `#[requires]` handler needs no line here: its operation id finds it.
//!     // A route protected without the macro is named by its operation id.
//!     .operation("billing", billing_policy);
//!
//! let mut doc = ApiDoc::openapi();
//! let report = security.apply(&mut doc);
//! assert!(report.is_complete(), "{report}");
//!
//! let json = serde_json::to_value(&doc).unwrap();
//! assert_eq!(json["openapi"], "3.1.0");
//! assert_eq!(
//!     json["paths"]["/billing"]["get"]["security"],
//!     serde_json::json!([{ "organization_token": ["manage:billing"] }])
//! );
//! ```

mod describe;
mod issuers;
mod report;
mod requirements;
mod schemes;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::{Operation, PathItem};

use crate::declaration::{Declaration, declared};
use crate::policy::{Policy, PolicySet};
use crate::validator::Validator;

pub use self::report::Report;

use self::describe::Context;
use self::requirements::SecurityRequirements;
use self::schemes::{IssuerScheme, Schemes};

/// Adds the declared permissions to a utoipa [`OpenApi`] document.
///
/// - **Security schemes**, in `components.securitySchemes`:
///   - for API access tokens (models `global_api` and `org_resource`), one
///     OAuth 2.0 scheme per issuer whose discovery published its endpoints:
///     the authorization code flow when it published an authorization and a
///     token endpoint, client credentials when only a token endpoint.
///     [`OAUTH2_SCHEME`](Self::OAUTH2_SCHEME) is the first issuer's, then
///     `oauth2_2`, `oauth2_3`… in the validator's order, each described with
///     its issuer and the audience its tokens need, so that Swagger UI offers
///     one "Authorize" form per issuer.
///     Issuers without endpoints (discovery not run yet, a `jwks_uri`
///     configured instead, or [`StaticKeys`](crate::StaticKeys)) share one
///     HTTP bearer scheme of format JWT,
///     [`BEARER_SCHEME`](Self::BEARER_SCHEME); so does a
///     [`PolicySecurity::new`] that knows no issuer.
///   - for organization tokens (model `org_permission`), whose audience is
///     `urn:logto:organization:<id>` and whose scopes are organization
///     permissions listed by their own names (`invite:member`):
///     [`ORGANIZATION_SCHEME`](Self::ORGANIZATION_SCHEME), an HTTP bearer
///     scheme of format JWT (an OAuth 2.0 flow cannot ask for an
///     organization token), added only when an operation needs one.
/// - **Security requirements**, on each operation whose id names a
///   `#[requires]` handler (the function's name, utoipa's default operation
///   id) or was given to [`operation`](Self::operation). They replace what
///   the operation listed, since they say what the route enforces. The scopes
///   a handler requires all go in one requirement object; a scope of which
///   any one suffices gives one requirement object per alternative, which
///   OpenAPI reads as "or"; so does a token from each of several issuers.
///   Stacked `#[requires]` (all must hold) share one requirement object,
///   under the API token's scheme when an API policy is stacked with an
///   organization one (a request carries one token, which must hold both
///   kinds of scope). An
///   operation of no policy gets no requirement, and no global requirement is
///   added, so public routes stay public.
/// - **Descriptions**: each secured operation's description gets a paragraph
///   (appended once, never replacing yours) saying which model applies, which
///   audience and scopes the token needs, and where the organization comes
///   from: path parameter, header or query parameter. The audience is the
///   one that applies: a policy's own, else each issuer's (named per issuer
///   where issuers have their own, [`Issuer::audience`](crate::Issuer::audience)).
///
/// The document is public, so two names stay out of it unless you opt in:
/// a check function's, which is the server's code (a policy with one reads
/// "passing a rule of the API's own";
/// [`reveal_check_names`](Self::reveal_check_names) names it), and the name
/// of an issuer configured with [`StaticKeys`](crate::StaticKeys), which may
/// be internal (such issuers are counted, "a trusted issuer", and share the
/// bearer scheme; [`reveal_static_key_issuers`](Self::reveal_static_key_issuers)
/// names them). Issuers whose keys are fetched are named: clients need
/// their URL.
///
/// A declared handler that no operation matches, two handlers that share a
/// name (so an operation id cannot say which), and an
/// [`operation`](Self::operation) or [`handler_operation`](Self::handler_operation)
/// that names nothing are not guessed at: [`apply`](Self::apply) returns them
/// in its [`Report`], and [`Modify::modify`] logs them as warnings.
///
/// ```
/// # extern crate bearer_policy_core as bearer_policy;
/// use bearer_policy::utoipa::PolicySecurity;
/// use utoipa::{Modify, OpenApi};
///
/// #[derive(OpenApi)]
/// #[openapi(paths())]
/// struct ApiDoc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # let issuer = bearer_policy::testing::TestIssuer::start().await;
/// # let validator = issuer.validator("https://api.example.com");
/// // After discovery, the document names the issuer's OAuth 2.0 endpoints.
/// validator.ready().await.unwrap();
/// let mut doc = ApiDoc::openapi();
/// PolicySecurity::from_validator(&validator).modify(&mut doc);
/// let json = serde_json::to_value(&doc).unwrap();
/// let scheme = &json["components"]["securitySchemes"][PolicySecurity::OAUTH2_SCHEME];
/// assert_eq!(scheme["type"], "oauth2");
/// assert!(scheme["flows"]["authorizationCode"]["tokenUrl"].is_string());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PolicySecurity {
    issuers: Vec<IssuerScheme>,
    disclosure: Disclosure,
    modules: Vec<String>,
    operations: Vec<(String, Vec<Policy>)>,
    handler_operations: Vec<(String, String)>,
    authenticated: Vec<String>,
}

impl PolicySecurity {
    /// The OAuth 2.0 scheme of the first issuer with published endpoints.
    pub const OAUTH2_SCHEME: &'static str = "oauth2";
    /// The HTTP bearer (JWT) scheme of API access tokens from issuers without
    /// published endpoints.
    pub const BEARER_SCHEME: &'static str = "bearer";
    /// The HTTP bearer (JWT) scheme of organization tokens (`org_permission`).
    pub const ORGANIZATION_SCHEME: &'static str = "organization_token";

    /// Knows no issuer: API access tokens are described as HTTP bearer, JWT.
    /// A `const`, so that `#[openapi(modifiers(&SECURITY))]` can name
    /// `const SECURITY: PolicySecurity = PolicySecurity::new();`. To add
    /// settings, implement [`Modify`] on a type of yours that builds a
    /// `PolicySecurity` and calls its `modify`.
    pub const fn new() -> Self {
        PolicySecurity {
            issuers: Vec::new(),
            disclosure: Disclosure {
                check_names: false,
                static_key_issuers: false,
            },
            modules: Vec::new(),
            operations: Vec::new(),
            handler_operations: Vec::new(),
            authenticated: Vec::new(),
        }
    }

    /// The validator's issuers, their OAuth 2.0 endpoints as discovery
    /// published them ([`Validator::oauth_endpoints`]: build after
    /// [`Validator::ready`] to have them), and the audience each one's tokens
    /// need, named in the descriptions.
    pub fn from_validator(validator: &Validator) -> Self {
        PolicySecurity {
            issuers: validator
                .oauth_endpoints()
                .into_iter()
                .map(IssuerScheme::from)
                .collect(),
            ..Self::new()
        }
    }

    /// Whether the descriptions name check functions (`check = is_staff`,
    /// [`Policy::check_with`]) by the last segment of their path: "passing
    /// the check `is_staff`". Default: `false`, "passing a rule of the API's
    /// own", since the name says something about the server's code to anyone
    /// who reads the document. [`declared`] lists them by name for operators.
    pub fn reveal_check_names(mut self, reveal: bool) -> Self {
        self.disclosure.check_names = reveal;
        self
    }

    /// Whether the document names issuers configured with
    /// [`StaticKeys`](crate::StaticKeys), whose `iss` need not be a URL and
    /// may be an internal name. Default: `false`, they are "a trusted
    /// issuer" (their audience is still told). Issuers whose keys are fetched
    /// are always named: clients need their URL to get a token.
    pub fn reveal_static_key_issuers(mut self, reveal: bool) -> Self {
        self.disclosure.static_key_issuers = reveal;
        self
    }

    /// Considers only the handlers declared in this module or below it (a
    /// path as `module_path!()` writes it, e.g. `my_api::routes`): for a
    /// program that serves several APIs, each with its own document. Call it
    /// again to add a module. Default: every declared handler.
    pub fn module(mut self, module: impl Into<String>) -> Self {
        self.modules.push(module.into());
        self
    }

    /// Adds policies, all of which must hold, to the operation with this id:
    /// for a route protected without `#[requires]` (`authorize(validator,
    /// policy)` in warp, a `BearerLayer` in axum). Policies of a `#[requires]`
    /// handler of the same name are kept too.
    pub fn operation(mut self, operation_id: impl Into<String>, policies: impl PolicySet) -> Self {
        self.operations
            .push((operation_id.into(), policies.policies().to_vec()));
        self
    }

    /// Marks the operation with this id as needing a valid token and nothing
    /// more: for a route that only authenticates (axum's `AuthInfo` or
    /// `Claims<T>` without `#[requires]`, warp's `authenticate`, a
    /// `BearerLayer` without `require`), which would otherwise look public.
    /// Its requirement lists no scope.
    pub fn authenticated(mut self, operation_id: impl Into<String>) -> Self {
        self.authenticated.push(operation_id.into());
        self
    }

    /// Matches the declared handler `function` with the operation of this id
    /// instead of the one named like the function: for a handler whose
    /// `#[utoipa::path(operation_id = …)]` renames it, and for handlers that
    /// share a name (each of them is left out until named here). `function`
    /// is its path as [`declared`] lists it, or
    /// the end of that path after a `::` (`users::list` for
    /// `my_api::users::list`), naming exactly one handler.
    pub fn handler_operation(
        mut self,
        function: impl Into<String>,
        operation_id: impl Into<String>,
    ) -> Self {
        self.handler_operations
            .push((function.into(), operation_id.into()));
        self
    }

    /// Adds the security schemes, requirements and descriptions to `openapi`,
    /// and reports what it secured and what it could not match. Applying
    /// twice gives the same document.
    pub fn apply(&self, openapi: &mut OpenApi) -> Report {
        let mut report = Report::default();
        let mut targets = self.targets(&mut report);
        let mut requirements = SecurityRequirements::new(Schemes::api_scheme_names(&self.issuers));
        let context = Context {
            issuers: self.issuers.iter().collect(),
            disclosure: self.disclosure,
        };

        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                let Some(id) = operation.operation_id.as_deref() else {
                    continue;
                };
                let id = id.strip_prefix("r#").unwrap_or(id).to_owned();
                let Some(target) = targets.get_mut(&id) else {
                    continue;
                };
                target.found = true;
                if target.policies.is_empty() {
                    // Only authenticated: a token, whatever its scopes.
                    operation.security = Some(requirements.any_token());
                    describe::append_authenticated(operation);
                } else {
                    let route = format!("{} {path}", method.to_ascii_uppercase());
                    operation.security = Some(requirements.of(&target.policies, &route));
                    describe::append(operation, &target.policies, &context);
                }
                report.secured.push(id);
            }
        }
        for target in targets.into_values().filter(|target| !target.found) {
            report.unmatched.extend(target.declared_by);
            report.unknown_operations.extend(target.named_by);
        }
        Schemes::new(&self.issuers, self.disclosure).add_to(openapi, &requirements);
        report.sort();
        report
    }

    /// The policies of each operation id, from the declarations and from
    /// [`operation`](Self::operation); what cannot be matched goes in `report`.
    fn targets(&self, report: &mut Report) -> BTreeMap<String, Target> {
        let mut targets: BTreeMap<String, Target> = BTreeMap::new();
        let mut handlers: Vec<&'static Declaration> = declared()
            .into_iter()
            .filter(|d| self.in_scope(d.function()))
            .collect();
        // Counted before any mapping: mapping one of two `list`s says nothing
        // about where the other one goes.
        let mut named: BTreeMap<&str, usize> = BTreeMap::new();
        for handler in &handlers {
            *named.entry(function_name(handler.function())).or_default() += 1;
        }

        for (function, operation_id) in &self.handler_operations {
            let mut matching = handlers
                .iter()
                .enumerate()
                .filter(|(_, d)| path_ends_with(d.function(), function));
            match (matching.next(), matching.next()) {
                (Some((index, _)), None) => {
                    let handler = handlers.remove(index);
                    targets
                        .entry(operation_id.clone())
                        .or_default()
                        .add_declared(handler);
                }
                _ => report.unknown_handlers.push(function.clone()),
            }
        }

        for handler in handlers {
            let name = function_name(handler.function());
            if named.get(name).copied().unwrap_or_default() > 1 {
                report.ambiguous.push(handler.function().to_owned());
            } else {
                targets
                    .entry(name.to_owned())
                    .or_default()
                    .add_declared(handler);
            }
        }

        for (operation_id, policies) in &self.operations {
            let target = targets.entry(operation_id.clone()).or_default();
            target.policies.extend(policies.iter().cloned());
            target.named_by.push(operation_id.clone());
        }
        for operation_id in &self.authenticated {
            targets
                .entry(operation_id.clone())
                .or_default()
                .named_by
                .push(operation_id.clone());
        }
        targets
    }

    fn in_scope(&self, function: &str) -> bool {
        self.modules.is_empty()
            || self.modules.iter().any(|module| {
                function
                    .strip_prefix(module.as_str())
                    .is_some_and(|rest| rest.starts_with("::"))
            })
    }
}

impl Default for PolicySecurity {
    fn default() -> Self {
        Self::new()
    }
}

impl Modify for PolicySecurity {
    /// [`apply`](PolicySecurity::apply), logging what it could not match as
    /// `tracing` warnings.
    fn modify(&self, openapi: &mut OpenApi) {
        self.apply(openapi).log();
    }
}

/// What the public document may name beyond what clients need.
#[derive(Debug, Clone, Copy)]
struct Disclosure {
    /// Check functions, by name ([`PolicySecurity::reveal_check_names`]).
    check_names: bool,
    /// Issuers of static keys, by name
    /// ([`PolicySecurity::reveal_static_key_issuers`]).
    static_key_issuers: bool,
}

/// The policies one operation must show, and who named it.
#[derive(Default)]
struct Target {
    policies: Vec<Policy>,
    /// The declared handlers matched to it, by function path.
    declared_by: Vec<String>,
    /// Its id once per [`PolicySecurity::operation`] call that named it.
    named_by: Vec<String>,
    found: bool,
}

impl Target {
    fn add_declared(&mut self, handler: &'static Declaration) {
        self.policies.extend(handler.policies().iter().cloned());
        self.declared_by.push(handler.function().to_owned());
    }
}

/// The last segment of a function path: what utoipa's operation id defaults to.
fn function_name(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// Whether `path` is `suffix` or ends with `::suffix`.
fn path_ends_with(path: &str, suffix: &str) -> bool {
    path == suffix
        || path
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with("::"))
}

/// Every operation of a path item, with its method, in the order the
/// specification lists them.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&str, &mut Operation)> {
    let PathItem {
        get,
        put,
        post,
        delete,
        options,
        head,
        patch,
        trace,
        query,
        additional_operations,
        ..
    } = item;
    [
        ("get", get),
        ("put", put),
        ("post", post),
        ("delete", delete),
        ("options", options),
        ("head", head),
        ("patch", patch),
        ("trace", trace),
        ("query", query),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|op| (method, op)))
    .chain(
        additional_operations
            .iter_mut()
            .map(|(method, op)| (method.as_str(), op)),
    )
}
