//! The annotated item when syn cannot read it as a function: either a
//! function all the same, whose syntax syn does not accept (a half-typed body
//! under rust-analyzer, syntax newer than syn), or something else entirely (a
//! struct, an `impl` block).
//!
//! The first is read just far enough to emit its policy module, so that
//! routes naming `handler::POLICY` keep resolving while the one error that
//! matters is reported; the second is refused as not a function.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, Item, Signature, Visibility};

/// A function that syn could not read, split where `#[requires]` needs it.
pub(crate) struct LenientFn {
    /// The outer attributes, stacked `#[requires]` included until they are
    /// taken out.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The function's name: the identifier after `fn`.
    pub(crate) name: Ident,
    /// The span of `self` when the signature reads as a method's.
    pub(crate) receiver: Option<Span>,
    /// Everything after the visibility, as written.
    pub(crate) rest: TokenStream,
    /// Why syn could not read the function.
    pub(crate) error: syn::Error,
}

impl LenientFn {
    /// Reads `item`, which syn failed to parse as a function with `error`,
    /// as far as its name. `None` when it is not a function at all.
    pub(crate) fn read(item: TokenStream, error: syn::Error) -> Option<LenientFn> {
        // What syn reads as another kind of item is not a function; a
        // verbatim item is syntax syn only skims, which may be one.
        if syn::parse2::<Item>(item.clone()).is_ok_and(|item| !matches!(item, Item::Verbatim(_))) {
            return None;
        }
        let parser = |input: ParseStream| {
            let attrs = input.call(Attribute::parse_outer)?;
            let vis: Visibility = input.parse()?;
            // The signature usually reads even when the body does not.
            let signature = input.fork().parse::<Signature>().ok();
            let rest: TokenStream = input.parse()?;
            Ok((attrs, vis, signature, rest))
        };
        let (attrs, vis, signature, rest) = parser.parse2(item).ok()?;
        let (name, receiver) = match signature {
            Some(sig) => (
                sig.ident.clone(),
                sig.receiver().map(|receiver| receiver.self_token.span),
            ),
            None => (name_after_fn(&rest)?, None),
        };
        Some(LenientFn {
            attrs,
            vis,
            name,
            receiver,
            rest,
            error,
        })
    }
}

/// The identifier after the first top-level `fn`, looked for only where a
/// function's name can be: before any body, type or initializer, so that
/// `static F: fn() = ...` is not taken for a function named by accident.
fn name_after_fn(tokens: &TokenStream) -> Option<Ident> {
    let mut tokens = tokens.clone().into_iter();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(ident) if ident == "fn" => {
                return match tokens.next() {
                    Some(TokenTree::Ident(name)) => Some(name),
                    _ => None,
                };
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => return None,
            TokenTree::Punct(punct) if matches!(punct.as_char(), ':' | '=' | ';') => return None,
            _ => {}
        }
    }
    None
}

/// The error for an attribute on anything but a function, with the item kept.
pub(crate) fn not_a_function(item: TokenStream) -> TokenStream {
    let (span, what) = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(item)) => (item.struct_token.span, "a struct"),
        Ok(Item::Enum(item)) => (item.enum_token.span, "an enum"),
        Ok(Item::Union(item)) => (item.union_token.span, "a union"),
        Ok(Item::Mod(item)) => (item.mod_token.span, "a module"),
        Ok(Item::Impl(item)) => (item.impl_token.span, "an `impl` block"),
        Ok(Item::Trait(item)) => (item.trait_token.span, "a trait"),
        Ok(Item::Static(item)) => (item.static_token.span, "a static"),
        Ok(Item::Const(item)) => (item.const_token.span, "a constant"),
        Ok(Item::Type(item)) => (item.type_token.span, "a type alias"),
        Ok(Item::Use(item)) => (item.use_token.span, "a `use` declaration"),
        Ok(Item::Macro(item)) => (
            syn::spanned::Spanned::span(&item.mac.path),
            "a macro invocation",
        ),
        _ => (Span::call_site(), "this item"),
    };
    let error = syn::Error::new(
        span,
        format!("`#[requires]` applies to functions (request handlers), not to {what}"),
    )
    .to_compile_error();
    quote::quote!(#error #item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{ToTokens, quote};

    fn read(item: TokenStream) -> Option<LenientFn> {
        let error = syn::parse2::<syn::ItemFn>(item.clone())
            .expect_err("the test item must not parse as a function");
        LenientFn::read(item, error)
    }

    #[test]
    fn a_function_with_a_broken_body_is_read_up_to_its_body() {
        let function = read(quote! {
            /// Docs.
            #[requires(model = global_api)]
            pub(crate) async fn handler(auth: AuthInfo) -> Result<(), E> {
                let x = ;
                Ok(())
            }
        })
        .unwrap();
        assert_eq!(function.name, "handler");
        assert_eq!(function.attrs.len(), 2);
        assert_eq!(function.vis.to_token_stream().to_string(), "pub (crate)");
        assert!(function.receiver.is_none());
        assert!(
            function.rest.to_string().starts_with("async fn handler"),
            "{}",
            function.rest
        );
        assert!(!function.error.to_string().is_empty());
    }

    #[test]
    fn a_method_with_a_broken_body_is_known_as_a_method() {
        let function = read(quote! {
            fn handler(&self, auth: AuthInfo) -> Result<(), E> { let x = ; }
        })
        .unwrap();
        assert!(function.receiver.is_some());
    }

    #[test]
    fn an_unreadable_signature_is_named_by_the_ident_after_fn() {
        // `fn` without parentheses: syn cannot read the signature.
        let function = read(quote!(pub unsafe fn handler<T> -> u8 {})).unwrap();
        assert_eq!(function.name, "handler");
        assert!(function.receiver.is_none());
    }

    #[test]
    fn other_items_are_not_read_as_functions() {
        assert!(
            read(quote!(
                struct S;
            ))
            .is_none()
        );
        assert!(read(quote!(impl S { fn f(&self) {} })).is_none());
        // Broken, and no function either: the `fn` is a type.
        assert!(read(quote!(static F: fn() -> u8 = ;)).is_none());
        assert!(read(quote!(type F = fn(u8);, extra)).is_none());
        assert!(read(quote!(struct S { a: fn x })).is_none());
    }

    #[test]
    fn not_a_function_names_the_item_and_keeps_it() {
        let code = not_a_function(quote!(
            enum E {}
        ))
        .to_string();
        assert!(
            code.contains("applies to functions (request handlers), not to an enum"),
            "{code}"
        );
        assert!(code.ends_with("enum E { }"), "{code}");
    }
}
