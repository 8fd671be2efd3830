//! Unit tests of `args`: every form of the grammar parses, and every
//! mistake in the argument text yields a message that says what to write.

use super::*;
use quote::quote;

fn parse(tokens: TokenStream) -> syn::Result<Args> {
    Args::parse(tokens, Span::call_site())
}

fn error(tokens: TokenStream) -> String {
    match parse(tokens) {
        Ok(args) => panic!("expected an error, parsed {args:?}"),
        Err(error) => error
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn full_grammar_parses_in_any_order() {
    let args = parse(quote! {
        org_from = header("X-Organization-Id"),
        any_scopes("admin", Roles::SUPPORT),
        audience = "https://api.example.com",
        scopes("api:read", "api:write"),
        model = org_resource,
        crate = ::my_crate::policy,
    })
    .unwrap();
    assert_eq!(args.model.unwrap().model, Model::OrgResource);
    let scopes: Vec<String> = args
        .scopes
        .unwrap()
        .scopes
        .iter()
        .map(Scope::text)
        .collect();
    assert_eq!(scopes, ["api:read", "api:write"]);
    let any: Vec<String> = args
        .any_scopes
        .unwrap()
        .scopes
        .iter()
        .map(Scope::text)
        .collect();
    assert_eq!(any, ["admin", "Roles::SUPPORT"]);
    assert_eq!(args.audience.unwrap().value(), "https://api.example.com");
    assert!(
        matches!(args.org_from.unwrap().source, OrgFrom::Header(h) if h.value() == "X-Organization-Id")
    );
    assert_eq!(path_text(&args.krate.unwrap()), "::my_crate::policy");
}

#[test]
fn path_source_defaults_to_org_id_and_accepts_a_name() {
    let args = parse(quote!(model = org_permission, org_from = path)).unwrap();
    assert!(
        matches!(args.org_from.unwrap().source, OrgFrom::Param { name, .. } if name == "org_id")
    );
    let args = parse(quote!(model = org_permission, org_from = path(tenant_id))).unwrap();
    assert!(
        matches!(args.org_from.unwrap().source, OrgFrom::Param { name, .. } if name == "tenant_id")
    );
    let args = parse(quote!(model = org_permission, org_from = query("org"))).unwrap();
    assert!(matches!(args.org_from.unwrap().source, OrgFrom::Query(q) if q.value() == "org"));
}

#[test]
fn empty_arguments_parse_to_nothing() {
    let args = parse(quote!()).unwrap();
    assert!(args.model.is_none() && args.scopes.is_none() && args.org_from.is_none());
    assert!(parse(quote!(model = global_api,)).is_ok());
}

#[test]
fn crate_accepts_a_string_like_serde() {
    let args = parse(quote!(model = global_api, crate = "my_crate::policy")).unwrap();
    assert_eq!(path_text(&args.krate.unwrap()), "my_crate::policy");
}

#[test]
fn unknown_model_lists_the_three_models() {
    let message = error(quote!(model = org_resources));
    assert!(
        message.contains("unknown model `org_resources`"),
        "{message}"
    );
    assert!(
        message.contains("`global_api`, `org_permission`, `org_resource`"),
        "{message}"
    );
    assert!(
        message.contains("did you mean `org_resource`?"),
        "{message}"
    );
}

#[test]
fn unknown_argument_suggests_the_nearest() {
    assert!(error(quote!(scope("a"))).contains("did you mean `scopes`?"));
    assert!(error(quote!(aud = "https://x")).contains("did you mean `audience`?"));
    assert!(error(quote!(modle = global_api)).contains("did you mean `model`?"));
    assert!(error(quote!(xyzzy = 1)).contains("expected `model`, `scopes`"));
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let message = error(quote!(modle = global_api, scopes(""), audience = "nope"));
    assert_eq!(message.lines().count(), 3, "{message}");
}

#[test]
fn duplicate_argument_is_an_error() {
    assert!(
        error(quote!(model = global_api, model = org_resource))
            .contains("duplicate argument `model`")
    );
    assert!(error(quote!(scopes("a"), scopes("b"))).contains("merge the lists"));
}

#[test]
fn scope_text_follows_rfc_6749() {
    assert!(error(quote!(scopes(""))).contains("empty scope"));
    let message = error(quote!(scopes("api read")));
    assert!(message.contains("whitespace"), "{message}");
    assert!(message.contains("`\"api\", \"read\"`"), "{message}");
    assert!(error(quote!(scopes("a\\b"))).contains("RFC 6749"));
    assert!(error(quote!(scopes("é"))).contains("RFC 6749"));
    assert!(error(quote!(scopes("a", "b", "a"))).contains("duplicate scope `a`"));
    assert!(error(quote!(scopes(Api::READ, Api::READ))).contains("duplicate scope `Api::READ`"));
    assert!(error(quote!(scopes())).contains("`scopes()` is empty"));
    assert!(error(quote!(any_scopes())).contains("`any_scopes()` is empty"));
    assert!(error(quote!(scopes = "a")).contains("expected a list of scopes in parentheses"));
    assert!(error(quote!(scopes(1))).contains("expected a scope"));
}

#[test]
fn a_scope_in_both_lists_is_an_error() {
    assert!(error(quote!(scopes("a"), any_scopes("a", "b"))).contains("already required"));
}

#[test]
fn issuers_are_a_list_of_names_each_once() {
    let args = parse(quote!(issuers("https://a.example", "signer"))).unwrap();
    let issuers: Vec<String> = args.issuers.unwrap().iter().map(|i| i.value()).collect();
    assert_eq!(issuers, ["https://a.example", "signer"]);
    assert!(error(quote!(issuers())).contains("`issuers()` is empty"));
    assert!(error(quote!(issuers(""))).contains("empty or holds whitespace"));
    assert!(error(quote!(issuers("https://a b"))).contains("empty or holds whitespace"));
    assert!(error(quote!(issuers("x", "x"))).contains("duplicate issuer `x`"));
    assert!(error(quote!(issuers(PARTNER))).contains("string literal"));
    assert!(error(quote!(issuers = "x")).contains("expected a list of issuers in parentheses"));
    assert!(error(quote!(issuers("a"), issuers("b"))).contains("merge the lists"));
    assert!(error(quote!(issuer("a"))).contains("did you mean `issuers`"));
}

#[test]
fn audience_must_be_an_absolute_uri_literal() {
    assert!(parse(quote!(audience = "urn:logto:resource:x")).is_ok());
    assert!(error(quote!(audience = "api.example.com")).contains("needs a scheme"));
    assert!(error(quote!(audience = "")).contains("empty audience"));
    assert!(error(quote!(audience = "https://a b")).contains("whitespace"));
    assert!(error(quote!(audience = "https://a|b")).contains("`|`"));
    assert!(error(quote!(audience = "https://a#x")).contains("fragment"));
    assert!(error(quote!(audience = "https:")).contains("needs a scheme"));
    assert!(error(quote!(audience = AUDIENCE)).contains("must be a string literal"));
    assert!(error(quote!(audience)).contains("`audience` needs a value"));
}

#[test]
fn org_from_forms_say_what_to_write() {
    assert!(error(quote!(org_from = header)).contains("`header(\"X-Organization-Id\")`"));
    assert!(error(quote!(org_from = query)).contains("`query(\"organization_id\")`"));
    assert!(error(quote!(org_from = header(X))).contains("string literal"));
    assert!(error(quote!(org_from = header("X Org"))).contains("not a valid header name"));
    assert!(error(quote!(org_from = path("tenant"))).contains("`path(tenant)`"));
    assert!(error(quote!(org_from = path())).contains("`path(tenant_id)`"));
    assert!(error(quote!(org_from = headers("x"))).contains("did you mean `header`?"));
    assert!(error(quote!(org_from = query(""))).contains("empty query parameter name"));
}

#[test]
fn malformed_argument_lists_are_reported() {
    assert!(error(quote!(model org_resource)).contains("expected `=`"));
    assert!(error(quote!(model = org_resource extra)).contains("unexpected token"));
    assert!(error(quote!(, model = global_api)).contains("expected an argument before this comma"));
    assert!(error(quote!("model")).contains("expected an argument name"));
}

#[test]
fn stacked_attributes_are_recognised_by_path() {
    let krate: Path = syn::parse_quote!(my::policy);
    let yes = [
        quote!(requires),
        quote!(bearer_policy::requires),
        quote!(::bearer_policy::requires),
        quote!(my::bearer_policy::requires),
        quote!(deps::bearer_policy::requires),
    ];
    for path in yes {
        let path: Path = syn::parse2(path).unwrap();
        assert!(is_requires(&path, Some(&krate)), "{}", path_text(&path));
    }
    let reexport: Path = syn::parse_quote!(crate::api::auth);
    let path: Path = syn::parse_quote!(api::auth::requires);
    assert!(is_requires(&path, Some(&reexport)));
    assert!(!is_requires(&path, None));
    for path in [
        quote!(contracts::requires),
        quote!(require),
        quote!(bearer_policy::requires_all),
    ] {
        let path: Path = syn::parse2(path).unwrap();
        assert!(!is_requires(&path, Some(&krate)), "{}", path_text(&path));
    }
}

#[test]
fn take_stacked_removes_only_requires_attributes() {
    let mut item: syn::ItemFn = syn::parse_quote! {
        #[doc = "docs"]
        #[requires(model = global_api)]
        #[inline]
        #[bearer_policy::requires(model = org_resource, org_from = path)]
        fn f() {}
    };
    let stacked = take_stacked(&mut item.attrs, None);
    assert_eq!(stacked.len(), 2);
    assert_eq!(item.attrs.len(), 2);
    assert_eq!(
        stacked[1].as_ref().unwrap().model.unwrap().model,
        Model::OrgResource
    );
}

#[test]
fn check_takes_the_path_of_a_function_as_written() {
    for (tokens, written) in [
        (quote!(check = is_staff), "is_staff"),
        (quote!(check = rules::is_staff), "rules::is_staff"),
        (
            quote!(check = crate::rules::is_staff),
            "crate::rules::is_staff",
        ),
        (quote!(check = ::other::is_staff), "::other::is_staff"),
        (quote!(check = super::is_staff), "super::is_staff"),
        (quote!(check = Rules::is_staff), "Rules::is_staff"),
    ] {
        let args = parse(quote!(model = global_api, #tokens)).unwrap();
        assert_eq!(path_text(&args.check.unwrap()), written);
    }
    // Generic arguments are kept for rustc.
    let args = parse(quote!(model = global_api, check = has_role::<Admin>)).unwrap();
    let path = args.check.unwrap();
    assert_eq!(quote!(#path).to_string(), "has_role :: < Admin >");
    assert!(parse(quote!(model = global_api)).unwrap().check.is_none());
}

#[test]
fn check_that_is_not_a_path_says_what_to_write() {
    let message = error(quote!(check = "is_staff"));
    assert_eq!(
        message,
        "write the function's path without quotes: `check = is_staff`"
    );
    let message = error(quote!(check = rules::is_staff(auth)));
    assert!(
        message.starts_with("write the function's path, not a call: `check = rules::is_staff`"),
        "{message}"
    );
    let message = error(quote!(check = |auth: &AuthInfo| auth.sub().is_some()));
    assert!(
        message.starts_with("a closure cannot be written in an attribute"),
        "{message}"
    );
    assert!(message.contains("Policy::check_with"), "{message}");
    let message = error(quote!(check = <Rules as Check>::is_staff));
    assert!(message.contains("qualified path"), "{message}");
    assert!(error(quote!(check = 42)).contains("expected the path of a function"));
    assert!(error(quote!(check = )).contains("expected the path of a function"));
    assert_eq!(
        error(quote!(check)),
        "`check` needs a value: `check = is_staff`"
    );
    assert!(error(quote!(check is_staff)).contains("expected `=`: write `check = is_staff`"));
    assert!(error(quote!(check = is_staff extra)).contains("unexpected token"));
}

#[test]
fn check_is_given_once_per_attribute() {
    let message = error(quote!(model = global_api, check = a, check = b));
    assert!(
        message.starts_with("duplicate argument `check`"),
        "{message}"
    );
    assert!(message.contains("stack another `#[requires]`"), "{message}");
    // Misnamed, it is still found.
    assert!(error(quote!(predicate = a)).contains("did you mean `check`?"));
    assert!(error(quote!(chek = a)).contains("did you mean `check`?"));
}
