//! The helpers behind `#[requires]`'s compile errors, shared by `args`,
//! `valid` and `expand`: collecting every error so that all are reported at
//! once ([`Errors`], [`both`], [`all`]), placing an error on the token at
//! fault ([`expected_here`]), and suggesting what the user probably meant
//! ([`nearest`], [`unknown_argument`]).

use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::{Ident, Path};

/// The argument names, in the order the documentation lists them.
const ARGUMENTS: &[&str] = &[
    "model",
    "scopes",
    "any_scopes",
    "issuers",
    "audience",
    "org_from",
    "check",
    "dpop",
    "crate",
    "tool",
    "prompt",
    "resource",
];

/// Names people plausibly write for an argument that edit distance alone
/// would not connect to it.
const ALIASES: &[(&str, &str)] = &[
    ("aud", "audience"),
    ("org", "org_from"),
    ("organization", "org_from"),
    ("organization_from", "org_from"),
    ("org_source", "org_from"),
    ("org_id", "org_from"),
    ("any_of", "any_scopes"),
    ("one_of", "any_scopes"),
    ("permissions", "scopes"),
    ("predicate", "check"),
    ("rule", "check"),
    ("guard", "check"),
    ("check_fn", "check"),
    ("issuer", "issuers"),
    ("iss", "issuers"),
];

/// The error for an argument name that `#[requires]` does not know, with the
/// argument it most likely stands for.
pub(crate) fn unknown_argument(key: &Ident) -> syn::Error {
    let name = key.to_string();
    let alias = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map(|(_, arg)| *arg);
    let message = match alias.or_else(|| nearest(&name, ARGUMENTS)) {
        Some(near) => format!("unknown argument `{name}`; did you mean `{near}`?"),
        None => format!(
            "unknown argument `{name}`: expected `model`, `scopes`, `any_scopes`, `issuers`, `audience`, `org_from`, `check`, `dpop`, `crate`, `tool`, `prompt` or `resource`"
        ),
    };
    syn::Error::new(key.span(), message)
}

/// An error for a value that is missing or wrong: spanned on the offending
/// token, or on `anchor` (the `=` or the key) when the input ended early.
pub(crate) fn expected_here(
    input: ParseStream,
    anchor: Span,
    message: impl std::fmt::Display,
) -> syn::Error {
    let span = if input.is_empty() {
        anchor
    } else {
        input.span()
    };
    syn::Error::new(span, message)
}

/// The error for `#[requires]` on a method, spanned on its `self`.
pub(crate) fn method_refused(self_token: Span) -> syn::Error {
    syn::Error::new(
        self_token,
        "`#[requires]` applies to free functions such as warp handlers, not methods: \
         move the handler out of the `impl` block (on an rmcp tool, write `#[requires]` \
         above `#[tool]` or `#[prompt]`, or name the item: `tool = \"name\"`)",
    )
}

/// The candidate closest to `name`, when it is close enough to be a typo.
pub(crate) fn nearest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (name.len() / 3).max(2);
    candidates
        .iter()
        .map(|candidate| (strsim::levenshtein(name, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
        .or_else(|| {
            // `scope` for `scopes`, `org` for `org_from`: a prefix is a strong hint.
            candidates
                .iter()
                .copied()
                .find(|c| name.len() >= 3 && c.starts_with(name))
        })
}

/// `a::b::C` as written, without spaces.
pub(crate) fn path_text(path: &Path) -> String {
    let mut text = String::new();
    if path.leading_colon.is_some() {
        text.push_str("::");
    }
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    text.push_str(&segments.join("::"));
    text
}

/// Both values, or every error of the two.
pub(crate) fn both<A, B>(a: syn::Result<A>, b: syn::Result<B>) -> syn::Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => Err(error),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
    }
}

