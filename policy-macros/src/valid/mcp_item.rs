//! `#[requires]` on an MCP item: an rmcp `#[tool]` or `#[prompt]` method,
//! or any function naming its item with `tool = "name"`, `prompt = "name"`
//! or `resource = "uri"` (rmcp has no per-resource attribute: a server
//! answers `resources/read` itself). The item's kind and name as the server
//! publishes it, and its policies. The decision is made by the MCP layer
//! before rmcp dispatches the call, so nothing is checked of the signature:
//! MCP items take no `AuthInfo` parameter and no path parameter.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::{Attribute, ItemFn, LitStr, Meta, Path};

use super::{PolicyPlan, crate_path, validate_args};
use crate::args::{Args, ItemArg, McpKind, Model, ModelArg, OrgFrom};
use crate::diagnostics::{all, both};

/// A validated `#[requires]` on an MCP item.
#[derive(Debug)]
pub(crate) struct McpItemPlan {
    pub(crate) krate: Path,
    pub(crate) kind: McpKind,
    /// The name the server publishes the item under (a resource's URI).
    pub(crate) name: String,
    pub(crate) policies: Vec<PolicyPlan>,
}

/// Whether the attribute protects an MCP item: on a method with rmcp's
/// `#[tool]` or `#[prompt]` below it, or naming one (`tool = "..."`,
/// `prompt = "..."`, `resource = "..."`). Other methods are refused as
/// before, with a hint for tools.
pub(crate) fn is_mcp_item(function: &ItemFn, stacked: &[syn::Result<Args>]) -> bool {
    (function.sig.receiver().is_some()
        && function.attrs.iter().any(|attr| rmcp_item(attr).is_some()))
        || stacked
            .iter()
            .any(|args| args.as_ref().is_ok_and(|args| args.item.is_some()))
}

/// The item's kind, name and policies. The name is the argument's, or read
/// from the rmcp `#[tool]`/`#[prompt]` attribute below this one (its
/// `name = "..."`, else the method's name: what rmcp publishes); both must
/// agree, in kind and in name.
pub(crate) fn validate_mcp_item(
    function: &ItemFn,
    stacked: Vec<syn::Result<Args>>,
) -> syn::Result<McpItemPlan> {
    let krate = crate_path(&stacked);
    let span = stacked
        .iter()
        .find_map(|args| args.as_ref().ok().map(|args| args.span))
        .unwrap_or_else(Span::call_site);
    let explicit: Vec<ItemArg> = stacked
        .iter()
        .filter_map(|args| args.as_ref().ok().and_then(|args| args.item.clone()))
        .collect();
    // An argument that did not parse may be the one naming the item: its
    // own error says what is wrong, with no guess about the item.
    let unparsed = stacked.iter().any(Result::is_err);
    let item = item_name(function, &explicit, span, unparsed);
    let policies = all(stacked.into_iter().map(|args| item_policy(args?)));
    let ((krate, item), policies) = both(both(krate, item), policies)?;
    let (kind, name) =
        item.ok_or_else(|| syn::Error::new(span, "`#[requires]` names no MCP item"))?;
    Ok(McpItemPlan {
        krate,
        kind,
        name,
        policies,
    })
}

/// `None` when no item is named and an argument did not parse (its error
/// is reported instead).
fn item_name(
    function: &ItemFn,
    explicit: &[ItemArg],
    span: Span,
    unparsed: bool,
) -> syn::Result<Option<(McpKind, String)>> {
    // rmcp names an item after the method as `Ident::to_string` writes it.
    let published = function
        .attrs
        .iter()
        .find_map(rmcp_item)
        .map(|(kind, name)| {
            let name = name.map_or_else(|| function.sig.ident.to_string(), |lit| lit.value());
            (kind, name)
        });
    let mut args = explicit.iter();
    let first = args.next();
    if let Some(first) = first
        && let Some(other) =
            args.find(|other| other.kind != first.kind || other.name.value() != first.name.value())
    {
        return Err(syn::Error::new(
            other.name.span(),
            "the stacked `#[requires]` name different MCP items: one function protects one item",
        ));
    }
    match (first, published) {
        (Some(arg), Some((kind, _))) if arg.kind != kind => Err(syn::Error::new(
            arg.key_span,
            format!(
                "this method is an rmcp {kind}: name it with `{kind} = \"...\"`, or remove `{}`",
                arg.kind.as_str(),
                kind = kind.as_str()
            ),
        )),
        (Some(arg), Some((kind, published))) if arg.name.value() != published => {
            Err(syn::Error::new(
                arg.name.span(),
                format!(
                    "rmcp publishes this {kind} as `{published}`: write `{kind} = \"{published}\"`, or remove `{kind}`",
                    kind = kind.as_str()
                ),
            ))
        }
        (Some(arg), _) => Ok(Some((arg.kind, arg.name.value()))),
        (None, Some(published)) => Ok(Some(published)),
        (None, None) if unparsed => Ok(None),
        (None, None) => Err(syn::Error::new(
            span,
            "`#[requires]` on a method protects an rmcp tool or prompt, and cannot see its \
             `#[tool]` or `#[prompt]`: write `#[requires]` above it, or name the item with \
             `tool = \"name\"`, `prompt = \"name\"` or `resource = \"uri\"`",
        )),
    }
}

