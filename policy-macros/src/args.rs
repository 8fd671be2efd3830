//! Parsing of the `#[requires(...)]` arguments into [`Args`], a plain struct
//! that `valid` validates against the function and `expand` turns into code.
//!
//! The attribute's tokens are first split at top-level commas into
//! `name rest` pairs, and each `rest` is parsed on its own by the `Parse` impl
//! of that argument kind. A mistake in one argument therefore never hides the
//! others: every error is collected and reported at once. Rules that concern
//! only the argument text (scope syntax, duplicate scopes, the audience URI,
//! header names, a check that is a path) are enforced here; rules that relate the arguments to each
//! other or to the function signature live in `valid`.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, LitStr, Meta, Path, Token};

pub(crate) use self::dpop::DpopArg;
pub(crate) use self::mcp_item::{ItemArg, McpKind};
use crate::diagnostics::{Errors, expected_here, nearest, path_text, unknown_argument};

/// The models, as listed in error messages.
pub(crate) const MODELS: &str = "`global_api`, `org_permission`, `org_resource`";

/// A permission model, as written after `model =`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Model {
    GlobalApi,
    OrgPermission,
    OrgResource,
}

impl Model {
    const ALL: [Model; 3] = [Model::GlobalApi, Model::OrgPermission, Model::OrgResource];

    /// The name written in the attribute.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Model::GlobalApi => "global_api",
            Model::OrgPermission => "org_permission",
            Model::OrgResource => "org_resource",
        }
    }

    fn from_name(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|model| model.name() == name)
    }
}

/// `model = <model>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModelArg {
    pub(crate) model: Model,
    /// The span of the model's name, for errors about the model.
    pub(crate) span: Span,
}

/// One scope: a string literal, or a path to a `&str` constant (checked at
/// compile time by the generated code).
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    Literal(LitStr),
    Const(Path),
}

impl Scope {
    /// How the scope reads in the attribute, for duplicate detection and docs.
    pub(crate) fn text(&self) -> String {
        match self {
            Scope::Literal(lit) => lit.value(),
            Scope::Const(path) => path_text(path),
        }
    }

    fn span(&self) -> Span {
        match self {
            Scope::Literal(lit) => lit.span(),
            Scope::Const(path) => path.span(),
        }
    }
}

/// `scopes(...)` or `any_scopes(...)`: a non-empty list without duplicates.
#[derive(Debug, Clone)]
pub(crate) struct ScopeList {
    pub(crate) scopes: Vec<Scope>,
}

/// Where the organization id of a request comes from.
#[derive(Debug, Clone)]
pub(crate) enum OrgFrom {
    /// A function parameter (a path segment in warp). `name` carries the span
    /// of what the user wrote: the parameter name, or `path` for the default
    /// `org_id` (then `explicit` is false).
    Param { name: Ident, explicit: bool },
    /// A request header.
    Header(LitStr),
    /// A query-string parameter.
    Query(LitStr),
}

/// `org_from = ...`.
#[derive(Debug, Clone)]
pub(crate) struct OrgFromArg {
    pub(crate) source: OrgFrom,
    /// The span of the `org_from` key, for errors about the argument as a whole.
    pub(crate) key_span: Span,
}

/// The arguments of one `#[requires(...)]` attribute.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    /// Where errors about a missing argument point: the attribute.
    pub(crate) span: Span,
    pub(crate) model: Option<ModelArg>,
    pub(crate) scopes: Option<ScopeList>,
    pub(crate) any_scopes: Option<ScopeList>,
    /// `issuers("https://...", ...)`: the trusted issuers whose tokens the
    /// policy accepts (none: every trusted issuer).
    pub(crate) issuers: Option<Vec<LitStr>>,
    pub(crate) audience: Option<LitStr>,
    pub(crate) org_from: Option<OrgFromArg>,
    /// `check = path::to::function`: the policy's check function. Its
    /// signature is checked by rustc, on this path, in the generated code.
    pub(crate) check: Option<Path>,
    /// `crate = path`: where the `bearer-policy` crate is, for crates that re-export it.
    pub(crate) krate: Option<Path>,
    /// `dpop = required`: the route's own DPoP mode.
    pub(crate) dpop: Option<DpopArg>,
    /// `tool = "name"`, `prompt = "name"` or `resource = "uri"`: the MCP
    /// item the policy protects, as the server publishes it.
    pub(crate) item: Option<ItemArg>,
}

