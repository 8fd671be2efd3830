//! Code generation from a validated [`Plan`]: the function with its policy
//! decision and its `AuthInfo` parameter typed `handler::Authorized`, the module
//! holding the policy and that type, and the inventory registration.
//!
//! Generated code reaches the runtime only through `<crate>::__private`
//! (`::bearer_policy::__private` by default) and `::core`, and the user's tokens
//! (the body, parameter names, scope constants) keep their spans so that
//! errors in them point at the user's code.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::parse::Parser;
use syn::spanned::Spanned as _;
use syn::{
    Attribute, Block, FnArg, Ident, ItemFn, Pat, PatIdent, Path, Signature, Type, Visibility,
};

use crate::args::{Model, Scope};
use crate::diagnostics::{method_refused, path_text};
use crate::lenient_fn::LenientFn;
use crate::valid::{OrgPlan, Plan, PolicyPlan};

/// The function with its decision, followed by `mod <name> { POLICY }`, the
/// compile-time check of scope constants, and the inventory registration.
pub(crate) fn expand(plan: &Plan, mut function: ItemFn) -> syn::Result<TokenStream> {
    let krate = &plan.krate;
    let private = quote!(#krate::__private);
    let name = function.sig.ident.clone();
    let cfgs = cfg_attributes(&function.attrs);

    let routed = route_decided(plan, &private);
    let conversion = authorized_parameter(plan, &mut function.sig, &name, &private);
    let decision = decision_statements(plan, &name, &private);
    let statements = Block::parse_within.parse2(quote!(#routed #conversion #decision))?;
    function.block.stmts.splice(0..0, statements);

    let module = policy_module(&plan.policies, &name, &function.vis, &cfgs, &private);
    let scope_assertion = scope_assertion(&plan.policies, &cfgs, &private);
    let policies = if plan.policies.len() == 1 {
        quote!(::core::slice::from_ref(&#name::POLICY))
    } else {
        quote!(&#name::POLICY)
    };
    let function_path = format!("::{}", name.unraw());
    Ok(quote! {
        #function

        #module

        #scope_assertion

        #(#cfgs)*
        #private::inventory::submit! {
            #private::Declaration::new(
                ::core::concat!(::core::module_path!(), #function_path),
                #policies,
            )
        }
    })
}

/// What is emitted when the attribute is wrong: the errors, the function
/// unchanged (its stacked `#[requires]` removed, their errors being
/// reported here), and an empty policy module so that routes naming
/// `handler::POLICY` do not add errors of their own.
pub(crate) fn fallback(error: syn::Error, function: &ItemFn, krate: Option<&Path>) -> TokenStream {
    let errors = error.to_compile_error();
    let cfgs = cfg_attributes(&function.attrs);
    // A module cannot be emitted in an `impl` block, where methods live.
    let module = function
        .sig
        .receiver()
        .is_none()
        .then(|| empty_policy_module(&function.sig.ident, &function.vis, &cfgs, krate));
    // The check that would have read the parameters is missing: do not add
    // "unused variable" warnings to the errors.
    quote! {
        #errors
        #[allow(unused_variables)]
        #function
        #module
    }
}

/// What is emitted for a function that syn could not read: its tokens as
/// written (its stacked `#[requires]` removed, as they were read here), and
/// the policy module built from the arguments alone, so that routes naming
/// `handler::POLICY` keep resolving and the user sees the one error that
/// matters rather than a cascade. That error fails the build: the function
/// cannot be protected, as its body cannot be given the check.
pub(crate) fn lenient(
    function: &LenientFn,
    policies: syn::Result<(Path, Vec<PolicyPlan>)>,
    krate: Option<&Path>,
) -> TokenStream {
    let LenientFn {
        attrs,
        vis,
        name,
        receiver,
        rest,
        error,
    } = function;
    let item = quote!(#(#attrs)* #vis #rest);
    // A module cannot be emitted in an `impl` block, where methods live; a
    // method is refused whether or not it could be read.
    if let Some(self_token) = receiver {
        let error = method_refused(*self_token).to_compile_error();
        return quote!(#error #item);
    }
    let mut errors = syn::Error::new(
        error.span(),
        format!(
            "`#[requires]` could not read the function `{name}`, so it cannot check its policy: {error}"
        ),
    );
    let cfgs = cfg_attributes(attrs);
    let module = match policies {
        Ok((krate, policies)) => {
            let private = quote!(#krate::__private);
            policy_module(&policies, name, vis, &cfgs, &private)
        }
        Err(policy_errors) => {
            errors.combine(policy_errors);
            empty_policy_module(name, vis, &cfgs, krate)
        }
    };
    let errors = errors.to_compile_error();
    quote! {
        #errors
        #item
        #module
    }
}

/// `mod <name> { POLICY = [] }`, with `Handler` and `Authorized`, for
/// routes naming `handler::POLICY` or `handler::Authorized` when the attribute is
/// wrong: they compile, and the errors are the attribute's.
fn empty_policy_module(
    name: &Ident,
    vis: &Visibility,
    cfgs: &[&Attribute],
    krate: Option<&Path>,
) -> TokenStream {
    let krate = match krate {
        Some(krate) => krate.to_token_stream(),
        None => quote!(::bearer_policy),
    };
    let private = quote!(#krate::__private);
    let declaration = declaration_items(name, &private);
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #vis mod #name {
            pub static POLICY: [#private::Policy; 0] = [];

            #declaration
        }
    }
}

/// Gives an `AuthInfo` parameter taken by value the type `handler::Authorized`
/// and returns the statement that converts it back, first in the body:
///
/// ```text
/// fn h(org_id: String, auth: h::Authorized) -> ... {
///     let auth: AuthInfo = AuthInfo::from(auth);
/// ```
///
/// The signature then carries the declaration (in axum, the extractor that
/// checks it; with warp, what `authorize` yields) while the body keeps the
/// `AuthInfo` it was written for. The `let` binds the user's identifier, with
/// its span and its `ref`/`mut`, so that the body and the check see it.
/// Nothing for a borrowed `&AuthInfo`, which stays as written.
fn authorized_parameter(
    plan: &Plan,
    sig: &mut Signature,
    name: &Ident,
    private: &TokenStream,
) -> TokenStream {
    let Some(owned) = &plan.auth.owned else {
        return TokenStream::new();
    };
    let Some(FnArg::Typed(parameter)) = sig.inputs.iter_mut().nth(owned.index) else {
        return TokenStream::new();
    };
    let binding = &plan.auth.binding;
    *parameter.pat = Pat::Ident(PatIdent {
        attrs: Vec::new(),
        by_ref: None,
        mutability: None,
        ident: binding.clone(),
        subpat: None,
    });
    // Spanned on the type as written: a route that hands the handler
    // something else is reported there.
    let span = parameter.ty.span();
    let written = std::mem::replace(
        &mut *parameter.ty,
        Type::Verbatim(quote_spanned!(span=> #name::Authorized)),
    );
    // The `let` is annotated with the type as written, so that the user's
    // `use bearer_policy::AuthInfo` stays used, and a type that is not
    // bearer_policy's `AuthInfo` is reported where it is written.
    let by_ref = owned.by_ref;
    let mutability = owned.mutability;
    quote! {
        let #by_ref #mutability #binding: #written = #private::AuthInfo::from(#binding);
    }
}

/// `Handler`, the marker that stands for the handler as a type (it
/// implements `DeclaredHandler` with `POLICY`), and `Authorized`, the
/// handler's `AuthInfo` typed by it. Both are items of the policy module.
fn declaration_items(name: &Ident, private: &TokenStream) -> TokenStream {
    let function = name.unraw().to_string();
    let handler_doc = format!(
        " `{function}()` as a type, for the front ends: its policies are [`POLICY`]. \
         It types the handler's [`Authorized`]."
    );
    let authorized_doc = format!(
        " The `AuthInfo` of `{function}()`, authorized by [`POLICY`]: the type that \
         `#[requires]` gives the handler's `AuthInfo` parameter. Its body still sees an \
         `AuthInfo`.\n\n \
         In axum it is an extractor: a request reaches `{function}()` only when its token \
         satisfies `POLICY`, checked before any body extractor runs. With warp, \
         `bearer_policy::warp::authorize` and `authorize_path` yield it.\n\n \
         To call `{function}()` directly, as in a test, convert the `AuthInfo` with \
         `.into()` (`auth.into()` for this parameter); the handler still checks `POLICY`, \
         so a direct call is as protected as a routed one."
    );
    // Neither need be named: a handler may take `&AuthInfo`, or be called
    // only directly, and in a binary that would warn.
    quote! {
        #[doc = #handler_doc]
        #[allow(dead_code)]
        pub struct Handler;

        impl #private::DeclaredHandler for Handler {
            fn policies() -> &'static [#private::Policy] {
                #private::PolicySet::policies(&POLICY)
            }

            fn requirements() -> &'static #private::RequirementsCell {
                static REQUIREMENTS: #private::RequirementsCell = #private::RequirementsCell::new();
                &REQUIREMENTS
            }
        }

        #[doc = #authorized_doc]
        #[allow(dead_code)]
        pub type Authorized = #private::Authorized<Handler>;
    }
}

/// `tokens` with every span, nested ones included, set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = respanned.into();
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The decision inserted at the top of the body, before any user statement.
///
/// It is always `PolicySet::decide_request`, in which each policy
/// reads its organization from its own source: header and query policies
/// from the request captured in the `AuthInfo`, path policies (and global
/// ones, which ignore it) from the id passed in. When the policies read at
/// most one path parameter, one call decides them all; stacked policies that
/// read different parameters are decided one by one, each with its own.
fn decision_statements(plan: &Plan, name: &Ident, private: &TokenStream) -> TokenStream {
    let auth = &plan.auth.binding;
    let question = quote_spanned!(plan.error_span=> ?);
    let none = quote!(::core::option::Option::None);

    let mut params: Vec<(&Ident, Span)> = Vec::new();
    for policy in &plan.policies {
        if let Some(OrgPlan::Param {
            binding, ty_span, ..
        }) = &policy.org
            && !params.iter().any(|(known, _)| *known == binding)
        {
            params.push((binding, *ty_span));
        }
    }

    // `(&OrgIdRef(&org_id)).org_id()` borrows through `Deref<Target = str>`
    // and falls back to `Display` by autoref; the `Cow` borrows the wrapper,
    // hence two statements. The locals are hygienic: they shadow nothing of
    // the user's, whose parameter they merely read.
    let local = |binding: &Ident| {
        let mut local = binding.clone();
        local.set_span(Span::mixed_site());
        local
    };
    let conversions = params.iter().map(|(binding, ty_span)| {
        let local = local(binding);
        let call = quote_spanned!(*ty_span=> (&#local).org_id());
        quote! {
            let #local = #private::OrgIdRef(&#binding);
            let #local = #call;
        }
    });
    let path_org_id = |binding: Option<&Ident>| match binding {
        Some(binding) => {
            let local = local(binding);
            quote!(::core::option::Option::Some(&*#local))
        }
        None => none.clone(),
    };

    let has_route = has_route(plan);
    let checks = match params.as_slice() {
        [] | [_] if !has_route => {
            let org = path_org_id(params.first().map(|(binding, _)| *binding));
            quote! {
                #private::PolicySet::decide_request(&#name::POLICY, &#auth, #org)#question;
            }
        }
        // Stacked policies reading different parameters (or one only the
        // route knows, which finds none here): each path policy finds its
        // own by name, and check functions still run last.
        _ => {
            let mut named: Vec<(String, &Ident)> = Vec::new();
            for policy in &plan.policies {
                if let Some(org @ OrgPlan::Param { binding, .. }) = &policy.org
                    && !named.iter().any(|(known, _)| *known == org.name())
                {
                    named.push((org.name(), binding));
                }
            }
            // One policy is no array: borrow it as a slice.
            let policies = match has_route {
                true => quote!(#private::PolicySet::policies(&#name::POLICY)),
                false => quote!(&#name::POLICY),
            };
            let pairs = named.iter().map(|(name, binding)| {
                let local = local(binding);
                quote!((#name, &*#local))
            });
            quote! {
                #private::decide(
                    #policies,
                    &#auth,
                    #private::PathParams::Named(&[#(#pairs),*]),
                )#question;
            }
        }
    };

    let checks = if params.is_empty() {
        checks
    } else {
        quote! {
            {
                use #private::{OrgIdViaDisplay as _, OrgIdViaStr as _};
                #(#conversions)*
                #checks
            }
        }
    };
    // An organization only the route knows: decided by the route's
    // extractor, or (a direct call) refused here, as no value names it. And
    // policies that read nothing of the handler's parameters: the route's
    // extractor decided exactly this, so its decision is not made twice.
    if has_route || route_decides_all(plan) {
        let routed = routed_flag();
        quote!(if !#routed { #checks })
    } else {
        checks
    }
}

/// Whether a policy reads an organization only the route knows ([`OrgPlan::Route`]).
fn has_route(plan: &Plan) -> bool {
    plan.policies
        .iter()
        .any(|policy| matches!(policy.org, Some(OrgPlan::Route { .. })))
}

/// Whether a route's extractor, when it made the `AuthInfo`, decides all
/// the handler's check would: the policies read no organization from the
/// handler's parameters, and `auth` is owned (an `Authorized`, which says
/// whether a route decided it; a borrowed `&AuthInfo` never does).
fn route_decides_all(plan: &Plan) -> bool {
    plan.auth.owned.is_some()
        && plan
            .policies
            .iter()
            .all(|policy| !matches!(policy.org, Some(OrgPlan::Param { .. })))
}

/// The hygienic local holding whether the route's extractor decided the policies.
fn routed_flag() -> Ident {
    Ident::new("__bearer_policy_routed", Span::mixed_site())
}

/// `let routed = decided_on_route(&auth);`, before `auth` is converted, for
/// a plan with an organization only the route knows; a borrowed `&AuthInfo`
/// came from no route's extractor.
fn route_decided(plan: &Plan, private: &TokenStream) -> TokenStream {
    if !has_route(plan) && !route_decides_all(plan) {
        return TokenStream::new();
    }
    let routed = routed_flag();
    match &plan.auth.owned {
        Some(_) => {
            let auth = &plan.auth.binding;
            quote!(let #routed = #private::decided_on_route(&#auth);)
        }
        None => quote!(let #routed = false;),
    }
}

/// `mod <name> { pub static POLICY: ... }`, with the function's visibility.
fn policy_module(
    policies: &[PolicyPlan],
    name: &Ident,
    vis: &Visibility,
    cfgs: &[&Attribute],
    private: &TokenStream,
) -> TokenStream {
    let values: Vec<TokenStream> = policies
        .iter()
        .map(|policy| policy_value(policy, private))
        .collect();
    let (ty, value) = match values.as_slice() {
        [one] => (quote!(#private::Policy), one.clone()),
        many => {
            let count = proc_macro2::Literal::usize_unsuffixed(many.len());
            (quote!([#private::Policy; #count]), quote!([#(#many),*]))
        }
    };
    // Relative paths to scope constants are written for the function's
    // scope; the module sees that scope through `use super::*`.
    let needs_parent_scope = policies.iter().any(|policy| {
        let relative_scope = policy
            .scopes
            .iter()
            .chain(&policy.any_scopes)
            .any(|scope| matches!(scope, Scope::Const(path) if is_relative(path)));
        relative_scope || policy.check.as_ref().is_some_and(is_relative)
    });
    let use_parent = needs_parent_scope.then(|| {
        quote!(
            use super::*;
        )
    });

    let function = name.unraw().to_string();
    let uses_path = policies.iter().any(|policy| {
        matches!(
            policy.org,
            Some(OrgPlan::Param { .. } | OrgPlan::Route { .. })
        )
    });
    let filter = if uses_path {
        format!(
            "bearer_policy::warp::authorize_path(warp::path!(\"orgs\" / String), v, &{function}::POLICY)"
        )
    } else {
        format!("warp::path!(\"...\").and(bearer_policy::warp::authorize(v, &{function}::POLICY))")
    };
    let module_doc = format!(
        " The policy that `#[requires]` declares on [`{function}()`](fn@{function}).\n\n \
         Check it in the route before the filters that read the request body, so that a \
         caller without permission is refused (403) before the body is parsed (400):\n\n \
         ```text\n {filter}\n     .and(warp::body::json())\n     .and_then({function})\n ```\n\n \
         In axum the route needs nothing more: the handler's `{function}::Authorized` \
         parameter is the extractor that checks it."
    );
    let declaration = declaration_items(name, private);
    let description: Vec<String> = policies.iter().map(describe).collect();
    let policy_doc = match description.as_slice() {
        [one] => format!(" {one}"),
        many => {
            let items: Vec<String> = many.iter().map(|d| format!(" - {d}")).collect();
            format!(" All of these must hold:\n\n{}", items.join("\n"))
        }
    };
    quote! {
        #(#cfgs)*
        #[doc = #module_doc]
        #vis mod #name {
            #use_parent

            #[doc = #policy_doc]
            pub static POLICY: #ty = #value;

            #declaration
        }
    }
}

/// `Policy::from_static(...)` for one attribute.
fn policy_value(policy: &PolicyPlan, private: &TokenStream) -> TokenStream {
    let model = match policy.model {
        Model::GlobalApi => quote!(GlobalApi),
        Model::OrgPermission => quote!(OrgPermission),
        Model::OrgResource => quote!(OrgResource),
    };
    let scope_values = |scopes: &[Scope]| {
        let values = scopes.iter().map(|scope| {
            let value = match scope {
                Scope::Literal(lit) => lit.to_token_stream(),
                Scope::Const(path) => from_module(path),
            };
            quote!(#private::Cow::Borrowed(#value))
        });
        quote!(&[#(#values),*])
    };
    let scopes = scope_values(&policy.scopes);
    let any_scopes = scope_values(&policy.any_scopes);
    let issuers = policy
        .issuers
        .iter()
        .map(|issuer| quote!(#private::Cow::Borrowed(#issuer)));
    let audience = match &policy.audience {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    };
    let organization = match &policy.org {
        None => quote!(::core::option::Option::None),
        Some(org) => {
            let variant = match org {
                OrgPlan::Param { .. } | OrgPlan::Route { .. } => quote!(PathParam),
                OrgPlan::Header(_) => quote!(Header),
                OrgPlan::Query(_) => quote!(Query),
            };
            let name = org.name();
            quote!(::core::option::Option::Some(#private::OrgSource::#variant(#private::Cow::Borrowed(#name))))
        }
    };
    let check = match &policy.check {
        None => quote!(::core::option::Option::None),
        Some(path) => {
            let check = check_value(path, private);
            quote!(::core::option::Option::Some(#check))
        }
    };
    let dpop = policy.dpop.as_ref().map(|mode| {
        let variant = syn::Ident::new(mode.variant(), mode.0.span());
        quote!(.dpop(#private::DpopMode::#variant))
    });
    quote! {
        #private::Policy::from_static(
            #private::Model::#model,
            #scopes,
            #any_scopes,
            #audience,
            #organization,
            #check,
            &[#(#issuers),*],
        )#dpop
    }
}

/// `Check::item(...)` for `check = path`: its name, and a function of the
/// one type a policy stores that calls it through `CheckFn`.
///
/// The call is spanned on the path, so that a function of another signature
/// (or no function at all) is one error there, in `CheckFn`'s words. The
/// wrapper's name cannot be the user's (a check named `check`), and its
/// parameter is hygienic (a check named `auth`).
fn check_value(path: &Path, private: &TokenStream) -> TokenStream {
    let span = path.span();
    let function = from_module(path);
    let written = path_text(path);
    let auth = Ident::new("auth", Span::mixed_site());
    let call_check = respan(quote!(#private::CheckFn::call_check), span);
    let call = quote_spanned!(span=> #call_check(&#function, #auth));
    quote! {
        #private::Check::item(
            #written,
            #private::check_name_of(&#function),
            {
                fn __bearer_policy_check(#auth: &#private::AuthInfo) -> ::core::result::Result<(), #private::Denied> {
                    #call
                }
                __bearer_policy_check
            },
        )
    }
}

/// `const _: () = assert_scopes(&[...]);` when scopes are given as constants,
/// so that the constants obey the same rules as literals (checked here, at
/// macro time). Spanned on the first constant, where the error is reported.
fn scope_assertion(
    policies: &[PolicyPlan],
    cfgs: &[&Attribute],
    private: &TokenStream,
) -> TokenStream {
    let assertions = policies.iter().filter_map(|policy| {
        let all: Vec<&Scope> = policy.scopes.iter().chain(&policy.any_scopes).collect();
        let first_const = all.iter().find_map(|scope| match scope {
            Scope::Const(path) => Some(path),
            Scope::Literal(_) => None,
        })?;
        let values = all.iter().map(|scope| match scope {
            Scope::Literal(lit) => lit.to_token_stream(),
            Scope::Const(path) => path.to_token_stream(),
        });
        // Every token of the call carries the constant's span, so that a
        // failed evaluation points at the constant, not at the attribute.
        let span = syn::spanned::Spanned::span(first_const);
        let function = respan(quote!(#private::assert_scopes), span);
        let call = quote_spanned!(span=> #function(&[#(#values),*]));
        Some(quote! {
            #(#cfgs)*
            const _: () = #call;
        })
    });
    quote!(#(#assertions)*)
}

/// A one-line description of a policy for the generated docs.
fn describe(policy: &PolicyPlan) -> String {
    let mut parts = vec![format!("Model `{}`", policy.model.name())];
    let list = |scopes: &[Scope]| {
        scopes
            .iter()
            .map(|scope| format!("`{}`", scope.text()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !policy.scopes.is_empty() {
        parts.push(format!("requires scopes {}", list(&policy.scopes)));
    }
    if !policy.any_scopes.is_empty() {
        parts.push(format!("requires one of {}", list(&policy.any_scopes)));
    }
    if !policy.issuers.is_empty() {
        let issuers: Vec<String> = policy
            .issuers
            .iter()
            .map(|issuer| format!("`{}`", issuer.value()))
            .collect();
        parts.push(format!("tokens of {} only", issuers.join(", ")));
    }
    if let Some(audience) = &policy.audience {
        parts.push(format!("audience `{}`", audience.value()));
    }
    match &policy.org {
        Some(org @ (OrgPlan::Param { .. } | OrgPlan::Route { .. })) => {
            parts.push(format!("organization from path parameter `{}`", org.name()))
        }
        Some(OrgPlan::Header(lit)) => {
            parts.push(format!("organization from header `{}`", lit.value()))
        }
        Some(OrgPlan::Query(lit)) => parts.push(format!(
            "organization from query parameter `{}`",
            lit.value()
        )),
        None => {}
    }
    if let Some(check) = &policy.check {
        parts.push(format!("check function `{}`", path_text(check)));
    }
    if let Some(dpop) = &policy.dpop {
        parts.push(format!("DPoP `{}`", dpop.0));
    }
    format!("{}.", parts.join("; "))
}

/// The `#[cfg]`s of the function, repeated on everything emitted beside it.
fn cfg_attributes(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect()
}

/// Whether a path resolves relative to the current module (so that the
/// policy module must see its parent's names).
fn is_relative(path: &Path) -> bool {
    path.leading_colon.is_none()
        && path
            .segments
            .first()
            .is_none_or(|first| first.ident != "crate")
}

/// `path` as seen from inside the policy module: `self::X` becomes
/// `super::X`, `super::X` becomes `super::super::X`; other paths resolve
/// through `use super::*`, `crate` or a leading `::` unchanged.
fn from_module(path: &Path) -> TokenStream {
    let Some(first) = path.segments.first() else {
        return path.to_token_stream();
    };
    if path.leading_colon.is_none() && (first.ident == "self" || first.ident == "super") {
        let rest = path
            .segments
            .iter()
            .skip(usize::from(first.ident == "self"));
        let super_token = format_ident!("super", span = first.ident.span());
        quote!(#super_token #(:: #rest)*)
    } else {
        path.to_token_stream()
    }
}

mod mcp_item;

pub(crate) use mcp_item::expand_mcp_item;

#[cfg(test)]
mod tests;
