//! Unit tests of `valid`: the plan of each accepted form of the function,
//! and the message of each refused one.

use super::*;
use quote::quote;

fn plan(args: proc_macro2::TokenStream, function: proc_macro2::TokenStream) -> syn::Result<Plan> {
    let function: ItemFn = syn::parse2(function).unwrap();
    validate(&function, vec![Args::parse(args, Span::call_site())])
}

/// The first policy's organization parameter: (the name the policy
/// records, the identifier the check reads).
fn org_binding(plan: &Plan) -> Option<(String, String)> {
    match plan.policies.first()?.org.as_ref()? {
        OrgPlan::Param { name, binding, .. } => Some((name.clone(), binding.to_string())),
        OrgPlan::Route { .. } | OrgPlan::Header(_) | OrgPlan::Query(_) => None,
    }
}

fn error(args: proc_macro2::TokenStream, function: proc_macro2::TokenStream) -> String {
    match plan(args, function) {
        Ok(plan) => panic!("expected an error, got {plan:?}"),
        Err(error) => error
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn a_warp_handler_yields_a_plan() {
    let plan = plan(
        quote!(model = org_resource, scopes("api:read"), org_from = path),
        quote!(
            async fn h(
                org_id: String,
                auth: bearer_policy::AuthInfo,
            ) -> Result<impl Reply, Rejection> {
                todo!()
            }
        ),
    )
    .unwrap();
    assert_eq!(plan.auth.binding, "auth");
    assert_eq!(plan.auth.owned.as_ref().map(|owned| owned.index), Some(1));
    assert_eq!(path_text(&plan.krate), "::bearer_policy");
    let policy = &plan.policies[0];
    assert_eq!(policy.model, Model::OrgResource);
    assert_eq!(
        org_binding(&plan),
        Some(("org_id".to_owned(), "org_id".to_owned()))
    );
}

#[test]
fn auth_info_may_be_borrowed_and_named_anything() {
    let plan = plan(
        quote!(model = global_api),
        quote!(
            fn h(_caller: &AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    )
    .unwrap();
    assert_eq!(plan.auth.binding, "_caller");
    // Borrowed, it stays as written: nothing to convert.
    assert!(plan.auth.owned.is_none());
}

#[test]
fn owned_auth_info_keeps_its_ref_and_mut_for_the_conversion() {
    let plan = plan(
        quote!(model = global_api),
        quote!(
            fn h(id: u64, mut caller: ::bearer_policy::AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    )
    .unwrap();
    assert_eq!(plan.auth.binding, "caller");
    let owned = plan.auth.owned.unwrap();
    assert_eq!(owned.index, 1);
    assert!(owned.mutability.is_some());
    assert!(owned.by_ref.is_none());
}

#[test]
fn missing_auth_info_says_what_to_add() {
    let message = error(
        quote!(model = global_api),
        quote!(
            fn h() -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(
        message.contains("add a parameter `auth: AuthInfo` to `h`"),
        "{message}"
    );
}

#[test]
fn two_auth_infos_are_an_error() {
    let message = error(
        quote!(model = global_api),
        quote!(
            fn h(a: AuthInfo, b: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(message.contains("more than one `AuthInfo`"), "{message}");
}

#[test]
fn unnamed_auth_info_is_an_error() {
    let message = error(
        quote!(model = global_api),
        quote!(
            fn h(_: AuthInfo) -> Result<(), E> {
                Ok(())
            }
        ),
    );
    assert!(message.contains("name this parameter"), "{message}");
}

#[test]
fn return_type_must_be_a_result() {
    assert!(
        error(
            quote!(model = global_api),
            quote!(
                fn h(a: AuthInfo) {}
            )
        )
        .contains("add `-> Result<impl warp::Reply")
    );
    assert!(
        error(
            quote!(model = global_api),
            quote!(
                fn h(a: AuthInfo) -> String {
                    todo!()
                }
            )
        )
        .contains("`String` is not a `Result`")
    );
    assert!(
        error(
            quote!(model = global_api),
            quote!(
                fn h(a: AuthInfo) -> impl Reply {
                    todo!()
                }
            )
        )
        .contains("not a `Result`")
    );
    assert!(
        plan(
            quote!(model = global_api),
            quote!(
                fn h(a: AuthInfo) -> std::io::Result<()> {
                    todo!()
                }
            )
        )
        .is_ok()
    );
    assert!(
        plan(
            quote!(model = global_api),
            quote!(
                fn h(a: AuthInfo) -> ApiResult<u8> {
                    todo!()
                }
            )
        )
        .is_ok()
    );
}

#[test]
fn model_and_org_from_must_agree() {
    let message = error(
        quote!(model = global_api, org_from = path),
        quote!(
            fn h(org_id: String, a: AuthInfo) -> Result<(), E> {
                todo!()
            }
        ),
    );
    assert!(
        message.contains("`org_from` has no meaning with `model = global_api`"),
        "{message}"
    );
    for model in [quote!(org_permission), quote!(org_resource)] {
        let message = error(
            quote!(model = #model),
            quote!(
                fn h(a: AuthInfo) -> Result<(), E> {
                    todo!()
                }
            ),
        );
        assert!(
            message.contains("needs to know the request's organization"),
            "{message}"
        );
    }
    let message = error(
        quote!(scopes("a")),
        quote!(
            fn h(a: AuthInfo) -> Result<(), E> {
                todo!()
            }
        ),
    );
    assert!(message.contains("missing `model`"), "{message}");
}

#[test]
fn path_source_needs_the_parameter() {
    let message = error(
        quote!(model = org_resource, org_from = path),
        quote!(
            fn h(a: AuthInfo) -> Result<(), E> {
                todo!()
            }
        ),
    );
    assert_eq!(
        message,
        "`org_from = path` reads the organization id from a parameter named `org_id`, \
         but `h` has none: add a parameter `org_id: String` (warp), \
         or bind it from the path: `Path(org_id): Path<String>` (axum), `org_id: web::Path<String>` (actix)"
    );
    let message = error(
        quote!(model = org_resource, org_from = path(tenant)),
        quote!(
            fn h(a: AuthInfo) -> Result<(), E> {
                todo!()
            }
        ),
    );
    assert!(message.contains("`org_from = path(tenant)`"), "{message}");
    assert!(
        message.contains("add a parameter `tenant: String` (warp)"),
        "{message}"
    );
    assert!(
        message.contains("`Path(tenant): Path<String>` (axum)"),
        "{message}"
    );
}

#[test]
fn path_source_is_found_in_axum_path_patterns() {
    // (the parameters, the identifier the check reads)
    let cases = [
        (quote!(Path(org_id): Path<String>), "org_id"),
        (
            quote!(axum::extract::Path(org_id): axum::extract::Path<String>),
            "org_id",
        ),
        (quote!(Path((org_id, id)): Path<(String, u64)>), "org_id"),
        (
            quote!(Path((id, mut org_id)): Path<(u64, String)>),
            "org_id",
        ),
        (
            quote!(Path((id, org_id, ..)): Path<(u64, String, u8)>),
            "org_id",
        ),
        (quote!(Path(Params { org_id, .. }): Path<Params>), "org_id"),
        (
            quote!(Path(Params { id, ref org_id }): Path<Params>),
            "org_id",
        ),
        // The field names the route capture; the body reads the binding.
        (
            quote!(Path(Params { org_id: org, .. }): Path<Params>),
            "org",
        ),
        (quote!(Path(Pair { 0: org_id, .. }): Path<Pair>), "org_id"),
        (quote!(Path(OrgId(org_id)): Path<OrgId>), "org_id"),
        (
            quote!(State(s): State<S>, Path(org_id): Path<String>),
            "org_id",
        ),
    ];
    for (params, binding) in cases {
        let plan = plan(
            quote!(model = org_resource, org_from = path),
            quote!(
                async fn h(#params, auth: AuthInfo) -> Result<String, E> {
                    todo!()
                }
            ),
        )
        .unwrap_or_else(|error| panic!("{params}: {error}"));
        assert_eq!(
            org_binding(&plan),
            Some(("org_id".to_owned(), binding.to_owned())),
            "{params}"
        );
    }
    let plan = plan(
        quote!(model = org_resource, org_from = path(tenant)),
        quote!(
            async fn h(Path(Ids { tenant: t, .. }): Path<Ids>, auth: AuthInfo) -> Result<(), E> {
                todo!()
            }
        ),
    )
    .unwrap();
    assert_eq!(
        org_binding(&plan),
        Some(("tenant".to_owned(), "t".to_owned()))
    );
}

#[test]
fn path_source_is_not_read_from_other_extractors() {
    for params in [
        quote!(Query(org_id): Query<String>),
        quote!(Json(Body { org_id, .. }): Json<Body>),
        quote!((org_id, id): (String, u64)),
        quote!(Path(id): Path<u64>),
    ] {
        let message = error(
            quote!(model = org_resource, org_from = path),
            quote!(
                fn h(#params, auth: AuthInfo) -> Result<(), E> {
                    todo!()
                }
            ),
        );
        assert!(
            message.contains("or bind it from the path: `Path(org_id): Path<String>` (axum), `org_id: web::Path<String>` (actix)"),
            "{params}: {message}"
        );
    }
}

#[test]
fn path_field_bound_to_the_name_from_another_field_is_an_error() {
    let message = error(
        quote!(model = org_resource, org_from = path),
        quote!(
            fn h(
                Path(Params { tenant: org_id, .. }): Path<Params>,
                auth: AuthInfo,
            ) -> Result<(), E> {
                todo!()
            }
        ),
    );
    assert_eq!(
        message,
        "`org_id` is bound from the path field `tenant`, but the policy reads the path \
         parameter named `org_id`: write `org_from = path(tenant)`, or bind the field `org_id`"
    );
}

#[test]
fn path_field_bound_to_a_pattern_is_an_error() {
    let message = error(
        quote!(model = org_resource, org_from = path),
        quote!(
            fn h(
                Path(Params {
                    org_id: OrgId(inner),
                    ..
                }): Path<Params>,
                auth: AuthInfo,
            ) -> Result<(), E> {
                todo!()
            }
        ),
    );
    assert!(
        message.contains("bind the path field `org_id` to a name, e.g. `org_id` or `org_id: org`"),
        "{message}"
    );
}

#[test]
fn audience_is_refused_for_organization_permissions() {
    let message = error(
        quote!(
            model = org_permission,
            audience = "https://a",
            org_from = header("X-Org")
        ),
        quote!(
            fn h(a: AuthInfo) -> Result<(), E> {
                todo!()
            }
        ),
    );
    assert!(message.contains("`audience` has no effect"), "{message}");
}

#[test]
fn methods_and_const_fns_are_refused() {
    assert!(
        error(
            quote!(model = global_api),
            quote!(
                fn h(&self, a: AuthInfo) -> Result<(), E> {
                    todo!()
                }
            )
        )
        .contains("not methods")
    );
    assert!(
        error(
            quote!(model = global_api),
            quote!(
                const fn h(a: AuthInfo) -> Result<(), E> {
                    todo!()
                }
            )
        )
        .contains("`const fn`")
    );
}

#[test]
fn stacked_attributes_must_agree_on_the_crate() {
    let function: ItemFn = syn::parse2(quote!(
        fn h(a: AuthInfo) -> Result<(), E> {
            todo!()
        }
    ))
    .unwrap();
    let stacked = vec![
        Args::parse(
            quote!(model = global_api, crate = a::policy),
            Span::call_site(),
        ),
        Args::parse(
            quote!(model = global_api, crate = b::policy),
            Span::call_site(),
        ),
    ];
    let message = validate(&function, stacked).unwrap_err().to_string();
    assert!(message.contains("conflicting `crate` paths"), "{message}");
}

#[test]
fn without_a_function_parameters_are_taken_at_their_word() {
    let (krate, policies) = validate_without_function(vec![
        Args::parse(
            quote!(model = org_resource, org_from = path(tenant)),
            Span::call_site(),
        ),
        Args::parse(quote!(model = global_api), Span::call_site()),
    ])
    .unwrap();
    assert_eq!(path_text(&krate), "::bearer_policy");
    assert_eq!(policies.len(), 2);
    assert!(
        matches!(&policies[0].org, Some(OrgPlan::Param { binding, .. }) if binding == "tenant")
    );
    // The rules between the arguments still hold.
    let message = validate_without_function(vec![Args::parse(
        quote!(model = org_resource),
        Span::call_site(),
    )])
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("needs to know the request's organization"),
        "{message}"
    );
}

#[test]
fn each_policy_carries_its_own_check_with_or_without_the_function() {
    let function: ItemFn = syn::parse_quote!(
        fn h(auth: AuthInfo) -> Result<(), E> {
            Ok(())
        }
    );
    let stacked = || {
        vec![
            Args::parse(
                quote!(model = global_api, check = rules::is_staff),
                Span::call_site(),
            ),
            Args::parse(quote!(model = global_api), Span::call_site()),
        ]
    };
    let checks = |policies: &[PolicyPlan]| -> Vec<Option<String>> {
        policies
            .iter()
            .map(|policy| policy.check.as_ref().map(path_text))
            .collect()
    };
    let plan = validate(&function, stacked()).unwrap();
    assert_eq!(
        checks(&plan.policies),
        [Some("rules::is_staff".to_owned()), None]
    );
    let (_, policies) = validate_without_function(stacked()).unwrap();
    assert_eq!(
        checks(&policies),
        [Some("rules::is_staff".to_owned()), None]
    );
}

#[test]
fn signature_and_argument_errors_are_reported_together() {
    let message = error(
        quote!(model = org_resource),
        quote!(
            fn h() {}
        ),
    );
    assert_eq!(message.lines().count(), 3, "{message}");
}

#[test]
fn a_body_extractor_before_auth_is_refused_with_where_to_put_it() {
    let message = error(
        quote!(model = global_api, scopes("api:write")),
        quote!(
            async fn h(
                body: web::Json<Value>,
                org_id: web::Path<String>,
                raw: Bytes,
                auth: AuthInfo,
                after: web::Json<Value>,
            ) -> Result<String, Rejected> {
                Ok(String::new())
            }
        ),
    );
    assert_eq!(
        message.matches("reads the request body").count(),
        2,
        "{message}"
    );
    assert!(
        message.contains("`web::Json` reads the request body"),
        "{message}"
    );
    assert!(
        message.contains("`Bytes` reads the request body"),
        "{message}"
    );
    assert!(
        message.contains("move it after `auth: AuthInfo`"),
        "{message}"
    );
}

#[test]
fn an_actix_path_taken_whole_leaves_the_organization_to_the_route() {
    let plan = plan(
        quote!(model = org_resource, scopes("api:read"), org_from = path),
        quote!(
            async fn h(path: web::Path<(String, u32)>, auth: AuthInfo) -> Result<String, Rejected> {
                Ok(String::new())
            }
        ),
    )
    .unwrap();
    assert!(matches!(
        plan.policies[0].org,
        Some(OrgPlan::Route { ref name }) if name == "org_id"
    ));
    // Under its own name, the binding is the parameter, as in warp.
    let plan = plan_of_named();
    assert_eq!(
        org_binding(&plan),
        Some(("org_id".to_owned(), "org_id".to_owned()))
    );
}

fn plan_of_named() -> Plan {
    plan(
        quote!(model = org_resource, scopes("api:read"), org_from = path),
        quote!(
            async fn h(org_id: web::Path<String>, auth: AuthInfo) -> Result<String, Rejected> {
                Ok(String::new())
            }
        ),
    )
    .unwrap()
}
