//! The `#[requires]` attribute of the [`bearer-policy`](https://docs.rs/bearer-policy)
//! crate. Depend on `bearer-policy` and write `use bearer_policy::requires;`; this crate is
//! an implementation detail whose generated code reaches the runtime only
//! through `bearer_policy`'s hidden `__private` module.
//!
//! The attribute is parsed into a plain struct (`args`), validated against
//! the function it annotates (`valid`), and only then expanded (`expand`);
//! the helpers behind the compile errors of all three live in `diagnostics`.
//! An item that syn cannot read as a function is read leniently
//! (`lenient_fn`), just far enough to keep its policy module.

use proc_macro::TokenStream;
use proc_macro2::Span;
use syn::ItemFn;

mod args;
mod diagnostics;
mod expand;
mod lenient_fn;
mod valid;

use lenient_fn::LenientFn;

/// Declares the permission a handler requires; the body runs only when the
/// caller's access token satisfies it.
///
/// ```
/// use bearer_policy::{requires, AuthInfo};
/// use warp::{Rejection, Reply};
///
/// #[requires(model = org_resource, scopes("api:read"), org_from = path)]
/// pub async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
///     Ok(format!("data of {org_id}"))
/// }
/// ```
///
/// # Grammar
///
/// ```text
/// #[requires(
///     model = global_api | org_permission | org_resource,   // required
///     scopes(SCOPE, ...),        // optional: every one of these is required
///     any_scopes(SCOPE, ...),    // optional: at least one of these is required
///     audience = "URI",          // optional: overrides the validator's audience
///     org_from = path | path(PARAMETER) | header("NAME") | query("NAME"),
///     check = path::to::function, // optional: a rule beyond scopes, run last
///     crate = PATH,              // optional: where `bearer_policy` is, default `::bearer_policy`
/// )]
///
/// SCOPE = "string literal" | path::to::CONSTANT
/// ```
///
/// Arguments are named, may come in any order, and each may be given once.
///
/// - **`model`** (required): the permission model of the token,
///   `global_api`, `org_permission` or `org_resource`, explained in
///   [the models guide](https://docs.rs/bearer-policy/latest/bearer_policy/guide/models/index.html).
/// - **`scopes(...)`**: every listed scope must be granted. Default: none.
/// - **`any_scopes(...)`**: at least one listed scope must be granted.
///   Default: no such requirement. A scope may not appear in both lists.
///
///   A scope is a string literal or a path to a `&str` constant, such as one
///   declared with [`bearer_policy::scopes!`](https://docs.rs/bearer-policy/latest/bearer_policy/macro.scopes.html),
///   so that a misspelt scope is a compile error. A scope is an RFC 6749
///   scope-token (visible ASCII other than `"` and `\`, no whitespace), and a
///   list may not name a scope twice; both rules are checked at compile
///   time, for constants too.
/// - **`issuers("...", ...)`**: the trusted issuers whose tokens the policy
///   accepts, each as the `Validator` names it (`AuthInfo::issuer`). Default:
///   every issuer the validator trusts. A token of another trusted issuer is
///   refused with 403 `issuer_not_allowed` before anything else is decided,
///   so a route of one tenant or partner stays closed to the others' tokens.
///   String literals, each once, none empty or holding whitespace (checked at
///   compile time); whether the validator trusts them is known only at run
///   time.
/// - **`audience = "..."`**: the API resource indicator the token's `aud`
///   must hold, as a string literal holding an absolute URI. Default: the
///   audience configured on the `Validator`. Not allowed with
///   `org_permission`, whose audience is always the organization's URN.
/// - **`org_from`** (required by `org_permission` and `org_resource`,
///   refused by `global_api`): where the request's organization id comes from.
///   - `path`: the path parameter `org_id`, where the handler binds it:
///     - in warp, where path segments arrive as handler parameters, the
///       parameter named `org_id`;
///     - in actix-web, `org_id: web::Path<String>`, or any `web::Path`
///       taken whole (`path: web::Path<(String, u64)>`), whose route
///       parameter of that name the extractor reads;
///     - in axum, a binding in the pattern of the `Path` extractor:
///       `Path(org_id): Path<String>`, inside a tuple
///       `Path((org_id, id)): Path<(String, u64)>`, or the field `org_id` of
///       `Path(Params { org_id, .. }): Path<Params>`. A field is matched by
///       its name, the route capture it comes from (`/orgs/{org_id}`); bound
///       to another name (`Params { org_id: org, .. }`), the check reads
///       that name.
///   - `path(name)`: the same, for `name`;
///
///     The value may be a `String`, a `&str`, anything that derefs to
///     `str`, or anything that implements `Display` (numbers, UUIDs).
///   - `header("X-Organization-Id")`: a request header;
///   - `query("organization_id")`: a query-string parameter.
///
///     Header and query values are read from the request that the front end
///     (warp's filters, axum's extractors, the tower layer) captured with the
///     `AuthInfo`. In tests, attach one with `AuthInfo::with_request`.
/// - **`check = path`**: a check function, for a rule that scopes cannot
///   express (a role claim, an email domain, a tenant flag): the path of a
///   function `fn(&AuthInfo) -> bool`, or `fn(&AuthInfo) -> Result<(), Denied>`
///   to choose the denial (see [below](#check-functions)). Default: none.
/// - **`crate = path`**: for crates that re-export `bearer_policy`, the path to it
///   (`crate = my_api::bearer_policy`). A string holding the path is accepted too.
///
/// # The function
///
/// `#[requires]` applies to a free function, `async` or not, generic or not:
///
/// - with exactly one parameter whose type is `AuthInfo` (by value or by
///   reference, written `AuthInfo`, `bearer_policy::AuthInfo` or any path ending in
///   `AuthInfo`), whatever its name;
/// - returning `Result<T, E>` where `E: From<bearer_policy::Denied>` (a type alias
///   whose name ends in `Result` is accepted too). `bearer_policy` implements the
///   conversion for `warp::Rejection`, so a warp handler returning
///   `Result<impl Reply, Rejection>` just works; implement it for your own
///   error types.
///
/// Its generics, visibility, attributes and docs are kept, and so is its
/// signature but for one type: an `AuthInfo` taken by value becomes
/// `handler::Authorized` (below), the same `AuthInfo` typed by the handler's
/// declaration, which the body still sees as an `AuthInfo` under its own
/// name. A borrowed `&AuthInfo` stays as written.
///
/// At the top of the body the policy is checked; when it does not hold, the
/// function returns `Err(E::from(denied))` without running the body. The
/// check is cheap: the token was verified when the `AuthInfo` was made.
///
/// ```text
/// pub async fn org_data(org_id: String, auth: org_data::Authorized) -> Result<impl Reply, Rejection> {
///     let auth: AuthInfo = AuthInfo::from(auth);
///     /* the policy check, reading `org_id` and `auth` */
///     Ok(format!("data of {org_id}"))
/// }
/// ```
///
/// # The policy module
///
/// Beside the function, the attribute emits a module of the same name and
/// visibility holding the policy, built once as a `static`, and the types
/// that carry it in the handler's signature:
///
/// ```text
/// pub mod org_data {
///     pub static POLICY: bearer_policy::Policy = /* ... */;
///     /// `org_data()` as a type: its `DeclaredHandler::policies()` are `POLICY`.
///     pub struct Handler;
///     /// The handler's `AuthInfo`, authorized by `POLICY`.
///     pub type Authorized = bearer_policy::Authorized<Handler>;
/// }
/// ```
///
/// In axum (feature `axum`), `Authorized` is the extractor that
/// authenticates the request and checks `POLICY` before any body extractor
/// runs: the attribute is the whole protection, and the route needs nothing
/// more.
///
/// In actix-web (feature `actix`), `Authorized` is the extractor too, and
/// holds the request's payload back from the extractors after it until it
/// has decided. actix extracts parameters in order, so a body extractor
/// (`web::Json`, `web::Form`, `web::Bytes`, `web::Payload`, `Multipart`…)
/// written before the `AuthInfo` parameter is a compile error saying to move
/// it after. `org_from = path` there is `org_id: web::Path<String>`, or a
/// `web::Path` tuple or struct holding the route's `{org_id}` (its field is
/// private, so the route's extractor decides it by name, and a direct call
/// of such a handler is refused: no route names its organization).
///
/// In warp, the route checks `POLICY` **before its body filters**. A check
/// inside the handler runs after warp has extracted everything else: a caller
/// without permission who sends a malformed body would get 400 instead of
/// 403, and the server would parse bodies for callers it will refuse. The
/// recommended route order is path, then authorization, then body, then the
/// handler:
///
/// ```
/// # use bearer_policy::{requires, AuthInfo};
/// # use warp::{Filter, Rejection, Reply};
/// #[requires(model = global_api, scopes("products:write"))]
/// async fn create_product(auth: AuthInfo, product: serde_json::Value) -> Result<impl Reply, Rejection> {
///     Ok(warp::reply::json(&product))
/// }
///
/// fn routes(v: bearer_policy::Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
///     warp::post()
///         .and(warp::path!("products"))
///         .and(bearer_policy::warp::authorize(v.clone(), &create_product::POLICY))
///         .and(warp::body::json())
///         .and_then(create_product)
/// }
/// ```
///
/// For an organization taken from the path, use
/// `bearer_policy::warp::authorize_path(warp::path!("orgs" / String / ..), v, &handler::POLICY)`,
/// which extracts `(org_id, handler::Authorized)`. The check in the handler
/// stays as a safety net.
///
/// A route that composes `bearer_policy::warp::authenticate(v)` with the
/// handler also works: `authenticate` yields the handler's `Authorized`.
/// When no policy reads a path parameter, it decides `POLICY` before the body
/// filters and the handler does not decide it again; otherwise the handler
/// decides it in its body:
///
/// ```
/// # use bearer_policy::{requires, AuthInfo};
/// # use warp::{Filter, Rejection, Reply};
/// #[requires(model = org_resource, scopes("api:read"), org_from = path)]
/// async fn org_data(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
///     Ok(format!("data of {org_id}"))
/// }
///
/// fn route(v: bearer_policy::Validator) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
///     warp::path!("orgs" / String / "data")
///         .and(bearer_policy::warp::authenticate(v))
///         .and_then(org_data)
/// }
/// ```
///
/// # Calling a handler directly
///
/// A handler whose `AuthInfo` is taken by value takes `handler::Authorized`
/// (that is, `bearer_policy::Authorized<handler::Handler>`). A direct call,
/// as in a unit test, converts its `AuthInfo` with `.into()`; the check in
/// the body still runs, so a direct call is refused just as a routed one:
///
/// ```
/// # use bearer_policy::{requires, AuthInfo, Denied};
/// #[requires(model = org_resource, scopes("api:read"), org_from = path)]
/// fn org_data(org_id: String, auth: AuthInfo) -> Result<String, Denied> {
///     Ok(format!("data of {org_id}"))
/// }
///
/// fn call(auth: AuthInfo) -> Result<String, Denied> {
///     org_data("acme".to_owned(), auth.into())
/// }
/// ```
///
/// `.into()` converts back too, and `Authorized` derefs to `AuthInfo`.
///
/// # Stacking
///
/// Several `#[requires]` on one function must all hold. The outermost
/// attribute gathers the others (written `requires`, `bearer_policy::requires` or
/// `<crate>::requires` with the `crate = ...` path) so that the function
/// yields one check and one module, whose `POLICY` is then an array
/// `[Policy; N]` that `authorize` accepts just the same.
///
/// ```
/// # use bearer_policy::{requires, AuthInfo};
/// # use warp::{Rejection, Reply};
/// #[requires(model = org_permission, scopes("invite:member"), org_from = header("X-Organization-Id"))]
/// #[requires(model = global_api, any_scopes("admin", "support"))]
/// async fn invite(auth: AuthInfo) -> Result<impl Reply, Rejection> {
///     Ok("invited")
/// }
/// # let _: &[bearer_policy::Policy; 2] = &invite::POLICY;
/// ```
///
/// # Check functions
///
/// `check = path` names a function the policy calls with the caller's
/// `&AuthInfo`, for what scopes cannot say. It returns `bool`, `false`
/// refusing with 403 `check_failed`, or `Result<(), Denied>` to refuse with a
/// denial of its own choosing, such as `Denied::check_failed("reason")`,
/// whose reason the client reads.
///
/// ```
/// use bearer_policy::{requires, AuthInfo, Denied};
/// use warp::{Rejection, Reply};
///
/// /// The caller's `role` claim is `staff`.
/// fn is_staff(auth: &AuthInfo) -> bool {
///     auth.claim("role").is_some_and(|role| role == "staff")
/// }
///
/// /// A verified email, or a reason the caller can act on.
/// fn verified_email(auth: &AuthInfo) -> Result<(), Denied> {
///     match auth.claim("email_verified") {
///         Some(serde_json::Value::Bool(true)) => Ok(()),
///         _ => Err(Denied::check_failed("verify your email address first")),
///     }
/// }
///
/// #[requires(model = global_api, scopes("reports:read"), check = is_staff)]
/// pub async fn reports(auth: AuthInfo) -> Result<impl Reply, Rejection> {
///     Ok("reports")
/// }
///
/// #[requires(model = org_resource, scopes("api:write"), org_from = path, check = verified_email)]
/// pub async fn update(org_id: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
///     Ok(format!("updated in {org_id}"))
/// }
/// # fn main() {}
/// ```
///
/// - **When it runs**: last, once the audience, the organization and the
///   scopes hold, of its policy and of every policy stacked with it, so it
///   may rely on them; a caller they refuse never reaches it. Like the rest
///   of the policy it runs before the request body is read (axum's
///   extractor, warp's `authorize`, the tower layer), on every request,
///   verified-token cache hits included, and again in the handler's own
///   check unless the route decided the handler's policies (axum's and
///   actix-web's extractors, warp's `authorize` given the handler's own
///   `POLICY`; not when an organization comes from one of the handler's
///   parameters): keep it cheap and free of side effects, and never
///   block in it (it is synchronous; do I/O before the route, not in the
///   check).
/// - **The path**: any path to a function the module of the handler sees
///   (`is_staff`, `rules::is_staff`, `crate::rules::is_staff`,
///   `super::is_staff`, `Rules::is_staff`, `has_role::<Admin>`). The
///   inventory names it where it is defined (`my_crate::rules::is_staff`),
///   whatever `use` brought it into scope.
/// - **Once per attribute**: a policy has one check function; for two rules,
///   write one function that calls both, or stack another `#[requires]`
///   with the second (each attribute may have its own).
/// - **A wrong signature** is one error, on the path: a function taking
///   `AuthInfo` by value or two arguments, returning anything else than
///   `bool` or `Result<(), Denied>`, an `async fn`, or a path to something
///   that is not a function.
///
/// Without the macro, `Policy::check_with("name", closure)` sets the same
/// rule, with a closure that may capture configuration (an allowed domain).
///
/// # Inventory
///
/// Every annotated function is registered with its policies, so that
/// `bearer_policy::declared()` lists each protected handler (as
/// `my_crate::module::handler`) for audits, generated documentation, or a
/// test that fails when a route has no policy. A policy with a check
/// function lists it by name (`"check": "my_crate::rules::is_staff"`).
///
/// # Examples
///
/// One per model:
///
/// ```
/// use bearer_policy::{requires, AuthInfo};
/// use warp::{Rejection, Reply};
///
/// bearer_policy::scopes! {
///     /// The permissions of the products API.
///     pub Products { READ = "products:read", WRITE = "products:write" }
/// }
///
/// /// A global API permission: no organization involved.
/// #[requires(model = global_api, scopes(Products::READ))]
/// pub async fn list_products(auth: AuthInfo) -> Result<impl Reply, Rejection> {
///     Ok("all products")
/// }
///
/// /// An organization permission, for the organization named in a header.
/// #[requires(model = org_permission, scopes("invite:member"), org_from = header("X-Organization-Id"))]
/// pub async fn invite_member(auth: AuthInfo) -> Result<impl Reply, Rejection> {
///     Ok("invited")
/// }
///
/// /// An API resource within an organization, named by a path segment.
/// #[requires(model = org_resource, scopes(Products::WRITE), org_from = path(tenant))]
/// pub async fn update_product(tenant: String, auth: AuthInfo) -> Result<impl Reply, Rejection> {
///     Ok(format!("updated in {tenant}"))
/// }
/// # fn main() {}
/// ```
///
/// With your own error type, and a synchronous function:
///
/// ```
/// use bearer_policy::{requires, AuthInfo, Denied};
///
/// #[derive(Debug)]
/// enum AppError { Forbidden(Denied) }
///
/// impl From<Denied> for AppError {
///     fn from(denied: Denied) -> Self { AppError::Forbidden(denied) }
/// }
///
/// #[requires(model = org_resource, any_scopes("reports:read", "admin"), org_from = query("org"))]
/// fn report(auth: &AuthInfo) -> Result<String, AppError> {
///     Ok("report".to_owned())
/// }
/// ```
///
/// # Compile-time errors
///
/// Mistakes are reported at the token to change, all at once, with the
/// function still emitted so that one mistake does not cascade: an unknown
/// or missing model, an unknown (with the nearest suggestion) or duplicate
/// argument, an empty, malformed or duplicate scope, an empty scope list, an
/// `org_from` missing or superfluous for the model, a missing organization
/// parameter (or a `Path` field bound to its name from another field), a
/// missing or repeated `AuthInfo` parameter, a function that does not return
/// a `Result`, an audience that is not an absolute URI, a `check` that is not
/// the path of a function of the right signature, and an attribute on
/// something that is not a function.
///
/// A function whose syntax the attribute cannot read (a half-typed body
/// while editing, or syntax newer than the parser it uses) is kept as
/// written, and its policy module is still emitted from the arguments, so
/// that routes naming `handler::POLICY` or `handler::Authorized` do not fail
/// with it; one error says that the policy cannot be checked, and the build
/// fails until the function reads.
///
/// ```compile_fail
/// # use bearer_policy::{requires, AuthInfo};
/// # use warp::{Rejection, Reply};
/// #[requires(model = org_resource, scopes("api:read"), org_from = path)]
/// async fn org_data(auth: AuthInfo) -> Result<impl Reply, Rejection> { Ok("") }
/// // error: `org_from = path` reads the organization id from a parameter named
/// //        `org_id`, but `org_data` has none: add a parameter `org_id: String`
/// //        (warp), or bind it from the path: `Path(org_id): Path<String>` (axum),
/// //        `org_id: web::Path<String>` (actix)
/// ```
///
/// # Limits
///
/// - Methods (functions taking `self`) are refused; inside an `impl` block
///   the policy module could not be emitted either.
/// - The policy module sees the function's module through `use super::*`:
///   scope constants and check functions declared inside a function body are
///   not visible to it; declare them at module level.
#[proc_macro_attribute]
pub fn requires(args: TokenStream, item: TokenStream) -> TokenStream {
    requires_impl(args.into(), item.into()).into()
}

