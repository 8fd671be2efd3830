//! No body extractor before the `AuthInfo` parameter. actix-web extracts a
//! handler's parameters in order, so a `web::Json<T>` written before `auth`
//! starts reading the body before the policy is decided: the server would
//! read, and answer 400 to, requests it refuses. Behind `auth` the body waits
//! for the decision (the actix extractor holds the payload back), so the
//! order is the whole rule. axum already wants its body extractor last, and
//! warp's filters decide their own order, so the rule costs them nothing.

use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Type};

use super::{is_auth_info, ungroup};
use crate::diagnostics::{Errors, path_text};

/// Type names that read the request body when extracted: actix-web's and
/// axum's body extractors, whatever the path to them.
const BODY_EXTRACTORS: &[&str] = &[
    "Json",
    "Form",
    "Payload",
    "Bytes",
    "BytesMut",
    "Multipart",
    "MultipartForm",
];

/// An error on each body extractor before the `AuthInfo` parameter.
pub(super) fn validate(function: &ItemFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    let inputs = function
        .sig
        .inputs
        .iter()
        .filter_map(|argument| match argument {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        });
    let Some(auth) = inputs.clone().find(|typed| is_auth_info(&typed.ty)) else {
        return Ok(());
    };
    let auth_name = match &*auth.pat {
        syn::Pat::Ident(pat) => pat.ident.to_string(),
        _ => "auth".to_owned(),
    };
    for typed in inputs.take_while(|typed| !is_auth_info(&typed.ty)) {
        let Type::Path(ty) = ungroup(&typed.ty) else {
            continue;
        };
        let Some(last) = ty.path.segments.last() else {
            continue;
        };
        if !BODY_EXTRACTORS.iter().any(|name| last.ident == name) {
            continue;
        }
        errors.push(syn::Error::new(
            typed.ty.span(),
            format!(
                "`{}` reads the request body, and a handler's parameters are extracted in \
                 order: before `{auth_name}` it would read the body of a request the policy \
                 refuses; move it after `{auth_name}: AuthInfo`",
                path_text(&ty.path)
            ),
        ));
    }
    errors.finish()
}
