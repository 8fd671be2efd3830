//! # policy
//!
//! Protect HTTP APIs with OAuth 2.0 / OpenID Connect access tokens and
//! declarative, compile-time checked permission rules.
//!
//! See the README for a tour; the items below are re-exported from
//! `policy-core` (the runtime) and `policy-macros` (`#[requires]`).

pub use policy_core::*;
pub use policy_macros::*;

// The README's examples are compiled and run as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
