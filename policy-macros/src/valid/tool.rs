//! `#[requires]` on an MCP tool (an rmcp `#[tool]` method, or any function
//! with `tool = "name"`): the tool's name as rmcp publishes it, and its
//! policies. The decision is made by the MCP layer before rmcp dispatches
//! the call, so nothing is checked of the signature: tools take no
//! `AuthInfo` parameter and no path parameter.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt as _;
use syn::{Attribute, ItemFn, LitStr, Meta, Path};

use super::{PolicyPlan, check_args, crate_path};
use crate::args::{Args, Model, ModelArg, OrgFrom};
use crate::diagnostics::{all, both};

/// A validated `#[requires]` on a tool.
#[derive(Debug)]
pub(crate) struct ToolPlan {
    pub(crate) krate: Path,
    /// The name rmcp publishes the tool under.
    pub(crate) tool: String,
    pub(crate) policies: Vec<PolicyPlan>,
}

/// Whether the attribute protects a tool: on a method with rmcp's `#[tool]`
/// below it, or naming one (`tool = "..."`). Other methods are refused as
/// before, with a hint for tools.
pub(crate) fn is_tool(function: &ItemFn, stacked: &[syn::Result<Args>]) -> bool {
    (function.sig.receiver().is_some()
        && function
            .attrs
            .iter()
            .any(|attr| rmcp_tool_name(attr).is_some()))
        || stacked
            .iter()
            .any(|args| args.as_ref().is_ok_and(|args| args.tool.is_some()))
}

/// The tool's name and policies. The name is `tool = "..."`, or read from
/// the rmcp `#[tool]` attribute below this one (its `name = "..."`, else the
/// method's name: what rmcp publishes); both must agree.
pub(crate) fn validate_tool(
    function: &ItemFn,
    stacked: Vec<syn::Result<Args>>,
) -> syn::Result<ToolPlan> {
    let krate = crate_path(&stacked);
    let span = stacked
        .iter()
        .find_map(|args| args.as_ref().ok().map(|args| args.span))
        .unwrap_or_else(Span::call_site);
    let explicit: Vec<LitStr> = stacked
        .iter()
        .filter_map(|args| args.as_ref().ok().and_then(|args| args.tool.clone()))
        .collect();
    let tool = tool_name(function, &explicit, span);
    let policies = all(stacked.into_iter().map(|args| tool_policy(args?)));
    let ((krate, tool), policies) = both(both(krate, tool), policies)?;
    Ok(ToolPlan {
        krate,
        tool,
        policies,
    })
}

fn tool_name(function: &ItemFn, explicit: &[LitStr], span: Span) -> syn::Result<String> {
    let published = function.attrs.iter().find_map(rmcp_tool_name).map(|name| {
        name.map(|lit| lit.value())
            .unwrap_or_else(|| function.sig.ident.unraw().to_string())
    });
    let mut names = explicit.iter();
    match (names.next(), published) {
        (Some(first), _) if names.clone().any(|other| other.value() != first.value()) => {
            Err(syn::Error::new(
                names
                    .find(|other| other.value() != first.value())
                    .map_or(span, LitStr::span),
                "the stacked `#[requires]` name different tools: one method is one tool",
            ))
        }
        (Some(lit), Some(published)) if lit.value() != published => Err(syn::Error::new(
            lit.span(),
            format!(
                "rmcp publishes this tool as `{published}`: write `tool = \"{published}\"`, or remove `tool`"
            ),
        )),
        (Some(lit), _) => Ok(lit.value()),
        (None, Some(published)) => Ok(published),
        (None, None) => Err(syn::Error::new(
            span,
            "`#[requires]` on a method protects an rmcp tool, and cannot see its `#[tool]`: \
             write `#[requires]` above `#[tool]`, or name the tool with `tool = \"name\"`",
        )),
    }
}

/// `Some(name)` for an rmcp `#[tool]` attribute (`Some(None)` without a
/// `name = "..."`); `None` for any other attribute.
fn rmcp_tool_name(attr: &Attribute) -> Option<Option<LitStr>> {
    let last = attr.path().segments.last()?;
    if last.ident != "tool" {
        return None;
    }
    let Meta::List(list) = &attr.meta else {
        return Some(None);
    };
    Some(name_argument(list.tokens.clone()))
}

/// The string literal after a top-level `name =` in an attribute's tokens.
fn name_argument(tokens: TokenStream) -> Option<LitStr> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    tokens.windows(3).find_map(|window| match window {
        [
            TokenTree::Ident(key),
            TokenTree::Punct(eq),
            TokenTree::Literal(value),
        ] if key == "name" && eq.as_char() == '=' => {
            syn::parse2::<LitStr>(TokenTree::Literal(value.clone()).into()).ok()
        }
        [
            TokenTree::Ident(key),
            TokenTree::Punct(eq),
            TokenTree::Group(group),
        ] if key == "name" && eq.as_char() == '=' && group.delimiter() == Delimiter::None => {
            syn::parse2::<LitStr>(group.stream()).ok()
        }
        _ => None,
    })
}

/// One attribute's policy on a tool: the model defaults to `global_api`
/// (the audience is the endpoint's), and the organization, if any, comes
/// from a header or the query: a tool call has no path parameters.
fn tool_policy(mut args: Args) -> syn::Result<PolicyPlan> {
    if let Some(org_from) = &args.org_from
        && let OrgFrom::Param { .. } = &org_from.source
    {
        return Err(syn::Error::new(
            org_from.key_span,
            "a tool call has no path parameters: read the organization with \
             `org_from = header(\"...\")` or `org_from = query(\"...\")`",
        ));
    }
    if args.model.is_none() {
        args.model = Some(ModelArg {
            model: Model::GlobalApi,
            span: args.span,
        });
    }
    check_args(args, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn plan(attrs: TokenStream, function: TokenStream) -> syn::Result<ToolPlan> {
        let function: ItemFn = syn::parse2(function).unwrap();
        validate_tool(&function, vec![Args::parse(attrs, Span::call_site())])
    }

    #[test]
    fn the_tool_is_named_as_rmcp_publishes_it() {
        let renamed = plan(
            quote!(scopes("api:write")),
            quote!(
                #[tool(description = "Adds", name = "create_item")]
                async fn create(&self) {}
            ),
        )
        .unwrap();
        assert_eq!(renamed.tool, "create_item");
        assert_eq!(renamed.policies[0].model, Model::GlobalApi);
        let by_method = plan(
            quote!(scopes("api:read")),
            quote!(
                #[rmcp::tool]
                fn r#list_items(&self) {}
            ),
        )
        .unwrap();
        assert_eq!(by_method.tool, "list_items");
        let explicit = plan(
            quote!(tool = "whoami"),
            quote!(
                fn who(&self) {}
            ),
        )
        .unwrap();
        assert_eq!(explicit.tool, "whoami");
    }

    #[test]
    fn a_name_that_cannot_match_is_an_error() {
        let message = |attrs, function| plan(attrs, function).unwrap_err().to_string();
        let plain: ItemFn = syn::parse_quote!(
            fn create(&self) {}
        );
        assert!(!is_tool(
            &plain,
            &[Args::parse(quote!(scopes("a")), Span::call_site())]
        ));
        assert!(
            message(
                quote!(tool = "make"),
                quote!(
                    #[tool(name = "create_item")]
                    fn create(&self) {}
                )
            )
            .contains("publishes this tool as `create_item`")
        );
        assert!(
            message(
                quote!(org_from = path),
                quote!(
                    #[tool]
                    fn create(&self) {}
                )
            )
            .contains("no path parameters")
        );
    }
}