impl Args {
    fn empty(span: Span) -> Self {
        Args {
            span,
            model: None,
            scopes: None,
            any_scopes: None,
            issuers: None,
            audience: None,
            org_from: None,
            check: None,
            krate: None,
            dpop: None,
            item: None,
        }
    }

    /// Parses the tokens inside `#[requires(...)]`. `span` is where errors
    /// about missing arguments point.
    pub(crate) fn parse(tokens: TokenStream, span: Span) -> syn::Result<Args> {
        let mut args = Args::empty(span);
        let mut errors = Errors::default();
        for (key, rest) in split_arguments(tokens, &mut errors) {
            let name = key.to_string();
            let result = match name.as_str() {
                "model" => parse_value::<ModelArg>(&key, rest)
                    .and_then(|value| set_once(&mut args.model, value, &key)),
                "scopes" | "any_scopes" => parse_scope_list(&key, rest).and_then(|value| {
                    let slot = if name == "scopes" {
                        &mut args.scopes
                    } else {
                        &mut args.any_scopes
                    };
                    set_once(slot, value, &key)
                }),
                "issuers" => parse_issuer_list(&key, rest)
                    .and_then(|value| set_once(&mut args.issuers, value, &key)),
                "audience" => parse_value::<AudienceArg>(&key, rest)
                    .and_then(|value| set_once(&mut args.audience, value.0, &key)),
                "org_from" => parse_value::<OrgFromValue>(&key, rest).and_then(|value| {
                    let arg = OrgFromArg {
                        source: value.0,
                        key_span: key.span(),
                    };
                    set_once(&mut args.org_from, arg, &key)
                }),
                "check" => parse_value::<CheckArg>(&key, rest)
                    .and_then(|value| set_once(&mut args.check, value.0, &key)),
                "crate" => parse_value::<CrateArg>(&key, rest)
                    .and_then(|value| set_once(&mut args.krate, value.0, &key)),
                "dpop" => parse_value::<DpopArg>(&key, rest)
                    .and_then(|value| set_once(&mut args.dpop, value, &key)),
                "tool" | "prompt" | "resource" => {
                    let kind = match name.as_str() {
                        "tool" => McpKind::Tool,
                        "prompt" => McpKind::Prompt,
                        _ => McpKind::Resource,
                    };
                    parse_value_with(&key, rest, |input| mcp_item::parse_item(input, kind))
                        .and_then(|lit| mcp_item::set_item(&mut args.item, kind, lit, &key))
                }
                _ => Err(unknown_argument(&key)),
            };
            errors.push_result(result);
        }
        errors.push_result(args.validate_scope_overlap());
        errors.finish()?;
        Ok(args)
    }

    /// A scope in both lists makes `any_scopes` always satisfied: a mistake.
    fn validate_scope_overlap(&self) -> syn::Result<()> {
        let (Some(all), Some(any)) = (&self.scopes, &self.any_scopes) else {
            return Ok(());
        };
        let mut errors = Errors::default();
        for scope in &any.scopes {
            let text = scope.text();
            if all.scopes.iter().any(|required| required.text() == text) {
                errors.push(syn::Error::new(
                    scope.span(),
                    format!(
                        "`{text}` is already required by `scopes(...)`, so this `any_scopes` \
                         would always hold; remove it from one of the lists"
                    ),
                ));
            }
        }
        errors.finish()
    }
}

