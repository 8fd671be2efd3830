//! `tool = "name"`, `prompt = "name"`, `resource = "uri"`: the MCP item a
//! `#[requires]` protects, as the server publishes it. One function protects
//! one item; a resource URI must be one the MCP layer can match exactly.

use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::{Ident, LitStr};

use super::{expect_eq, set_once};
use crate::diagnostics::expected_here;

/// The kind of MCP item `#[requires]` protects; its argument's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum McpKind {
    Tool,
    Prompt,
    Resource,
}

impl McpKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            McpKind::Tool => "tool",
            McpKind::Prompt => "prompt",
            McpKind::Resource => "resource",
        }
    }
}

/// `tool = "..."`, `prompt = "..."` or `resource = "..."`.
#[derive(Debug, Clone)]
pub(crate) struct ItemArg {
    pub(crate) kind: McpKind,
    pub(crate) name: LitStr,
    pub(crate) key_span: Span,
}

/// `= "name"` of an MCP item: a tool's or prompt's name, or a resource's
/// URI (absolute, matched exactly: no template, fragment or dot segment).
pub(super) fn parse_item(input: ParseStream, kind: McpKind) -> syn::Result<LitStr> {
    let example = match kind {
        McpKind::Tool => "tool = \"create_item\"",
        McpKind::Prompt => "prompt = \"item_summary\"",
        McpKind::Resource => "resource = \"items://list\"",
    };
    let eq = expect_eq(input, example)?;
    if !input.peek(LitStr) {
        let what = match kind {
            McpKind::Resource => "the resource's URI",
            McpKind::Tool => "the tool's name",
            McpKind::Prompt => "the prompt's name",
        };
        return Err(expected_here(
            input,
            eq.span,
            format!("expected {what} as a string literal: `{example}`"),
        ));
    }
    let lit: LitStr = input.parse()?;
    let value = lit.value();
    if value.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!("the {}'s name is empty", kind.as_str()),
        ));
    }
    if kind == McpKind::Resource
        && let Some(why) = unusable_resource_uri(&value)
    {
        return Err(syn::Error::new(
            lit.span(),
            format!("`{value}` cannot name a resource: {why}"),
        ));
    }
    Ok(lit)
}

/// Why a declared resource URI could never be matched exactly, if it cannot.
fn unusable_resource_uri(uri: &str) -> Option<&'static str> {
    let scheme = uri.split_once(':').map_or("", |(scheme, _)| scheme);
    let mut chars = scheme.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Some("it is not an absolute URI (`scheme:...`)");
    }
    if uri.contains(['{', '}']) {
        return Some("URI templates are not matched; protect each URI the server publishes");
    }
    if uri.contains('#') {
        return Some("a fragment is never sent to the server");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it contains whitespace or a control character");
    }
    let path = uri.split('?').next().unwrap_or_default();
    if path
        .split(['/', '\\'])
        .any(|segment| segment == "." || segment == "..")
    {
        return Some("it has a `.` or `..` segment");
    }
    None
}

/// One function protects one MCP item: a second `tool`, `prompt` or
/// `resource` is a duplicate, or a conflict.
pub(super) fn set_item(
    slot: &mut Option<ItemArg>,
    kind: McpKind,
    name: LitStr,
    key: &Ident,
) -> syn::Result<()> {
    if let Some(first) = slot.as_ref()
        && first.kind != kind
    {
        return Err(syn::Error::new(
            key.span(),
            format!(
                "`{}` and `{key}` together: one function protects one MCP item",
                first.kind.as_str()
            ),
        ));
    }
    let arg = ItemArg {
        kind,
        name,
        key_span: key.span(),
    };
    set_once(slot, arg, key)
}

/// How the argument `key` is written.
pub(super) fn example(key: &Ident) -> &'static str {
    match key.to_string().as_str() {
        "prompt" => "prompt = \"item_summary\"",
        "resource" => "resource = \"items://list\"",
        _ => "tool = \"create_item\"",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::names_mcp_item;
    use quote::quote;

    #[test]
    fn a_resource_uri_must_be_matchable_exactly() {
        for usable in [
            "items://list",
            "file:///srv/a.txt",
            "urn:x:y",
            "items://list?page=2",
        ] {
            assert_eq!(unusable_resource_uri(usable), None, "{usable}");
        }
        for unusable in [
            "list",
            "://list",
            "1items://list",
            "items://{id}",
            "items://list#top",
            "items://list /x",
            "items://a/./b",
            "items://a\\..\\b",
        ] {
            assert!(unusable_resource_uri(unusable).is_some(), "{unusable}");
        }
    }

    #[test]
    fn an_item_key_is_seen_in_tokens_that_do_not_parse() {
        assert!(names_mcp_item(&quote!(tool = "")));
        assert!(names_mcp_item(&quote!(scopes("a"), resource = items_list)));
        assert!(names_mcp_item(&quote!(prompt)));
        assert!(!names_mcp_item(&quote!(
            scopes("tool"),
            check = tool::check
        )));
    }
}
