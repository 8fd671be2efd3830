//! Validation of the parsed [`Args`] against each other and against the
//! function they annotate, producing a [`Plan`]: everything `expand` needs,
//! already known to be consistent.
//!
//! What is validated here is what rustc would otherwise report as confusing
//! type errors inside generated code: a missing `AuthInfo` or organization
//! parameter, a function that cannot return the denial, a model that
//! contradicts its organization source. Each error points at the token to
//! change and says what to write. Where a pattern binds the organization id
//! is found by `org_binding`.

mod body_order;
mod mcp_item;
mod org_binding;

pub(crate) use mcp_item::{McpItemPlan, is_mcp_item, validate_mcp_item};

use proc_macro2::{Ident, Span};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, ItemFn, LitStr, Pat, Path, PathArguments, ReturnType, Token, Type,
};

use crate::args::{Args, DpopArg, Model, OrgFrom, Scope};
use crate::diagnostics::{Errors, all, both, method_refused, path_text};

/// A validated `#[requires]` expansion: the function's policies and the
/// parameters the generated decision reads.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The path to the `bearer_policy` crate (`::bearer_policy` unless `crate = ...`).
    pub(crate) krate: Path,
    /// One per `#[requires]` attribute, outermost first.
    pub(crate) policies: Vec<PolicyPlan>,
    /// The `AuthInfo` parameter.
    pub(crate) auth: AuthPlan,
    /// Where errors about converting the denial point: the function's error type.
    pub(crate) error_span: Span,
}

/// The handler's `AuthInfo` parameter.
#[derive(Debug)]
pub(crate) struct AuthPlan {
    /// The name the body and the decision know it by: the user's identifier,
    /// with its span.
    pub(crate) binding: Ident,
    /// Set when it is taken by value: its type becomes `handler::Authorized`,
    /// converted back to an `AuthInfo` at the top of the body.
    pub(crate) owned: Option<OwnedAuth>,
}

/// An `AuthInfo` parameter taken by value, as declared.
#[derive(Debug)]
pub(crate) struct OwnedAuth {
    /// Its position among the parameters.
    pub(crate) index: usize,
    /// `ref` and `mut` as written, which move to the converting `let`: the
    /// body binds the `AuthInfo`, the parameter is only converted.
    pub(crate) by_ref: Option<Token![ref]>,
    pub(crate) mutability: Option<Token![mut]>,
}

/// One attribute's policy.
#[derive(Debug)]
pub(crate) struct PolicyPlan {
    pub(crate) model: Model,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) any_scopes: Vec<Scope>,
    /// The issuers whose tokens the policy accepts (empty: every trusted one).
    pub(crate) issuers: Vec<LitStr>,
    pub(crate) audience: Option<LitStr>,
    pub(crate) org: Option<OrgPlan>,
    /// The check function's path, as written.
    pub(crate) check: Option<Path>,
    /// `dpop = …`: the route's own DPoP mode.
    pub(crate) dpop: Option<DpopArg>,
}

/// Where a policy's organization comes from, resolved against the signature.
#[derive(Debug)]
pub(crate) enum OrgPlan {
    /// A path parameter: `name` is the one the policy records (warp's
    /// parameter, axum's route capture), `binding` the identifier the
    /// handler binds it to (a parameter, or inside `Path(...)`; the span is
    /// the user's), `ty_span` the span of its type.
    Param {
        name: String,
        binding: Ident,
        ty_span: Span,
    },
    /// A path parameter the handler takes inside an extractor holding
    /// several values without binding it by name (actix's
    /// `web::Path<(String, u64)>` or `web::Path<Params>`, whose field is
    /// private): the route's extractor decides it by `name`; a direct call
    /// has no route, and is refused.
    Route {
        name: String,
    },
    Header(LitStr),
    Query(LitStr),
}

impl OrgPlan {
    /// The parameter, header or query name recorded in the policy.
    pub(crate) fn name(&self) -> String {
        match self {
            OrgPlan::Param { name, .. } | OrgPlan::Route { name } => name.clone(),
            OrgPlan::Header(lit) | OrgPlan::Query(lit) => lit.value(),
        }
    }
}

/// Validates every attribute stacked on `function` (outermost first; an `Err`
/// is an attribute whose arguments did not parse) and the function itself.
/// All problems are reported together.
pub(crate) fn validate(function: &ItemFn, stacked: Vec<syn::Result<Args>>) -> syn::Result<Plan> {
    // Errors are reported in source order: the attributes, then the signature.
    let krate = crate_path(&stacked);
    let policies = all(stacked
        .into_iter()
        .map(|args| validate_args(args?, Some(function))));
    let signature = validate_signature(function);
    let ((krate, policies), (auth, error_span)) = both(both(krate, policies), signature)?;
    Ok(Plan {
        krate,
        policies,
        auth,
        error_span,
    })
}