/// Parses the arguments of `#[requires]` attributes stacked below the one
/// being expanded, removing them from `attrs`. The outermost attribute
/// gathers them so that one function yields one expansion.
///
/// An attribute counts as `#[requires]` when its path is `requires`, ends in
/// `bearer_policy::requires`, or is `<crate>::requires` where `<crate>` is the
/// `crate = ...` path of the outer attribute.
pub(crate) fn take_stacked(
    attrs: &mut Vec<Attribute>,
    krate: Option<&Path>,
) -> Vec<syn::Result<Args>> {
    let mut stacked = Vec::new();
    attrs.retain(|attr| {
        if !is_requires(attr.path(), krate) {
            return true;
        }
        let span = attr.path().span();
        stacked.push(match &attr.meta {
            Meta::List(list) => Args::parse(list.tokens.clone(), span),
            Meta::Path(_) => Args::parse(TokenStream::new(), span),
            Meta::NameValue(meta) => Err(syn::Error::new(
                meta.eq_token.span,
                "write the arguments in parentheses: `#[requires(model = ..., ...)]`",
            )),
        });
        false
    });
    stacked
}

/// Whether `#[requires]` arguments name an MCP item (`tool`, `prompt` or
/// `resource` as a key), read from the tokens so that it holds even when
/// they do not parse: a misspelt item then reports its own error, not those
/// of an HTTP handler.
pub(crate) fn names_mcp_item(tokens: &TokenStream) -> bool {
    let mut at_key = true;
    tokens.clone().into_iter().any(|token| {
        let is_item = at_key
            && matches!(&token, TokenTree::Ident(key) if key == "tool" || key == "prompt" || key == "resource");
        at_key = matches!(&token, TokenTree::Punct(punct) if punct.as_char() == ',');
        is_item
    })
}

/// [`names_mcp_item`] for the `#[requires]` stacked in `attrs`.
pub(crate) fn stacked_name_mcp_item(attrs: &[Attribute], krate: Option<&Path>) -> bool {
    attrs.iter().any(|attr| {
        is_requires(attr.path(), krate)
            && matches!(&attr.meta, Meta::List(list) if names_mcp_item(&list.tokens))
    })
}

fn is_requires(path: &Path, krate: Option<&Path>) -> bool {
    if path.segments.iter().any(|s| !s.arguments.is_empty()) {
        return false;
    }
    let segments = module_relative(path);
    let Some((last, prefix)) = segments.split_last() else {
        return false;
    };
    if last != "requires" {
        return false;
    }
    prefix.is_empty()
        || prefix.last().is_some_and(|name| name == "bearer_policy")
        || krate.is_some_and(|krate| module_relative(krate) == prefix)
}

/// The segments of `path` without a leading `crate` or `self`, so that
/// `crate::deps::bearer_policy` and `deps::bearer_policy` compare equal.
fn module_relative(path: &Path) -> Vec<String> {
    let mut segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    if path.leading_colon.is_none()
        && segments
            .first()
            .is_some_and(|first| first == "crate" || first == "self")
    {
        segments.remove(0);
    }
    segments
}

/// `= <model>`.
impl Parse for ModelArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let eq = expect_eq(input, "model = org_resource")?;
        let Some(ident) = input.parse::<Option<Ident>>()? else {
            return Err(expected_here(
                input,
                eq.span,
                format!("expected a model: one of {MODELS}"),
            ));
        };
        match Model::from_name(&ident.to_string()) {
            Some(model) => Ok(ModelArg {
                model,
                span: ident.span(),
            }),
            None => {
                let names = Model::ALL.map(Model::name);
                let hint = match nearest(&ident.to_string(), &names) {
                    Some(near) => format!("; did you mean `{near}`?"),
                    None => String::new(),
                };
                Err(syn::Error::new(
                    ident.span(),
                    format!("unknown model `{ident}`: expected one of {MODELS}{hint}"),
                ))
            }
        }
    }
}