/// Parse, validate, expand; on any error, the errors together with the item.
fn requires_impl(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            return match LenientFn::read(item.clone(), error) {
                Some(function) => lenient_impl(args, function),
                None => lenient_fn::not_a_function(item),
            };
        }
    };
    let (stacked, krate, names_item) = gather(args, &mut function.attrs);
    if names_item || valid::is_mcp_item(&function, &stacked) {
        return match valid::validate_mcp_item(&function, stacked) {
            Ok(plan) => expand::expand_mcp_item(&plan, &function),
            Err(error) => {
                let error = error.to_compile_error();
                quote::quote!(#error #function)
            }
        };
    }
    let plan = match valid::validate(&function, stacked) {
        Ok(plan) => plan,
        Err(error) => return expand::fallback(error, &function, krate.as_ref()),
    };
    match expand::expand(&plan, function.clone()) {
        Ok(tokens) => tokens,
        Err(error) => expand::fallback(error, &function, Some(&plan.krate)),
    }
}

/// A function syn could not read: the policy module from the arguments
/// alone, and an error saying why the function is not protected.
fn lenient_impl(
    args: proc_macro2::TokenStream,
    mut function: LenientFn,
) -> proc_macro2::TokenStream {
    let (stacked, krate, _) = gather(args, &mut function.attrs);
    let policies = valid::validate_without_function(stacked);
    expand::lenient(&function, policies, krate.as_ref())
}

/// The arguments of this attribute and of those stacked below it (taken out
/// of `attrs`), outermost first, the `crate = ...` path of this one, and
/// whether any names an MCP item (read from the tokens, parsed or not).
fn gather(
    args: proc_macro2::TokenStream,
    attrs: &mut Vec<syn::Attribute>,
) -> (Vec<syn::Result<args::Args>>, Option<syn::Path>, bool) {
    let mut names_item = args::names_mcp_item(&args);
    let outer = args::Args::parse(args, Span::call_site());
    let krate = outer.as_ref().ok().and_then(|args| args.krate.clone());
    names_item |= args::stacked_name_mcp_item(attrs, krate.as_ref());
    let mut stacked = vec![outer];
    stacked.extend(args::take_stacked(attrs, krate.as_ref()));
    (stacked, krate, names_item)
}
