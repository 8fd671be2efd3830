//! What [`PolicySecurity::apply`](super::PolicySecurity::apply) secured, and
//! what it could not match.

use std::fmt;

/// The outcome of [`PolicySecurity::apply`](super::PolicySecurity::apply):
/// the operations it secured, and what it left out of the document rather
/// than guess. Every list is sorted.
///
/// `Display` writes one line per problem; a test asserts
/// `report.is_complete()` to keep every declared handler in the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The operation ids that received security requirements.
    pub secured: Vec<String>,
    /// Declared handlers (function paths) whose operation is not in the
    /// document: no `#[utoipa::path]`, not listed in `#[openapi(paths(…))]`,
    /// or an operation id other than the function's name (see
    /// [`handler_operation`](super::PolicySecurity::handler_operation)).
    pub unmatched: Vec<String>,
    /// Declared handlers (function paths) that share their function's name
    /// with another, so that an operation id of that name cannot say which
    /// one it is: left out until
    /// [`handler_operation`](super::PolicySecurity::handler_operation) says.
    pub ambiguous: Vec<String>,
    /// Operation ids given to [`operation`](super::PolicySecurity::operation)
    /// that no operation of the document carries.
    pub unknown_operations: Vec<String>,
    /// Functions given to
    /// [`handler_operation`](super::PolicySecurity::handler_operation) that
    /// name no declared handler, or several.
    pub unknown_handlers: Vec<String>,
}

impl Report {
    /// Whether every declared handler and every named operation made it into
    /// the document.
    pub fn is_complete(&self) -> bool {
        self.unmatched.is_empty()
            && self.ambiguous.is_empty()
            && self.unknown_operations.is_empty()
            && self.unknown_handlers.is_empty()
    }

    /// Logs every problem as a `tracing` warning.
    pub(super) fn log(&self) {
        for problem in self.problems() {
            tracing::warn!("OpenAPI document: {problem}");
        }
    }

    pub(super) fn sort(&mut self) {
        for list in [
            &mut self.secured,
            &mut self.unmatched,
            &mut self.ambiguous,
            &mut self.unknown_operations,
            &mut self.unknown_handlers,
        ] {
            list.sort();
            list.dedup();
        }
    }

    fn problems(&self) -> impl Iterator<Item = String> + '_ {
        let unmatched = self.unmatched.iter().map(|function| {
            format!(
                "the handler `{function}` declares `#[requires]` but no operation has its \
                 name as operation id: its permissions are not in the document"
            )
        });
        let ambiguous = self.ambiguous.iter().map(|function| {
            format!(
                "the handler `{function}` shares its name with another declared handler: \
                 name its operation with `PolicySecurity::handler_operation`"
            )
        });
        let operations = self.unknown_operations.iter().map(|id| {
            format!("no operation has the id `{id}` given to `PolicySecurity::operation`")
        });
        let handlers = self.unknown_handlers.iter().map(|function| {
            format!(
                "`{function}`, given to `PolicySecurity::handler_operation`, names no \
                 declared handler or several"
            )
        });
        unmatched.chain(ambiguous).chain(operations).chain(handlers)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_complete() {
            return write!(f, "{} operations secured", self.secured.len());
        }
        for (index, problem) in self.problems().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            f.write_str(&problem)?;
        }
        Ok(())
    }
}
