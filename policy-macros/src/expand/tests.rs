//! Unit tests of `expand`: the code generated for each form of the
//! attribute, asserted on its tokens, and what is emitted on errors.

use super::*;
use crate::args::Args;
use quote::quote;

/// The expansion of `#[requires(args)] function`, as rustfmt would print it.
fn expanded(args: TokenStream, function: TokenStream) -> String {
    crate::requires_impl(args, function).to_string()
}

#[test]
fn path_source_converts_the_parameter_and_checks_with_it() {
    let code = expanded(
        quote!(model = org_resource, scopes("api:read"), org_from = path),
        quote!(
            pub async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
                Ok(org_id)
            }
        ),
    );
    assert!(
        code.contains(
            "let org_id = :: bearer_policy :: __private :: OrgIdRef (& org_id) ; let org_id = (& org_id) . org_id () ;"
        ),
        "{code}"
    );
    assert!(code.contains(
        ":: bearer_policy :: __private :: PolicySet :: decide_request (& org_data :: POLICY , & auth , :: core :: option :: Option :: Some (& * org_id)) ?"
    ), "{code}");
    assert!(code.contains("pub mod org_data"), "{code}");
    assert!(
        code.contains("pub static POLICY : :: bearer_policy :: __private :: Policy ="),
        "{code}"
    );
    assert!(
        code.contains(
            "OrgSource :: PathParam (:: bearer_policy :: __private :: Cow :: Borrowed (\"org_id\"))"
        ),
        "{code}"
    );
    assert!(
        code.contains(":: bearer_policy :: __private :: inventory :: submit !"),
        "{code}"
    );
    assert!(!code.contains("use super :: *"), "{code}");
    assert!(!code.contains("compile_error"), "{code}");
}

#[test]
fn owned_auth_info_becomes_the_authorized_type_converted_back_before_the_check() {
    let code = expanded(
        quote!(model = org_resource, scopes("api:read"), org_from = path),
        quote!(
            pub async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
                Ok(org_id)
            }
        ),
    );
    assert!(
        code.contains(
            "pub async fn org_data (org_id : String , auth : org_data :: Authorized) -> Result < impl Reply , Rejection > { \
             let auth : AuthInfo = :: bearer_policy :: __private :: AuthInfo :: from (auth) ; \
             { use :: bearer_policy :: __private :: { OrgIdViaDisplay as _ , OrgIdViaStr as _ } ;"
        ),
        "{code}"
    );
    assert_eq!(code.matches("AuthInfo :: from").count(), 1, "{code}");
}