/// Every value, or every error.
pub(crate) fn all<T>(results: impl IntoIterator<Item = syn::Result<T>>) -> syn::Result<Vec<T>> {
    let mut errors = Errors::default();
    let values: Vec<T> = results
        .into_iter()
        .filter_map(|result| errors.push_result(result))
        .collect();
    errors.finish().map(|()| values)
}

/// Collects errors so that all of them are reported together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn push_result<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(error);
                None
            }
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(error: syn::Error) -> Vec<String> {
        error.into_iter().map(|e| e.to_string()).collect()
    }

    fn error(message: &str) -> syn::Error {
        syn::Error::new(Span::call_site(), message)
    }

    #[test]
    fn errors_keeps_every_error_in_the_order_pushed() {
        assert!(Errors::default().finish().is_ok());
        let mut errors = Errors::default();
        errors.push(error("first"));
        assert_eq!(errors.push_result(Ok::<_, syn::Error>(7)), Some(7));
        assert_eq!(errors.push_result::<u8>(Err(error("second"))), None);
        assert_eq!(messages(errors.finish().unwrap_err()), ["first", "second"]);
    }

    #[test]
    fn both_reports_the_errors_of_either_side() {
        assert_eq!(
            both(Ok::<_, syn::Error>(1), Ok::<_, syn::Error>("a")).unwrap(),
            (1, "a")
        );
        let left = both(Err::<u8, _>(error("left")), Ok::<_, syn::Error>(2)).unwrap_err();
        assert_eq!(messages(left), ["left"]);
        let right = both(Ok::<_, syn::Error>(1), Err::<u8, _>(error("right"))).unwrap_err();
        assert_eq!(messages(right), ["right"]);
        let two = both(Err::<u8, _>(error("left")), Err::<u8, _>(error("right"))).unwrap_err();
        assert_eq!(messages(two), ["left", "right"]);
    }

    #[test]
    fn all_returns_every_value_or_every_error() {
        assert_eq!(all([Ok(1), Ok(2)]).unwrap(), [1, 2]);
        let errors = all([Ok(1), Err(error("a")), Ok(3), Err(error("b"))]).unwrap_err();
        assert_eq!(messages(errors), ["a", "b"]);
    }

    #[test]
    fn nearest_suggests_typos_and_prefixes_but_not_strangers() {
        assert_eq!(nearest("modle", ARGUMENTS), Some("model"));
        assert_eq!(nearest("scope", ARGUMENTS), Some("scopes"));
        assert_eq!(nearest("any_scope", ARGUMENTS), Some("any_scopes"));
        // Too far for edit distance, but a prefix of the argument.
        assert_eq!(nearest("org", ARGUMENTS), Some("org_from"));
        // A two-letter prefix is too weak a hint.
        assert_eq!(nearest("or", &["org_from"]), None);
        assert_eq!(nearest("xyzzy", ARGUMENTS), None);
    }

    #[test]
    fn unknown_argument_prefers_aliases_then_typos_then_the_list() {
        let message =
            |name: &str| unknown_argument(&Ident::new(name, Span::call_site())).to_string();
        assert_eq!(
            message("aud"),
            "unknown argument `aud`; did you mean `audience`?"
        );
        assert_eq!(
            message("permissions"),
            "unknown argument `permissions`; did you mean `scopes`?"
        );
        assert_eq!(
            message("crat"),
            "unknown argument `crat`; did you mean `crate`?"
        );
        assert_eq!(
            message("xyzzy"),
            "unknown argument `xyzzy`: expected `model`, `scopes`, `any_scopes`, `issuers`, `audience`, `org_from`, `check`, `dpop`, `crate`, `tool`, `prompt` or `resource`"
        );
    }

    #[test]
    fn path_text_prints_the_path_as_written() {
        let absolute: Path = syn::parse_quote!(::my_crate::bearer_policy);
        assert_eq!(path_text(&absolute), "::my_crate::bearer_policy");
        let relative: Path = syn::parse_quote!(Api::READ);
        assert_eq!(path_text(&relative), "Api::READ");
    }
}