/// `("scope", Path::TO_CONST, ...)`.
fn parse_scope_list(key: &Ident, rest: TokenStream) -> syn::Result<ScopeList> {
    let parser = |input: ParseStream| {
        let content;
        let example = format!("{key}(\"api:read\", \"api:write\")");
        if !input.peek(syn::token::Paren) {
            return Err(expected_here(
                input,
                key.span(),
                format!("expected a list of scopes in parentheses: `{example}`"),
            ));
        }
        let paren = syn::parenthesized!(content in input);
        let items = Punctuated::<ScopeItem, Token![,]>::parse_terminated(&content)?;
        if items.is_empty() {
            return Err(syn::Error::new(
                paren.span.join(),
                format!(
                    "`{key}()` is empty: list at least one scope, e.g. `{example}`, or remove `{key}`"
                ),
            ));
        }
        let scopes: Vec<Scope> = items.into_iter().map(|item| item.0).collect();
        let mut errors = Errors::default();
        for (i, scope) in scopes.iter().enumerate() {
            if let Scope::Literal(lit) = scope {
                errors.push_result(validate_scope_text(lit));
            }
            let text = scope.text();
            if scopes.iter().take(i).any(|earlier| earlier.text() == text) {
                errors.push(syn::Error::new(
                    scope.span(),
                    format!("duplicate scope `{text}`: list each scope once"),
                ));
            }
        }
        errors.finish()?;
        Ok(ScopeList { scopes })
    };
    parser.parse2(rest)
}

/// One entry of a scope list.
struct ScopeItem(Scope);

impl Parse for ScopeItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(ScopeItem(Scope::Literal(input.parse()?)));
        }
        let path_start = input.peek(Ident)
            || input.peek(Token![::])
            || input.peek(Token![crate])
            || input.peek(Token![self])
            || input.peek(Token![super]);
        if path_start {
            return Ok(ScopeItem(Scope::Const(input.call(Path::parse_mod_style)?)));
        }
        Err(input.error(
            "expected a scope: a string literal such as `\"api:read\"` \
             or a path to a constant such as `Api::READ`",
        ))
    }
}

/// RFC 6749 scope-token: `1*( %x21 / %x23-5B / %x5D-7E )`, the same rule the
/// runtime's `assert_scopes` enforces on constants.
fn validate_scope_text(lit: &LitStr) -> syn::Result<()> {
    let value = lit.value();
    if value.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "empty scope: write the scope's name, e.g. `\"api:read\"`",
        ));
    }
    if value.chars().any(char::is_whitespace) {
        let split: Vec<String> = value
            .split_whitespace()
            .map(|s| format!("\"{s}\""))
            .collect();
        let hint = if split.len() > 1 {
            format!(": list each scope on its own, e.g. `{}`", split.join(", "))
        } else {
            String::new()
        };
        return Err(syn::Error::new(
            lit.span(),
            format!("scope `{value}` contains whitespace, which a scope cannot hold{hint}"),
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|&c| !c.is_ascii_graphic() || c == '"' || c == '\\')
    {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "scope `{value}` contains {bad:?}: a scope is visible ASCII other than `\"` and `\\` (RFC 6749)"
            ),
        ));
    }
    Ok(())
}