/// Validates the stacked attributes alone, for a function whose tokens syn
/// could not read: the policies and the crate path, with every parameter
/// source taken at its word (there is no signature to resolve it against).
pub(crate) fn validate_without_function(
    stacked: Vec<syn::Result<Args>>,
) -> syn::Result<(Path, Vec<PolicyPlan>)> {
    let krate = crate_path(&stacked);
    let policies = all(stacked.into_iter().map(|args| validate_args(args?, None)));
    both(krate, policies)
}

/// Validates what every `#[requires]` needs of the function, whatever its
/// arguments: returns the `AuthInfo` parameter and the span of the error type.
fn validate_signature(function: &ItemFn) -> syn::Result<(AuthPlan, Span)> {
    let sig = &function.sig;
    let mut errors = Errors::default();
    errors.push_result(function.modifiers.require_empty());
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            "`#[requires]` cannot check a policy in a `const fn`: remove `const`",
        ));
    }
    if let Some(receiver) = sig.receiver() {
        errors.push(method_refused(receiver.self_token.span));
    }
    errors.push_result(body_order::validate(function));
    let found = both(find_auth_info(function), validate_return_type(function));
    both(errors.finish(), found).map(|((), found)| found)
}

/// The function must return `Result<_, E>` (or an alias whose name ends in
/// `Result`) so that the denial can be returned as `Err(E::from(denied))`.
/// Returns the span the conversion is attributed to: `E` when written.
fn validate_return_type(function: &ItemFn) -> syn::Result<Span> {
    const HINT: &str = "the function must return `Result<_, E>` where `E: From<bearer_policy::Denied>`, \
                        so that a denied request returns `Err`";
    let ty = match &function.sig.output {
        ReturnType::Type(_, ty) => ungroup(ty),
        ReturnType::Default => {
            return Err(syn::Error::new(
                function.sig.paren_token.span.close(),
                format!(
                    "{HINT}: for a warp handler add `-> Result<impl warp::Reply, warp::Rejection>`"
                ),
            ));
        }
    };
    let Type::Path(path) = ty else {
        let found = if matches!(ty, Type::ImplTrait(_)) {
            "; `impl Trait` is not a `Result`: for a warp handler write \
             `-> Result<impl warp::Reply, warp::Rejection>`"
        } else {
            "; found a type that is not a `Result`"
        };
        return Err(syn::Error::new(ty.span(), format!("{HINT}{found}")));
    };
    let Some(last) = path.path.segments.last().filter(|_| path.qself.is_none()) else {
        return Err(syn::Error::new(ty.span(), HINT));
    };
    if !last.ident.to_string().ends_with("Result") {
        return Err(syn::Error::new(
            ty.span(),
            format!("{HINT}; `{}` is not a `Result`", path_text(&path.path)),
        ));
    }
    let error_type = match &last.arguments {
        PathArguments::AngleBracketed(arguments) => arguments
            .args
            .iter()
            .filter_map(|argument| match argument {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .nth(1),
        _ => None,
    };
    Ok(error_type.map_or_else(|| last.ident.span(), Spanned::span))
}

/// Finds the one `AuthInfo` parameter (by value or by reference, through any
/// path that ends in `AuthInfo`).
fn find_auth_info(function: &ItemFn) -> syn::Result<AuthPlan> {
    let sig = &function.sig;
    let mut found: Option<AuthPlan> = None;
    let mut errors = Errors::default();
    for (index, argument) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = argument else {
            continue;
        };
        if !is_auth_info(&typed.ty) {
            continue;
        }
        if found.is_some() {
            errors.push(syn::Error::new(
                typed.ty.span(),
                "more than one `AuthInfo` parameter: a handler receives the caller's \
                 `AuthInfo` once; remove this parameter",
            ));
            continue;
        }
        match &*typed.pat {
            Pat::Ident(pat) if pat.subpat.is_none() => {
                let owned = matches!(ungroup(&typed.ty), Type::Path(_)).then(|| OwnedAuth {
                    index,
                    by_ref: pat.by_ref,
                    mutability: pat.mutability,
                });
                found = Some(AuthPlan {
                    binding: pat.ident.clone(),
                    owned,
                });
            }
            pat => errors.push(syn::Error::new(
                pat.span(),
                "name this parameter, e.g. `auth: AuthInfo`: `#[requires]` reads it to check the policy",
            )),
        }
    }
    errors.finish()?;
    found.ok_or_else(|| {
        syn::Error::new(
            sig.paren_token.span.join(),
            format!(
                "`#[requires]` needs the caller's `AuthInfo`: add a parameter `auth: AuthInfo` to `{}`",
                sig.ident
            ),
        )
    })
}

fn is_auth_info(ty: &Type) -> bool {
    match ungroup(ty) {
        Type::Path(path) => {
            path.qself.is_none()
                && path
                    .path
                    .segments
                    .last()
                    .is_some_and(|last| last.ident == "AuthInfo" && last.arguments.is_empty())
        }
        Type::Reference(reference) => {
            matches!(ungroup(&reference.elem), Type::Path(_)) && is_auth_info(&reference.elem)
        }
        _ => false,
    }
}

/// Strips the invisible groups and parentheses that macro_rules may wrap a type in.
fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => ungroup(&group.elem),
        Type::Paren(paren) => ungroup(&paren.elem),
        ty => ty,
    }
}

