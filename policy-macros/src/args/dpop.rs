//! `dpop = required | disabled | allowed`: the route's own DPoP mode.

use syn::Ident;
use syn::parse::{Parse, ParseStream};

use super::expect_eq;
use crate::diagnostics::{expected_here, nearest};

/// The DPoP modes, as written after `dpop =`.
const MODES: [&str; 3] = ["required", "disabled", "allowed"];

/// `= <mode>`, as the runtime's `DpopMode` variant name.
#[derive(Debug, Clone)]
pub(crate) struct DpopArg(pub(crate) Ident);

impl DpopArg {
    /// The runtime's `DpopMode` variant for this mode.
    pub(crate) fn variant(&self) -> &'static str {
        match self.0.to_string().as_str() {
            "required" => "Required",
            "disabled" => "Disabled",
            _ => "Allowed",
        }
    }
}

impl Parse for DpopArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let eq = expect_eq(input, "dpop = required")?;
        let Some(ident) = input.parse::<Option<Ident>>()? else {
            return Err(expected_here(
                input,
                eq.span,
                "expected a DPoP mode: `required`, `disabled` or `allowed`",
            ));
        };
        let name = ident.to_string();
        if MODES.contains(&name.as_str()) {
            return Ok(DpopArg(ident));
        }
        let hint = match nearest(&name, &MODES) {
            Some(near) => format!("; did you mean `{near}`?"),
            None => String::new(),
        };
        Err(syn::Error::new(
            ident.span(),
            format!(
                "unknown DPoP mode `{name}`: expected `required`, `disabled` or `allowed`{hint}"
            ),
        ))
    }
}
