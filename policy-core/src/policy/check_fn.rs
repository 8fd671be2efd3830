//! Check functions: the rule of a [`Policy`](crate::Policy) beyond what
//! scopes express (a role claim, an email domain, a tenant flag), a named
//! function of the caller's [`AuthInfo`] that runs once the policy's
//! audience, organization and scopes hold.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::auth_info::AuthInfo;
use crate::error::Denied;

/// What a check function returns: `bool` (`false` refuses with
/// [`Denied::CheckFailed`], 403 `check_failed`), or `Result<(), Denied>` to
/// choose the denial, such as [`Denied::check_failed`] with a reason of its
/// own.
///
/// Implemented for these two types only.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not what a check function returns",
    label = "a check function returns `bool` or `Result<(), Denied>`",
    note = "a check function is synchronous: `fn(&AuthInfo) -> bool`, or `fn(&AuthInfo) -> Result<(), Denied>` to choose the denial"
)]
pub trait CheckOutcome: sealed::Sealed {
    /// The outcome as the policy's decision.
    fn into_result(self) -> Result<(), Denied>;
}

impl CheckOutcome for bool {
    fn into_result(self) -> Result<(), Denied> {
        if self {
            Ok(())
        } else {
            Err(Denied::CheckFailed { reason: None })
        }
    }
}

impl CheckOutcome for Result<(), Denied> {
    fn into_result(self) -> Result<(), Denied> {
        self
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for bool {}
    impl Sealed for Result<(), super::Denied> {}
}

/// A function that `#[requires(check = ...)]` accepts: `fn(&AuthInfo) -> R`
/// with `R` a [`CheckOutcome`]. The generated code calls it through this
/// trait so that a function of another signature is one error, on its path.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a check function",
    label = "expected a function `fn(&AuthInfo) -> bool` or `fn(&AuthInfo) -> Result<(), Denied>`",
    note = "a check function is a plain (not `async`) function of the caller's `&AuthInfo`, e.g. `fn is_staff(auth: &AuthInfo) -> bool`"
)]
pub trait CheckFn {
    /// Calls the function and turns its outcome into a decision.
    fn call_check(&self, auth: &AuthInfo) -> Result<(), Denied>;
}

// `do_not_recommend`: a function of the wrong signature is reported with the
// message above, not with the bounds of this impl.
#[diagnostic::do_not_recommend]
impl<F, R> CheckFn for F
where
    F: Fn(&AuthInfo) -> R,
    R: CheckOutcome,
{
    fn call_check(&self, auth: &AuthInfo) -> Result<(), Denied> {
        self(auth).into_result()
    }
}

/// The name `#[requires(check = path)]` records: the function's path as the
/// compiler names it (`std::any::type_name` of the function item, so a `use`
/// does not hide where it is defined), read through this getter because
/// `type_name` cannot run at compile time.
#[doc(hidden)]
pub const fn check_name_of<F>(_function: &F) -> fn() -> &'static str {
    std::any::type_name::<F>
}

/// A policy's check: a named rule on the caller's [`AuthInfo`]. Public for
/// the code `#[requires]` generates ([`Check::item`]); not a public API.
#[doc(hidden)]
#[derive(Clone)]
pub struct Check {
    name: Name,
    rule: Rule,
}

#[derive(Clone)]
enum Name {
    /// Given at run time ([`Policy::check_with`](crate::Policy::check_with)).
    Given(Cow<'static, str>),
    /// A function named in `#[requires]`: its type name, or the path as
    /// written when that is not a path (a constant holding a function pointer
    /// is named by the pointer's type).
    Item {
        written: &'static str,
        type_name: fn() -> &'static str,
    },
}

/// The one type every check runs as.
type CheckClosure = dyn Fn(&AuthInfo) -> Result<(), Denied> + Send + Sync;

#[derive(Clone)]
enum Rule {
    /// What `#[requires]` emits, built at compile time.
    Function(fn(&AuthInfo) -> Result<(), Denied>),
    /// A closure, which may capture configuration.
    Shared(Arc<CheckClosure>),
}

impl Check {
    /// The check of a `#[requires(check = path)]` attribute: `written` is
    /// the path as written, `type_name` names the function (see
    /// [`check_name_of`]), `function` calls it.
    pub const fn item(
        written: &'static str,
        type_name: fn() -> &'static str,
        function: fn(&AuthInfo) -> Result<(), Denied>,
    ) -> Self {
        Check {
            name: Name::Item { written, type_name },
            rule: Rule::Function(function),
        }
    }

    /// A check built at run time.
    pub(crate) fn shared<F, R>(name: Cow<'static, str>, check: F) -> Self
    where
        F: Fn(&AuthInfo) -> R + Send + Sync + 'static,
        R: CheckOutcome,
    {
        Check {
            name: Name::Given(name),
            rule: Rule::Shared(Arc::new(move |auth: &AuthInfo| check(auth).into_result())),
        }
    }

    /// This check, then `next`: both must hold, under the name `this && next`.
    pub(crate) fn and(self, next: Check) -> Self {
        let name = format!("{} && {}", self.name(), next.name());
        Check {
            name: Name::Given(name.into()),
            rule: Rule::Shared(Arc::new(move |auth: &AuthInfo| {
                self.run(auth).and_then(|()| next.run(auth))
            })),
        }
    }

    pub(crate) fn name(&self) -> &str {
        match &self.name {
            Name::Given(name) => name,
            Name::Item { written, type_name } => {
                let name = type_name();
                // A function item's type name is its path; a pointer's is a signature.
                let signature = ["fn(", "for<", "unsafe ", "extern "];
                if signature.iter().any(|start| name.starts_with(start)) {
                    written
                } else {
                    name
                }
            }
        }
    }

    pub(crate) fn run(&self, auth: &AuthInfo) -> Result<(), Denied> {
        match &self.rule {
            Rule::Function(function) => function(auth),
            Rule::Shared(closure) => closure(auth),
        }
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Check").field(&self.name()).finish()
    }
}

/// Serialised as its name: what the inventory lists.
impl Serialize for Check {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The same check: the same name, and the same function or the same shared
/// closure (a clone of the policy). Two closures built apart are never equal,
/// even under one name: what they captured may differ.
impl PartialEq for Check {
    fn eq(&self, other: &Self) -> bool {
        let same_rule = match (&self.rule, &other.rule) {
            (Rule::Function(a), Rule::Function(b)) => std::ptr::fn_addr_eq(*a, *b),
            (Rule::Shared(a), Rule::Shared(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_rule && self.name() == other.name()
    }
}

impl Eq for Check {}