/// The `crate = ...` path, given on at most one of the stacked attributes (or
/// the same on each); `::policy` by default.
fn crate_path(stacked: &[syn::Result<Args>]) -> syn::Result<Path> {
    let mut given = stacked
        .iter()
        .filter_map(|args| args.as_ref().ok()?.krate.as_ref());
    let Some(first) = given.next() else {
        return Ok(syn::parse_quote!(::bearer_policy));
    };
    let mut errors = Errors::default();
    for other in given {
        if path_text(other) != path_text(first) {
            errors.push(syn::Error::new(
                other.span(),
                format!(
                    "conflicting `crate` paths on stacked `#[requires]`: `{}` and `{}`; give `crate` once",
                    path_text(first),
                    path_text(other)
                ),
            ));
        }
    }
    errors.finish()?;
    Ok(first.clone())
}

/// Validates one attribute's arguments: the model, its organization source, and
/// the parameter that source names (when the function could be read).
fn validate_args(args: Args, function: Option<&ItemFn>) -> syn::Result<PolicyPlan> {
    let mut errors = Errors::default();
    let Some(model) = args.model else {
        return Err(syn::Error::new(
            args.span,
            format!(
                "missing `model`: add `model = ...` with one of {}",
                crate::args::MODELS
            ),
        ));
    };
    let org = match (model.model, args.org_from) {
        (Model::GlobalApi, None) => None,
        (Model::GlobalApi, Some(org_from)) => {
            errors.push(syn::Error::new(
                org_from.key_span,
                "`org_from` has no meaning with `model = global_api`, which is not scoped to an \
                 organization: remove `org_from`, or use `model = org_resource` for an API \
                 resource accessed within an organization",
            ));
            None
        }
        (model_name, None) => {
            errors.push(syn::Error::new(
                model.span,
                format!(
                    "`model = {}` needs to know the request's organization: add `org_from = path` \
                     (the parameter `org_id`), `org_from = path(name)`, \
                     `org_from = header(\"X-Organization-Id\")` or `org_from = query(\"organization_id\")`",
                    model_name.name()
                ),
            ));
            None
        }
        (_, Some(org_from)) => errors.push_result(resolve_org(org_from.source, function)),
    };
    if let (Model::OrgPermission, Some(audience)) = (model.model, &args.audience) {
        errors.push(syn::Error::new(
            audience.span(),
            "`audience` has no effect with `model = org_permission`: an organization token's \
             audience is always `urn:logto:organization:<id>`; remove `audience`",
        ));
    }
    errors.finish()?;
    Ok(PolicyPlan {
        model: model.model,
        scopes: args.scopes.map(|list| list.scopes).unwrap_or_default(),
        any_scopes: args.any_scopes.map(|list| list.scopes).unwrap_or_default(),
        issuers: args.issuers.unwrap_or_default(),
        audience: args.audience,
        org,
        check: args.check,
        dpop: args.dpop,
    })
}

/// Resolves a parameter source to where the function binds it: the
/// parameter of that name (warp), or a binding inside `Path(...)` (axum).
/// Without a function, only the name is known: it is all the policy records.
fn resolve_org(source: OrgFrom, function: Option<&ItemFn>) -> syn::Result<OrgPlan> {
    let (name, explicit) = match source {
        OrgFrom::Param { name, explicit } => (name, explicit),
        OrgFrom::Header(lit) => return Ok(OrgPlan::Header(lit)),
        OrgFrom::Query(lit) => return Ok(OrgPlan::Query(lit)),
    };
    let wanted = name.unraw().to_string();
    let Some(function) = function else {
        return Ok(OrgPlan::Param {
            name: wanted,
            ty_span: name.span(),
            binding: name,
        });
    };
    for argument in &function.sig.inputs {
        let FnArg::Typed(typed) = argument else {
            continue;
        };
        let Some(found) = org_binding::find(typed, &wanted)? else {
            continue;
        };
        if is_auth_info(&typed.ty) {
            return Err(syn::Error::new(
                typed.ty.span(),
                format!("the organization id parameter `{wanted}` cannot be the `AuthInfo`"),
            ));
        }
        return Ok(OrgPlan::Param {
            name: wanted,
            binding: found.binding,
            ty_span: found.ty_span,
        });
    }
    if org_binding::route_extractor(function) {
        return Ok(OrgPlan::Route { name: wanted });
    }
    let written = if explicit {
        format!("org_from = path({wanted})")
    } else {
        "org_from = path".to_owned()
    };
    Err(syn::Error::new(
        name.span(),
        format!(
            "`{written}` reads the organization id from a parameter named `{wanted}`, \
             but `{}` has none: add a parameter `{wanted}: String` (warp), \
             or bind it from the path: `Path({wanted}): Path<String>` (axum), \
             `{wanted}: web::Path<String>` (actix)",
            function.sig.ident
        ),
    ))
}

#[cfg(test)]
mod tests;