/// `("https://issuer.example", ...)`: issuers as the validator names them,
/// each once. An issuer need not be a URL (one with static keys may be any
/// name), but it is never empty and holds no whitespace, which no configured
/// issuer could match.
fn parse_issuer_list(key: &Ident, rest: TokenStream) -> syn::Result<Vec<LitStr>> {
    let parser = |input: ParseStream| {
        const EXAMPLE: &str = "issuers(\"https://tenant.example.com/oidc\")";
        if !input.peek(syn::token::Paren) {
            return Err(expected_here(
                input,
                key.span(),
                format!("expected a list of issuers in parentheses: `{EXAMPLE}`"),
            ));
        }
        let content;
        let paren = syn::parenthesized!(content in input);
        let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected an issuer as a string literal, e.g. `\"https://tenant.example.com/oidc\"`",
            )
        })?;
        if items.is_empty() {
            return Err(syn::Error::new(
                paren.span.join(),
                format!(
                    "`issuers()` is empty: list at least one issuer, e.g. `{EXAMPLE}`, or remove `issuers`"
                ),
            ));
        }
        let issuers: Vec<LitStr> = items.into_iter().collect();
        let mut errors = Errors::default();
        for (i, issuer) in issuers.iter().enumerate() {
            let value = issuer.value();
            if value.is_empty() || value.chars().any(char::is_whitespace) {
                errors.push(syn::Error::new(
                    issuer.span(),
                    format!(
                        "issuer `{value}` is empty or holds whitespace, so no configured issuer \
                         could match it: write the issuer as the validator names it"
                    ),
                ));
            }
            if issuers
                .iter()
                .take(i)
                .any(|earlier| earlier.value() == value)
            {
                errors.push(syn::Error::new(
                    issuer.span(),
                    format!("duplicate issuer `{value}`: list each issuer once"),
                ));
            }
        }
        errors.finish()?;
        Ok(issuers)
    };
    parser.parse2(rest)
}

/// `= "https://..."`.
struct AudienceArg(LitStr);

impl Parse for AudienceArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let eq = expect_eq(input, "audience = \"https://api.example.com\"")?;
        if !input.peek(LitStr) {
            return Err(expected_here(
                input,
                eq.span,
                "`audience` must be a string literal holding an absolute URI, \
                 e.g. `audience = \"https://api.example.com\"`",
            ));
        }
        let lit: LitStr = input.parse()?;
        if let Some(problem) = absolute_uri_problem(&lit.value()) {
            return Err(syn::Error::new(lit.span(), problem));
        }
        Ok(AudienceArg(lit))
    }
}

/// Why `value` is not an absolute URI (RFC 3986 `absolute-URI`), if it is not.
fn absolute_uri_problem(value: &str) -> Option<String> {
    const EXAMPLE: &str = "e.g. `\"https://api.example.com\"`";
    if value.is_empty() {
        return Some(format!(
            "empty audience: write the API resource indicator, {EXAMPLE}"
        ));
    }
    if value.chars().any(char::is_whitespace) {
        return Some(format!(
            "audience `{value}` contains whitespace, which a URI cannot hold; \
             the audience is an absolute URI, {EXAMPLE}"
        ));
    }
    if let Some(bad) = value.chars().find(|&c| {
        !c.is_ascii_graphic() || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')
    }) {
        return Some(format!(
            "audience `{value}` contains `{bad}`, which a URI cannot hold; \
             the audience is an absolute URI, {EXAMPLE}"
        ));
    }
    let scheme_ok = value.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if !scheme_ok {
        return Some(format!(
            "audience `{value}` is not an absolute URI: it needs a scheme, {EXAMPLE}"
        ));
    }
    if value.contains('#') {
        return Some(format!(
            "audience `{value}` has a fragment (`#...`), which an absolute URI cannot have"
        ));
    }
    None
}

/// `= path | path(name) | header("...") | query("...")`.
struct OrgFromValue(OrgFrom);

const ORG_FROM_FORMS: &str = "`path`, `path(parameter_name)`, `header(\"X-Organization-Id\")` or `query(\"organization_id\")`";