#[test]
fn ref_and_mut_move_from_the_parameter_to_the_conversion() {
    let code = expanded(
        quote!(model = global_api),
        quote!(
            fn h(#[allow(unused_mut)] mut caller: bearer_policy::AuthInfo, n: u8) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(
        code.contains("fn h (# [allow (unused_mut)] caller : h :: Authorized , n : u8)"),
        "{code}"
    );
    assert!(
        code.contains("{ let __bearer_policy_routed = :: bearer_policy :: __private :: decided_on_route (& caller) ; let mut caller : bearer_policy :: AuthInfo = :: bearer_policy :: __private :: AuthInfo :: from (caller) ; if ! __bearer_policy_routed { :: bearer_policy :: __private :: PolicySet :: decide_request (& h :: POLICY , & caller ,"),
        "{code}"
    );
    let code = expanded(
        quote!(model = global_api),
        quote!(
            fn h(ref caller: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(code.contains("fn h (caller : h :: Authorized)"), "{code}");
    assert!(
        code.contains("let ref caller : AuthInfo = :: bearer_policy :: __private :: AuthInfo :: from (caller) ;"),
        "{code}"
    );
}

#[test]
fn borrowed_auth_info_stays_as_written() {
    let code = expanded(
        quote!(model = global_api),
        quote!(
            fn h(auth: &AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(code.contains("fn h (auth : & AuthInfo) -> Result < () , E > { :: bearer_policy :: __private :: PolicySet :: decide_request (& h :: POLICY , & auth ,"), "{code}");
    assert!(!code.contains("AuthInfo :: from"), "{code}");
    // The module declares the type all the same.
    assert!(code.contains("pub type Authorized ="), "{code}");
}

#[test]
fn the_module_declares_the_handler_and_its_authorized_type() {
    let code = expanded(
        quote!(model = global_api, crate = my::policy),
        quote!(
            pub(crate) fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(code.contains("pub (crate) mod h {"), "{code}");
    assert!(
        code.contains(
            "# [allow (dead_code)] pub struct Handler ; \
             impl my :: policy :: __private :: DeclaredHandler for Handler { \
             fn policies () -> & 'static [my :: policy :: __private :: Policy] { \
             my :: policy :: __private :: PolicySet :: policies (& POLICY) } \
             fn requirements () -> & 'static my :: policy :: __private :: RequirementsCell { \
             static REQUIREMENTS : my :: policy :: __private :: RequirementsCell = \
             my :: policy :: __private :: RequirementsCell :: new () ; & REQUIREMENTS } }"
        ),
        "{code}"
    );
    assert!(
        code.contains(
            "# [allow (dead_code)] pub type Authorized = my :: policy :: __private :: Authorized < Handler > ;"
        ),
        "{code}"
    );
    assert!(
        code.contains("The `AuthInfo` of `h()`, authorized by [`POLICY`]"),
        "{code}"
    );
    assert!(
        code.contains("convert the `AuthInfo` with `.into()`"),
        "{code}"
    );
}

#[test]
fn an_axum_path_binding_is_what_the_check_reads() {
    let code = expanded(
        quote!(model = org_resource, org_from = path),
        quote!(
            async fn h(Path((org_id, id)): Path<(String, u64)>, auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    // The pattern is kept; the check reads its binding.
    assert!(
        code.contains(
            "async fn h (Path ((org_id , id)) : Path < (String , u64) > , auth : h :: Authorized)"
        ),
        "{code}"
    );
    assert!(
        code.contains("let org_id = :: bearer_policy :: __private :: OrgIdRef (& org_id) ;"),
        "{code}"
    );
    // A struct field bound to another name: the policy names the field (the
    // route capture), the check reads the binding.
    let code = expanded(
        quote!(model = org_resource, org_from = path),
        quote!(
            async fn h(
                Path(Params { org_id: org, .. }): Path<Params>,
                auth: AuthInfo,
            ) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(
        code.contains("organization from path parameter `org_id`."),
        "{code}"
    );
    assert!(
        code.contains("let org = :: bearer_policy :: __private :: OrgIdRef (& org) ; let org = (& org) . org_id () ;"),
        "{code}"
    );
    assert!(code.contains("decide_request (& h :: POLICY , & auth , :: core :: option :: Option :: Some (& * org)) ?"), "{code}");
    assert!(
        code.contains(
            "OrgSource :: PathParam (:: bearer_policy :: __private :: Cow :: Borrowed (\"org_id\"))"
        ),
        "{code}"
    );
}

#[test]
fn header_and_query_sources_read_the_captured_request() {
    let code = expanded(
        quote!(
            model = org_permission,
            org_from = header("X-Organization-Id")
        ),
        quote!(
            fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(
        code.contains(
            "PolicySet :: decide_request (& h :: POLICY , & auth , :: core :: option :: Option :: None) ?"
        ),
        "{code}"
    );
}

#[test]
fn a_decision_the_route_made_is_not_made_twice_unless_the_handler_adds_an_organization() {
    let routed =
        "let __bearer_policy_routed = :: bearer_policy :: __private :: decided_on_route (& auth) ;";
    let skipped = "if ! __bearer_policy_routed { :: bearer_policy :: __private :: PolicySet :: decide_request";
    // Global and header policies read nothing of the handler's parameters:
    // the route's extractor decided all of it.
    for args in [
        quote!(model = global_api, scopes("api:read")),
        quote!(
            model = org_permission,
            org_from = header("X-Organization-Id")
        ),
    ] {
        let code = expanded(
            args,
            quote!(
                fn h(auth: AuthInfo) -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(code.contains(routed) && code.contains(skipped), "{code}");
    }
    // An organization from the handler's own parameter: decided again, with it.
    let code = expanded(
        quote!(model = org_resource, org_from = path),
        quote!(
            fn h(org_id: String, auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(!code.contains("__bearer_policy_routed"), "{code}");
    assert!(
        code.contains("decide_request (& h :: POLICY , & auth ,"),
        "{code}"
    );
    // A borrowed `&AuthInfo` came from no route's extractor: always decided.
    let code = expanded(
        quote!(model = global_api),
        quote!(
            fn h(auth: &AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(!code.contains("__bearer_policy_routed"), "{code}");
    assert!(
        code.contains("decide_request (& h :: POLICY , & auth ,"),
        "{code}"
    );
}

#[test]
fn global_api_checks_without_organization() {
    let code = expanded(
        quote!(model = global_api),
        quote!(
            fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(
        code.contains(
            "decide_request (& h :: POLICY , & auth , :: core :: option :: Option :: None) ?"
        ),
        "{code}"
    );
}

#[test]
fn stacked_attributes_yield_one_module_with_an_array() {
    let code = expanded(
        quote!(model = global_api, scopes("a")),
        quote! {
            #[requires(model = global_api, any_scopes("b", "c"))]
            #[bearer_policy::requires(model = global_api, scopes("d"))]
            fn h(auth: AuthInfo) -> Result<(), E> { Ok(()) }
        },
    );
    assert_eq!(code.matches("mod h").count(), 1, "{code}");
    assert!(
        code.contains("[:: bearer_policy :: __private :: Policy ; 3]"),
        "{code}"
    );
    assert!(!code.contains("# [requires"), "{code}");
    assert!(!code.contains("# [bearer_policy :: requires"), "{code}");
    assert!(code.contains("Declaration :: new (:: core :: concat ! (:: core :: module_path ! () , \"::h\") , & h :: POLICY ,)"), "{code}");
}

#[test]
fn stacked_attributes_with_different_sources_are_checked_at_once() {
    let code = expanded(
        quote!(model = org_resource, org_from = path),
        quote! {
            #[requires(model = org_permission, org_from = header("X-Org"))]
            #[requires(model = global_api)]
            fn h(org_id: u64, auth: AuthInfo) -> Result<(), E> { Ok(()) }
        },
    );
    // The header policy reads the captured request, whatever is passed.
    assert!(code.contains("PolicySet :: decide_request (& h :: POLICY , & auth , :: core :: option :: Option :: Some (& * org_id)) ?"), "{code}");
    assert_eq!(code.matches("decide_request").count(), 1, "{code}");
}

#[test]
fn stacked_attributes_with_different_path_parameters_are_checked_at_once_by_name() {
    let code = expanded(
        quote!(model = org_resource, org_from = path),
        quote! {
            #[requires(model = org_permission, org_from = path(team_id))]
            #[requires(model = org_permission, org_from = query("org"))]
            #[requires(model = global_api)]
            fn h(org_id: u64, team_id: String, auth: AuthInfo) -> Result<(), E> { Ok(()) }
        },
    );
    // One call, so that check functions run after every policy's claims.
    assert!(
        code.contains(
            ":: bearer_policy :: __private :: decide (& h :: POLICY , & auth , \
             :: bearer_policy :: __private :: PathParams :: Named (\
             & [(\"org_id\" , & * org_id) , (\"team_id\" , & * team_id)]) ,) ?"
        ),
        "{code}"
    );
    assert!(!code.contains("decide_request"), "{code}");
}

#[test]
fn a_check_function_is_called_through_check_fn_in_a_wrapper_of_one_type() {
    let code = expanded(
        quote!(
            model = global_api,
            scopes("api:read"),
            check = rules::is_staff
        ),
        quote!(
            fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(
        code.contains(
            "pub static POLICY : :: bearer_policy :: __private :: Policy = \
             :: bearer_policy :: __private :: Policy :: from_static (\
             :: bearer_policy :: __private :: Model :: GlobalApi , \
             & [:: bearer_policy :: __private :: Cow :: Borrowed (\"api:read\")] , & [] , \
             :: core :: option :: Option :: None , :: core :: option :: Option :: None , \
             :: core :: option :: Option :: Some (\
             :: bearer_policy :: __private :: Check :: item (\"rules::is_staff\" , \
             :: bearer_policy :: __private :: check_name_of (& rules :: is_staff) , \
             { fn __bearer_policy_check (auth : & :: bearer_policy :: __private :: AuthInfo) \
             -> :: core :: result :: Result < () , :: bearer_policy :: __private :: Denied > \
             { :: bearer_policy :: __private :: CheckFn :: call_check (& rules :: is_staff , auth) } \
             __bearer_policy_check } ,)) , & [] ,) ;"
        ),
        "{code}"
    );
    // The module sees the handler's names, where `rules` is.
    assert!(code.contains("use super :: * ;"), "{code}");
    // The handler checks it as any policy: through `decide_request`.
    assert!(
        code.contains("PolicySet :: decide_request (& h :: POLICY , & auth ,"),
        "{code}"
    );
}

#[test]
fn a_check_path_is_seen_from_the_module_and_named_as_written() {
    for (written, from_module, relative) in [
        (quote!(self::is_staff), "super :: is_staff", true),
        (
            quote!(super::rules::is_staff),
            "super :: super :: rules :: is_staff",
            true,
        ),
        (
            quote!(crate::rules::is_staff),
            "crate :: rules :: is_staff",
            false,
        ),
        (quote!(::other::is_staff), ":: other :: is_staff", false),
        (quote!(is_staff), "is_staff", true),
        (quote!(has_role::<Admin>), "has_role :: < Admin >", true),
    ] {
        let code = expanded(
            quote!(model = global_api, check = #written),
            quote!(
                fn h(auth: &AuthInfo) -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            code.contains(&format!("check_name_of (& {from_module})")),
            "{written}: {code}"
        );
        assert!(
            code.contains(&format!("call_check (& {from_module} , auth)")),
            "{written}: {code}"
        );
        assert_eq!(
            code.contains("use super :: * ;"),
            relative,
            "{written}: {code}"
        );
    }
}

#[test]
fn each_stacked_attribute_keeps_its_own_check() {
    let code = expanded(
        quote!(model = global_api, check = is_staff),
        quote! {
            #[requires(model = org_permission, org_from = header("X-Org"), check = in_tenant)]
            #[requires(model = global_api)]
            fn h(auth: AuthInfo) -> Result<(), E> { Ok(()) }
        },
    );
    assert_eq!(
        code.matches("Option :: Some (:: bearer_policy :: __private :: Check :: item")
            .count(),
        2,
        "{code}"
    );
    assert_eq!(code.matches("Policy :: from_static (").count(), 3, "{code}");
    let staff = code.find("Check :: item (\"is_staff\"").expect("is_staff");
    let tenant = code
        .find("Check :: item (\"in_tenant\"")
        .expect("in_tenant");
    assert!(staff < tenant, "in attribute order: {code}");
}

#[test]
fn crate_argument_replaces_the_runtime_path_everywhere() {
    let code = expanded(
        quote!(model = global_api, crate = my::policy),
        quote!(
            fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(!code.contains("bearer_policy ::"), "{code}");
    assert!(
        code.contains("my :: policy :: __private :: inventory :: submit !"),
        "{code}"
    );
}

#[test]
fn scope_constants_are_asserted_and_seen_from_the_module() {
    let code = expanded(
        quote!(
            model = global_api,
            scopes(Api::READ, self::Api::WRITE, "lit")
        ),
        quote!(
            fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(code.contains("const _ : () = :: bearer_policy :: __private :: assert_scopes (& [Api :: READ , self :: Api :: WRITE , \"lit\"]) ;"), "{code}");
    assert!(code.contains("use super :: * ;"), "{code}");
    assert!(
        code.contains("Cow :: Borrowed (super :: Api :: WRITE)"),
        "{code}"
    );
}

#[test]
fn cfg_attributes_are_repeated_on_the_generated_items() {
    let code = expanded(
        quote!(model = global_api),
        quote!(
            #[cfg(feature = "x")]
            fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert_eq!(
        code.matches("# [cfg (feature = \"x\")]").count(),
        3,
        "{code}"
    );
}

#[test]
fn errors_come_with_the_function_and_an_empty_module() {
    let code = expanded(
        quote!(model = global),
        quote!(
            pub fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(code.contains("compile_error"), "{code}");
    assert!(
        code.contains("pub fn h (auth : AuthInfo) -> Result < () , E > { Ok (()) }"),
        "{code}"
    );
    assert!(
        code.contains("pub static POLICY : [:: bearer_policy :: __private :: Policy ; 0] = [] ;"),
        "{code}"
    );
    // Routes naming the type keep resolving; the function is not rewritten.
    assert!(
        code.contains(
            "pub type Authorized = :: bearer_policy :: __private :: Authorized < Handler > ;"
        ),
        "{code}"
    );
    assert!(
        code.contains("impl :: bearer_policy :: __private :: DeclaredHandler for Handler"),
        "{code}"
    );
}

#[test]
fn a_function_syn_cannot_read_is_kept_with_its_policy_module_and_one_error() {
    let code = expanded(
        quote!(model = org_resource, scopes("api:read"), org_from = path),
        quote! {
            #[requires(model = global_api, scopes("admin"))]
            #[inline]
            pub async fn org_data(org_id: String, auth: AuthInfo) -> Result<(), E> {
                let half_typed = ;
                Ok(())
            }
        },
    );
    assert_eq!(code.matches("compile_error").count(), 1, "{code}");
    assert!(
        code.contains(
            "`#[requires]` could not read the function `org_data`, so it cannot check its policy: "
        ),
        "{code}"
    );
    // The user's tokens as written, without the stacked attribute read here.
    assert!(
        code.contains("# [inline] pub async fn org_data (org_id : String , auth : AuthInfo) -> Result < () , E > { let half_typed = ; Ok (()) }"),
        "{code}"
    );
    assert!(!code.contains("# [requires"), "{code}");
    assert!(code.contains("pub mod org_data"), "{code}");
    assert!(
        code.contains("pub static POLICY : [:: bearer_policy :: __private :: Policy ; 2] ="),
        "{code}"
    );
    assert!(
        code.contains(
            "OrgSource :: PathParam (:: bearer_policy :: __private :: Cow :: Borrowed (\"org_id\"))"
        ),
        "{code}"
    );
    // Written as it was: its `AuthInfo` is not rewritten, yet routes naming
    // `org_data::Authorized` resolve.
    assert!(
        code.contains(
            "pub type Authorized = :: bearer_policy :: __private :: Authorized < Handler > ;"
        ),
        "{code}"
    );
    // Not protected, so not declared as protected either.
    assert!(!code.contains("decide_request"), "{code}");
    assert!(!code.contains("inventory"), "{code}");
}

#[test]
fn a_function_syn_cannot_read_with_wrong_arguments_gets_an_empty_module() {
    let code = expanded(
        quote!(model = global),
        quote!(
            fn h(auth: AuthInfo) -> Result<(), E> {
                let x = ;
            }
        ),
    );
    assert_eq!(code.matches("compile_error").count(), 2, "{code}");
    assert!(code.contains("could not read the function `h`"), "{code}");
    assert!(code.contains("unknown model `global`"), "{code}");
    assert!(
        code.contains("static POLICY : [:: bearer_policy :: __private :: Policy ; 0] = [] ;"),
        "{code}"
    );
    assert!(code.contains("pub type Authorized ="), "{code}");
}

#[test]
fn a_method_syn_cannot_read_is_refused_as_a_method() {
    let code = expanded(
        quote!(model = global_api),
        quote!(
            fn h(&self, auth: AuthInfo) -> Result<(), E> {
                let x = ;
            }
        ),
    );
    assert_eq!(code.matches("compile_error").count(), 1, "{code}");
    assert!(code.contains("not methods"), "{code}");
    assert!(!code.contains("mod h"), "{code}");
    assert!(code.contains("fn h (& self , auth : AuthInfo)"), "{code}");
}

#[test]
fn non_functions_are_refused_and_kept() {
    let code = expanded(
        quote!(model = global_api),
        quote!(
            struct S;
        ),
    );
    assert!(code.contains("applies to functions"), "{code}");
    assert!(code.contains("a struct"), "{code}");
    assert!(code.contains("struct S ;"), "{code}");
}

#[test]
fn descriptions_read_as_sentences() {
    let args = Args::parse(
        quote!(
            model = org_resource,
            scopes("a", "b"),
            any_scopes(Roles::X),
            audience = "https://a",
            org_from = query("org")
        ),
        Span::call_site(),
    )
    .unwrap();
    let function: ItemFn = syn::parse_quote!(
        fn h(auth: AuthInfo) -> Result<(), E> {
            Ok(())
        }
    );
    let plan = crate::valid::validate(&function, vec![Ok(args)]).unwrap();
    assert_eq!(
        describe(&plan.policies[0]),
        "Model `org_resource`; requires scopes `a`, `b`; requires one of `Roles::X`; \
         audience `https://a`; organization from query parameter `org`."
    );
    let args = Args::parse(
        quote!(model = global_api, check = crate::rules::is_staff),
        Span::call_site(),
    )
    .unwrap();
    let plan = crate::valid::validate(&function, vec![Ok(args)]).unwrap();
    assert_eq!(
        describe(&plan.policies[0]),
        "Model `global_api`; check function `crate::rules::is_staff`."
    );
}

#[test]
fn relative_paths_are_rewritten_for_the_module() {
    let path = |tokens: TokenStream| from_module(&syn::parse2(tokens).unwrap()).to_string();
    assert_eq!(path(quote!(self::A::B)), "super :: A :: B");
    assert_eq!(path(quote!(super::A::B)), "super :: super :: A :: B");
    assert_eq!(path(quote!(crate::A::B)), "crate :: A :: B");
    assert_eq!(path(quote!(A::B)), "A :: B");
    let relative: Path = syn::parse_quote!(A::B);
    assert!(is_relative(&relative));
    let absolute: Path = syn::parse_quote!(::a::B);
    assert!(!is_relative(&absolute));
}

#[test]
fn accepted_issuers_are_emitted_as_the_policy_s_last_part_and_documented() {
    let code = expanded(
        quote!(
            model = global_api,
            issuers("https://partner.example", "internal-signer")
        ),
        quote!(
            fn h(auth: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(
        code.contains(
            ":: core :: option :: Option :: None , \
             & [:: bearer_policy :: __private :: Cow :: Borrowed (\"https://partner.example\") , \
             :: bearer_policy :: __private :: Cow :: Borrowed (\"internal-signer\")] ,) ;"
        ),
        "{code}"
    );
    assert!(
        code.contains("tokens of `https://partner.example`, `internal-signer` only"),
        "{code}"
    );
}
