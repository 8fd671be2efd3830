//! The paragraph appended to a secured operation's description: the model
//! of each policy, the token it needs, and where the organization comes from.
//! It is public: a check function's name, a rule of the server's own, is
//! shown only where the user opted in.

use utoipa::openapi::path::Operation;

use super::schemes::IssuerScheme;
use super::{Disclosure, issuers};
use crate::policy::{Model, ORGANIZATION_AUDIENCE_PREFIX, OrgSource, Policy};

/// What a paragraph depends on besides the policies: the issuers whose
/// tokens the operation accepts, and what the user lets it name.
pub(super) struct Context<'a> {
    pub issuers: Vec<&'a IssuerScheme>,
    pub disclosure: Disclosure,
}

/// Appends the paragraph on `policies` to the operation's description, once:
/// applied again, the description is unchanged.
pub(super) fn append(operation: &mut Operation, policies: &[Policy], context: &Context<'_>) {
    push_once(operation, paragraph(policies, context));
}

/// Appends `paragraph` to the description unless it is there already.
fn push_once(operation: &mut Operation, paragraph: String) {
    operation.description = Some(match operation.description.take() {
        Some(text) if text.contains(&paragraph) => text,
        Some(text) if !text.trim().is_empty() => format!("{}\n\n{paragraph}", text.trim_end()),
        _ => paragraph,
    });
}

/// Appends, once, that any valid token of a trusted issuer will do.
pub(super) fn append_authenticated(operation: &mut Operation) {
    push_once(
        operation,
        "**Authorization**: a valid bearer token from a trusted issuer; no audience, scope \
         or organization is checked."
            .to_owned(),
    );
}

fn paragraph(policies: &[Policy], context: &Context<'_>) -> String {
    let rules = if policies.len() == 1 {
        "this rule"
    } else {
        "each of these rules"
    };
    let mut text = format!("**Authorization**: a bearer token that meets {rules}:\n");
    for policy in policies {
        text.push_str("\n- ");
        text.push_str(&sentence(policy, context));
    }
    text
}

/// One policy, e.g. "model `org_permission`: an organization token for the
/// organization named by the path parameter `org_id`, with the organization
/// permission `invite:member`."
fn sentence(policy: &Policy, context: &Context<'_>) -> String {
    // A policy's own audience applies to every issuer's tokens; without one,
    // each issuer's tokens need that issuer's audience.
    let resource = match policy.audience_override() {
        Some(audience) => format!("the API resource `{audience}`"),
        None => issuers::resource(&context.issuers, context.disclosure)
            .unwrap_or_else(|| "the API resource".to_owned()),
    };
    let organization = || match policy.organization_source() {
        Some(OrgSource::PathParam(name)) => format!("the path parameter `{name}`"),
        Some(OrgSource::Header(name)) => format!("the header `{name}`"),
        Some(OrgSource::Query(name)) => format!("the query parameter `{name}`"),
        None => "the route's path".to_owned(),
    };
    let (token, noun) = match policy.model() {
        Model::GlobalApi => (
            format!("an access token for {resource}, not issued within an organization"),
            "scope",
        ),
        Model::OrgPermission => (
            format!(
                "an organization token (audience `{ORGANIZATION_AUDIENCE_PREFIX}<id>`) for \
                 the organization named by {}",
                organization()
            ),
            "organization permission",
        ),
        Model::OrgResource => (
            format!(
                "an access token for {resource}, issued within the organization \
                 (`organization_id`) named by {}",
                organization()
            ),
            "scope",
        ),
    };
    format!(
        "model `{}`: {token}{}{}.",
        policy.model().as_str(),
        scopes(policy, noun),
        check(policy, context.disclosure)
    )
}

/// For a policy with a check function, ", and passing a rule of the API's
/// own": true, and nothing about the rule, whose name belongs to the
/// server's code. With [`Disclosure::check_names`], ", and passing the check
/// `is_staff`", each named by its last path segment (the module path is the
/// server's own); several (`a && b`, from `check_with` twice) are listed.
fn check(policy: &Policy, disclosure: Disclosure) -> String {
    let Some(name) = policy.check_name() else {
        return String::new();
    };
    let checks: Vec<&str> = name
        .split(" && ")
        .map(|check| check.rsplit("::").next().unwrap_or(check))
        .collect();
    let several = checks.len() > 1;
    if !disclosure.check_names {
        return if several {
            ", and passing rules of the API's own".to_owned()
        } else {
            ", and passing a rule of the API's own".to_owned()
        };
    }
    let plural = if several { "s" } else { "" };
    format!(", and passing the check{plural} {}", listed(&checks, "and"))
}

/// ", with the scopes `a` and `b` and one of the scopes `c` or `d`", or
/// nothing for a policy without scopes.
fn scopes(policy: &Policy, noun: &str) -> String {
    let all = policy.required_scopes();
    let any = policy.any_of_scopes();
    let mut text = String::new();
    if !all.is_empty() {
        let plural = if all.len() == 1 { "" } else { "s" };
        text.push_str(&format!(", with the {noun}{plural} {}", listed(all, "and")));
    }
    if !any.is_empty() {
        text.push_str(if all.is_empty() { ", with" } else { " and" });
        text.push_str(&format!(" one of the {noun}s {}", listed(any, "or")));
    }
    text
}

/// `` `a`, `b` and `c` ``.
fn listed<S: AsRef<str>>(items: &[S], conjunction: &str) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| format!("`{}`", item.as_ref()))
        .collect();
    issuers::joined(&quoted, conjunction)
}