impl Parse for OrgFromValue {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let eq = expect_eq(input, "org_from = path")?;
        let Some(kind) = input.parse::<Option<Ident>>()? else {
            return Err(expected_here(
                input,
                eq.span,
                format!("expected one of {ORG_FROM_FORMS}"),
            ));
        };
        let argument = if input.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            Some((paren.span.join(), content.parse::<TokenStream>()?))
        } else {
            None
        };
        let source = match (kind.to_string().as_str(), argument) {
            ("path", None) => OrgFrom::Param {
                name: Ident::new("org_id", kind.span()),
                explicit: false,
            },
            ("path", Some((span, tokens))) => OrgFrom::Param {
                name: parse_param_name(span, tokens)?,
                explicit: true,
            },
            ("header", Some((span, tokens))) => {
                let lit = parse_name_literal(span, tokens, "header(\"X-Organization-Id\")")?;
                validate_header_name(&lit)?;
                OrgFrom::Header(lit)
            }
            ("query", Some((span, tokens))) => {
                let lit = parse_name_literal(span, tokens, "query(\"organization_id\")")?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(
                        lit.span(),
                        "empty query parameter name: write e.g. `query(\"organization_id\")`",
                    ));
                }
                OrgFrom::Query(lit)
            }
            ("header", None) => {
                return Err(syn::Error::new(
                    kind.span(),
                    "`header` needs the header's name: `header(\"X-Organization-Id\")`",
                ));
            }
            ("query", None) => {
                return Err(syn::Error::new(
                    kind.span(),
                    "`query` needs the parameter's name: `query(\"organization_id\")`",
                ));
            }
            (other, _) => {
                let hint = match nearest(other, &["path", "header", "query"]) {
                    Some(near) => format!("; did you mean `{near}`?"),
                    None => String::new(),
                };
                return Err(syn::Error::new(
                    kind.span(),
                    format!(
                        "unknown organization source `{other}`: expected {ORG_FROM_FORMS}{hint}"
                    ),
                ));
            }
        };
        Ok(OrgFromValue(source))
    }
}

fn parse_param_name(span: Span, tokens: TokenStream) -> syn::Result<Ident> {
    let parser = |input: ParseStream| {
        if input.is_empty() {
            return Err(syn::Error::new(
                span,
                "`path()` needs the parameter's name, e.g. `path(tenant_id)`; \
                 write `path` alone for the parameter `org_id`",
            ));
        }
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "write the parameter's name without quotes: `path({})`",
                    lit.value()
                ),
            ));
        }
        input.parse::<Ident>()
    };
    parser.parse2(tokens)
}

fn parse_name_literal(span: Span, tokens: TokenStream, example: &str) -> syn::Result<LitStr> {
    let parser = |input: ParseStream| {
        if input.peek(LitStr) {
            return input.parse::<LitStr>();
        }
        Err(expected_here(
            input,
            span,
            format!("expected the name as a string literal: `{example}`"),
        ))
    };
    parser.parse2(tokens)
}

/// RFC 9110 field-name: a token of `tchar`s.
fn validate_header_name(lit: &LitStr) -> syn::Result<()> {
    let value = lit.value();
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if value.is_empty() || !value.chars().all(is_tchar) {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`{value}` is not a valid header name: use letters, digits and `-`, \
                 e.g. `header(\"X-Organization-Id\")`"
            ),
        ));
    }
    Ok(())
}

/// `= path::to::function`: the path of a function, generic arguments
/// included (`has_role::<Admin>`); what it names is for rustc to check.
struct CheckArg(Path);

const CHECK_EXAMPLE: &str = "check = is_staff";

impl Parse for CheckArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let eq = expect_eq(input, CHECK_EXAMPLE)?;
        if input.is_empty() {
            return Err(syn::Error::new(
                eq.span,
                format!("expected the path of a function: `{CHECK_EXAMPLE}`"),
            ));
        }
        let value: Expr = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                format!(
                    "expected the path of a function taking `&AuthInfo`, such as `{CHECK_EXAMPLE}` \
                     or `check = crate::rules::is_staff`"
                ),
            )
        })?;
        let span = value.span();
        let problem = match value {
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
                return Ok(CheckArg(path.path));
            }
            Expr::Path(_) => "a qualified path (`<T as Trait>::f`) is not supported: \
                 write a path to a function, e.g. `check = Rules::is_staff`"
                .to_owned(),
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => format!(
                "write the function's path without quotes: `check = {}`",
                lit.value()
            ),
            Expr::Call(call) => match &*call.func {
                Expr::Path(path) => format!(
                    "write the function's path, not a call: `check = {}`; \
                     it is called with the caller's `&AuthInfo`",
                    path_text(&path.path)
                ),
                _ => "expected the path of a function, not a call".to_owned(),
            },
            Expr::Closure(_) => "a closure cannot be written in an attribute: define \
                 `fn is_staff(auth: &AuthInfo) -> bool { ... }` and write `check = is_staff` \
                 (or build the policy with `Policy::check_with`, which takes a closure)"
                .to_owned(),
            _ => format!("expected the path of a function taking `&AuthInfo`: `{CHECK_EXAMPLE}`"),
        };
        Err(syn::Error::new(span, problem))
    }
}