/// The kind and `name = "..."` (if any) of an rmcp `#[tool]` or `#[prompt]`
/// attribute; `None` for any other attribute.
fn rmcp_item(attr: &Attribute) -> Option<(McpKind, Option<LitStr>)> {
    let last = attr.path().segments.last()?;
    let kind = if last.ident == "tool" {
        McpKind::Tool
    } else if last.ident == "prompt" {
        McpKind::Prompt
    } else {
        return None;
    };
    let Meta::List(list) = &attr.meta else {
        return Some((kind, None));
    };
    Some((kind, name_argument(list.tokens.clone())))
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

/// One attribute's policy on an MCP item: the model defaults to
/// `global_api` (the audience is the endpoint's), and the organization, if
/// any, comes from a header or the query: an MCP call has no path parameters.
fn item_policy(mut args: Args) -> syn::Result<PolicyPlan> {
    if let Some(org_from) = &args.org_from
        && let OrgFrom::Param { .. } = &org_from.source
    {
        return Err(syn::Error::new(
            org_from.key_span,
            "an MCP call has no path parameters: read the organization with \
             `org_from = header(\"...\")` or `org_from = query(\"...\")`",
        ));
    }
    if args.model.is_none() {
        args.model = Some(ModelArg {
            model: Model::GlobalApi,
            span: args.span,
        });
    }
    validate_args(args, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn plan(attrs: TokenStream, function: TokenStream) -> syn::Result<McpItemPlan> {
        let function: ItemFn = syn::parse2(function).unwrap();
        validate_mcp_item(&function, vec![Args::parse(attrs, Span::call_site())])
    }

    #[test]
    fn the_item_is_named_as_rmcp_publishes_it() {
        let renamed = plan(
            quote!(scopes("api:write")),
            quote!(
                #[tool(description = "Adds", name = "create_item")]
                async fn create(&self) {}
            ),
        )
        .unwrap();
        assert_eq!(
            (renamed.kind, renamed.name.as_str()),
            (McpKind::Tool, "create_item")
        );
        assert_eq!(renamed.policies[0].model, Model::GlobalApi);
        // rmcp writes a raw method name as `Ident::to_string` does.
        let raw = plan(
            quote!(scopes("api:read")),
            quote!(
                #[rmcp::tool]
                fn r#list_items(&self) {}
            ),
        )
        .unwrap();
        assert_eq!(raw.name, "r#list_items");
        let prompt = plan(
            quote!(scopes("api:read")),
            quote!(
                #[prompt(name = "item_summary")]
                async fn summary(&self) {}
            ),
        )
        .unwrap();
        assert_eq!(
            (prompt.kind, prompt.name.as_str()),
            (McpKind::Prompt, "item_summary")
        );
        let by_method = plan(
            quote!(scopes("api:read")),
            quote!(
                #[rmcp::prompt]
                async fn summary(&self) {}
            ),
        )
        .unwrap();
        assert_eq!(by_method.name, "summary");
        let explicit = plan(
            quote!(tool = "whoami"),
            quote!(
                fn who(&self) {}
            ),
        )
        .unwrap();
        assert_eq!(
            (explicit.kind, explicit.name.as_str()),
            (McpKind::Tool, "whoami")
        );
        let resource = plan(
            quote!(resource = "items://list", scopes("api:read")),
            quote!(
                fn list() {}
            ),
        )
        .unwrap();
        assert_eq!(
            (resource.kind, resource.name.as_str()),
            (McpKind::Resource, "items://list")
        );
    }

    #[test]
    fn a_name_that_cannot_match_is_an_error() {
        let message = |attrs, function| plan(attrs, function).unwrap_err().to_string();
        let plain: ItemFn = syn::parse_quote!(
            fn create(&self) {}
        );
        assert!(!is_mcp_item(
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
                quote!(prompt = "create_item"),
                quote!(
                    #[tool(name = "create_item")]
                    fn create(&self) {}
                )
            )
            .contains("this method is an rmcp tool: name it with `tool = \"...\"`")
        );
        assert!(
            message(
                quote!(resource = "items://list"),
                quote!(
                    #[prompt]
                    fn summary(&self) {}
                )
            )
            .contains("this method is an rmcp prompt")
        );
        assert!(
            message(
                quote!(org_from = path),
                quote!(
                    #[prompt]
                    fn summary(&self) {}
                )
            )
            .contains("no path parameters")
        );
    }

    #[test]
    fn stacked_attributes_name_one_item() {
        let function: ItemFn = syn::parse_quote!(
            fn list() {}
        );
        let stacked = vec![
            Args::parse(
                quote!(resource = "items://list", scopes("a")),
                Span::call_site(),
            ),
            Args::parse(
                quote!(resource = "items://other", scopes("b")),
                Span::call_site(),
            ),
        ];
        let error = validate_mcp_item(&function, stacked)
            .unwrap_err()
            .to_string();
        assert!(error.contains("different MCP items"), "{error}");
        let stacked = vec![
            Args::parse(
                quote!(resource = "items://list", scopes("a")),
                Span::call_site(),
            ),
            Args::parse(
                quote!(resource = "items://list", scopes("b")),
                Span::call_site(),
            ),
        ];
        assert_eq!(
            validate_mcp_item(&function, stacked)
                .unwrap()
                .policies
                .len(),
            2
        );
    }
}
