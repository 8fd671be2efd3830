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