/// `= path::to::policy` (a string holding the path is accepted too, as serde does).
struct CrateArg(Path);

impl Parse for CrateArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        expect_eq(input, "crate = my_crate::bearer_policy")?;
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            return lit.parse_with(Path::parse_mod_style).map(CrateArg);
        }
        input.call(Path::parse_mod_style).map(CrateArg)
    }
}

fn expect_eq(input: ParseStream, example: &str) -> syn::Result<Token![=]> {
    if input.peek(Token![=]) {
        return input.parse();
    }
    let span = input.span();
    Err(syn::Error::new(
        span,
        format!("expected `=`: write `{example}`"),
    ))
}

/// Parses `rest` (what follows the key) with `T`'s `Parse` impl, requiring a
/// value to be there at all.
fn parse_value<T: Parse>(key: &Ident, rest: TokenStream) -> syn::Result<T> {
    parse_value_with(key, rest, T::parse)
}

/// [`parse_value`] with a parser of its own.
fn parse_value_with<T>(
    key: &Ident,
    rest: TokenStream,
    parser: impl FnOnce(ParseStream) -> syn::Result<T>,
) -> syn::Result<T> {
    if rest.is_empty() {
        let example = match key.to_string().as_str() {
            "model" => "model = org_resource",
            "audience" => "audience = \"https://api.example.com\"",
            "org_from" => "org_from = path",
            "check" => CHECK_EXAMPLE,
            "dpop" => "dpop = required",
            "tool" | "prompt" | "resource" => mcp_item::example(key),
            _ => "crate = my_crate::bearer_policy",
        };
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` needs a value: `{example}`"),
        ));
    }
    parser.parse2(rest)
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &Ident) -> syn::Result<()> {
    if slot.is_some() {
        let hint = match key.to_string().as_str() {
            "scopes" | "any_scopes" | "issuers" => {
                format!("; merge the lists into one `{key}(...)`")
            }
            "check" => "; a policy has one check function: write one that calls both, \
                        or stack another `#[requires]` with the second"
                .to_owned(),
            _ => "; give it once".to_owned(),
        };
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate argument `{key}`{hint}"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// Each argument must start with a name; anything else is reported and skipped.
fn split_arguments(tokens: TokenStream, errors: &mut Errors) -> Vec<(Ident, TokenStream)> {
    let mut arguments = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut flush = |current: &mut Vec<TokenTree>, comma: Option<Span>| {
        let mut tokens = std::mem::take(current).into_iter();
        match tokens.next() {
            Some(TokenTree::Ident(key)) => arguments.push((key, tokens.collect())),
            Some(other) => errors.push(syn::Error::new(
                other.span(),
                "expected an argument name, such as `model = org_resource` or `scopes(\"api:read\")`",
            )),
            None => {
                if let Some(span) = comma {
                    errors.push(syn::Error::new(span, "expected an argument before this comma"));
                }
            }
        }
    };
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                flush(&mut current, Some(punct.span()))
            }
            // Macro-generated invocations may wrap an argument in an invisible group.
            TokenTree::Group(group)
                if group.delimiter() == Delimiter::None && current.is_empty() =>
            {
                current.extend(group.stream());
            }
            _ => current.push(token),
        }
    }
    flush(&mut current, None);
    arguments
}

mod dpop;
mod mcp_item;
#[cfg(test)]
mod tests;
