//! Where a handler binds the organization id that `org_from = path(name)`
//! names. In warp, path segments arrive as parameters, so it is the
//! parameter of that name. In axum they arrive through the `Path` extractor,
//! whose pattern binds them: `Path(org_id): Path<String>`, inside a tuple
//! `Path((org_id, id)): Path<(String, u64)>`, or as a field of a struct
//! `Path(Params { org_id, .. })`, possibly under another name
//! (`Params { org_id: org, .. }`).
//!
//! A struct field is matched by its name, not by the name it is bound to:
//! the field is what axum fills from the route capture of the same name,
//! which is what the policy reads (`OrgSource::PathParam(name)`) when the
//! extractor decides it. The body's decision then reads whatever identifier the
//! field is bound to. Tuples are positional, so there the binding's own name
//! is what matches.

use proc_macro2::{Ident, Span};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{GenericArgument, Member, Pat, PatType, PathArguments, Type};

use super::ungroup;

/// The identifier a handler binds the organization id to.
#[derive(Debug)]
pub(super) struct OrgBinding {
    /// As the user wrote it, so that the generated decision reads the user's
    /// binding (and errors point at it).
    pub(super) binding: Ident,
    /// The span of its type, as precisely as the signature tells: where an
    /// error about the type (neither `str` nor `Display`) points.
    pub(super) ty_span: Span,
}

/// The binding of `wanted` in one parameter: the parameter itself when it
/// is so named, or a binding inside a `Path(...)` pattern. An error when the
/// pattern binds it in a way the decision cannot read.
pub(super) fn find(param: &PatType, wanted: &str) -> syn::Result<Option<OrgBinding>> {
    let ty_span = param.ty.span();
    match &*param.pat {
        Pat::Ident(pat) if pat.ident.unraw() == wanted => Ok(Some(OrgBinding {
            binding: pat.ident.clone(),
            ty_span,
        })),
        Pat::TupleStruct(extractor) if is_path_extractor(&extractor.path) => {
            // `Path<T>` holds one value, of type `T`.
            let inner = match extractor.elems.len() {
                1 => single_type_argument(&param.ty),
                _ => None,
            };
            first_found(
                extractor
                    .elems
                    .iter()
                    .map(|elem| inside(elem, inner, ty_span, wanted)),
            )
        }
        _ => Ok(None),
    }
}

/// Searches a pattern inside `Path(...)`; `ty` is its type when the
/// signature says it, `outer` the span of the nearest enclosing type.
fn inside(
    pat: &Pat,
    ty: Option<&Type>,
    outer: Span,
    wanted: &str,
) -> syn::Result<Option<OrgBinding>> {
    let ty_span = ty.map_or(outer, Spanned::span);
    match pat {
        Pat::Ident(pat) if pat.ident.unraw() == wanted => Ok(Some(OrgBinding {
            binding: pat.ident.clone(),
            ty_span,
        })),
        Pat::Ident(pat) => match &pat.subpat {
            Some((_, subpat)) => inside(subpat, ty, outer, wanted),
            None => Ok(None),
        },
        Pat::Paren(paren) => inside(&paren.pat, ty, outer, wanted),
        Pat::Tuple(tuple) => {
            let types = tuple_types(ty, tuple.elems.iter());
            first_found(
                tuple
                    .elems
                    .iter()
                    .enumerate()
                    .map(|(i, elem)| inside(elem, types.get(i).copied(), ty_span, wanted)),
            )
        }
        // A newtype inside the path value: positional, like a tuple.
        Pat::TupleStruct(inner) => first_found(
            inner
                .elems
                .iter()
                .map(|elem| inside(elem, None, ty_span, wanted)),
        ),
        Pat::Struct(fields) => {
            for field in &fields.fields {
                match &field.member {
                    Member::Named(name) if name.unraw() == wanted => {
                        return named_field(&field.pat, wanted, ty_span).map(Some);
                    }
                    Member::Named(name) => {
                        if inside(&field.pat, None, ty_span, wanted)?.is_some() {
                            return Err(bound_from_another_field(name, wanted));
                        }
                    }
                    // `Pair { 0: org_id, .. }`: positional, like a tuple.
                    Member::Unnamed(_) => {
                        if let Some(found) = inside(&field.pat, None, ty_span, wanted)? {
                            return Ok(Some(found));
                        }
                    }
                }
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// The field named `wanted`: it must be bound to a name the decision can read.
fn named_field(pat: &Pat, wanted: &str, ty_span: Span) -> syn::Result<OrgBinding> {
    match pat {
        Pat::Ident(pat) if pat.subpat.is_none() => Ok(OrgBinding {
            binding: pat.ident.clone(),
            ty_span,
        }),
        pat => Err(syn::Error::new(
            pat.span(),
            format!(
                "bind the path field `{wanted}` to a name, e.g. `{wanted}` or `{wanted}: org`: \
                 `#[requires]` reads it to check the policy"
            ),
        )),
    }
}

/// `Params { tenant: org_id }`: the binding has the name, but axum fills the
/// field from the capture `tenant`, which is not the one the policy reads.
fn bound_from_another_field(field: &Ident, wanted: &str) -> syn::Error {
    let field_name = field.unraw();
    syn::Error::new(
        field.span(),
        format!(
            "`{wanted}` is bound from the path field `{field_name}`, but the policy reads the \
             path parameter named `{wanted}`: write `org_from = path({field_name})`, or bind the \
             field `{wanted}`"
        ),
    )
}

/// The first binding found, or the first error met before it.
fn first_found(
    results: impl IntoIterator<Item = syn::Result<Option<OrgBinding>>>,
) -> syn::Result<Option<OrgBinding>> {
    for result in results {
        if let Some(found) = result? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Whether a tuple-struct pattern is the path extractor: `Path(..)`,
/// `axum::extract::Path(..)`, whatever the path to it.
fn is_path_extractor(path: &syn::Path) -> bool {
    path.segments
        .last()
        .is_some_and(|last| last.ident == "Path")
}

/// `T` in `Path<T>`.
fn single_type_argument(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    let PathArguments::AngleBracketed(arguments) = &path.path.segments.last()?.arguments else {
        return None;
    };
    let mut types = arguments.args.iter().filter_map(|argument| match argument {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(ty), None) => Some(ty),
        _ => None,
    }
}

/// The element types of a tuple type, position by position with the tuple
/// pattern, when they correspond (same length, no `..` in the pattern).
fn tuple_types<'a, 'p>(
    ty: Option<&'a Type>,
    elems: impl ExactSizeIterator<Item = &'p Pat>,
) -> Vec<&'a Type> {
    let count = elems.len();
    let has_rest = { elems }.any(|elem| matches!(elem, Pat::Rest(_)));
    match ty.map(ungroup) {
        Some(Type::Tuple(tuple)) if !has_rest && tuple.elems.len() == count => {
            tuple.elems.iter().collect()
        }
        _ => Vec::new(),
    }
}

/// Whether the function takes a path extractor whole, under a plain name
/// (`path: web::Path<(String, u64)>`, `params: web::Path<Params>`): actix's
/// `Path` cannot be destructured, so the organization it holds has no name
/// of its own in the signature, and only the route knows it.
pub(super) fn route_extractor(function: &syn::ItemFn) -> bool {
    function.sig.inputs.iter().any(|argument| match argument {
        syn::FnArg::Typed(typed) => {
            matches!(&*typed.pat, Pat::Ident(pat) if pat.subpat.is_none())
                && matches!(ungroup(&typed.ty), Type::Path(ty) if is_path_extractor(&ty.path))
        }
        syn::FnArg::Receiver(_) => false,
    })
}
