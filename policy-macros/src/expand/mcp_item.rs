//! Code for `#[requires]` on an MCP tool, prompt or resource: the function
//! unchanged (the MCP layer decides the call before rmcp runs it), and
//! beside it a hidden function whose body holds the policy module and the
//! inventory registration, naming the item. A function body is the one
//! place inside an `impl` block where a module and a `static` may go; the
//! registration needs no call to take effect.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ItemFn;
use syn::ext::IdentExt as _;

use super::{cfg_attributes, policy_module, scope_assertion};
use crate::args::McpKind;
use crate::valid::McpItemPlan;

/// The function, then `fn __bearer_policy_mcp_<name>() { mod <name> {
/// POLICY } inventory::submit!(Declaration::mcp(..)) }`.
pub(crate) fn expand_mcp_item(plan: &McpItemPlan, function: &ItemFn) -> TokenStream {
    let krate = &plan.krate;
    let private = quote!(#krate::__private);
    let name = &function.sig.ident;
    let cfgs = cfg_attributes(&function.attrs);
    let module = policy_module(
        &plan.policies,
        name,
        &syn::Visibility::Inherited,
        &[],
        &private,
    );
    let scope_assertion = scope_assertion(&plan.policies, &[], &private);
    let policies = if plan.policies.len() == 1 {
        quote!(::core::slice::from_ref(&#name::POLICY))
    } else {
        quote!(&#name::POLICY)
    };
    let registrar = format_ident!("__bearer_policy_mcp_{}", name.unraw());
    let function_path = format!("::{}", name.unraw());
    let kind = match plan.kind {
        McpKind::Tool => quote!(Tool),
        McpKind::Prompt => quote!(Prompt),
        McpKind::Resource => quote!(Resource),
    };
    let item = &plan.name;
    quote! {
        #function

        #(#cfgs)*
        #[doc(hidden)]
        #[allow(dead_code, non_snake_case, clippy::all)]
        fn #registrar() {
            #module

            #scope_assertion

            #private::inventory::submit! {
                #private::Declaration::mcp(
                    ::core::concat!(::core::module_path!(), #function_path),
                    #private::McpKind::#kind,
                    #item,
                    #policies,
                )
            }
        }
    }
}
