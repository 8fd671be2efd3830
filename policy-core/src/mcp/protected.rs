//! The protected MCP items: every tool, prompt and resource a `#[requires]`
//! declares, with its policies and the scopes its 403 names, and how a
//! requested name or URI finds them.
//!
//! Tools and prompts match by their exact name (after JSON decoding).
//! Resources match by their exact URI. Once any resource is protected, a
//! requested URI that is not exactly a protected one but could be read as
//! one is refused, not guessed (a server may normalise it and serve the
//! protected resource): one that differs from a protected URI only in letter
//! case, percent-encoding, a fragment or trailing slashes, and any with a
//! `.` or `..` path segment.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use super::message::MessageError;
use crate::declaration::{McpKind, declared};
use crate::error::ConfigError;
use crate::policy::Policy;

/// The policies of one protected item, and the scopes its 403 names.
#[derive(Default)]
pub(crate) struct ItemPolicies {
    pub(crate) policies: Vec<&'static Policy>,
    /// Every scope the policies name, space-separated.
    pub(crate) scopes: String,
}

/// The items the server publishes, by kind: what a declaration is checked against.
pub(crate) type Published = HashMap<McpKind, BTreeSet<String>>;

/// Every protected item of the program, by kind and name.
#[derive(Default)]
pub(crate) struct Protected {
    items: HashMap<McpKind, HashMap<String, ItemPolicies>>,
    /// The protected resource URIs in their folded form ([`fold`]).
    folded_resources: BTreeSet<String>,
}

impl Protected {
    /// The program's `#[requires]` declarations on MCP items; all
    /// declarations naming one item must hold together.
    ///
    /// # Errors
    ///
    /// [`ConfigError::UnpublishedMcpItem`] for an item `published` lacks.
    pub(crate) fn declared(published: &Published) -> Result<Protected, ConfigError> {
        let mut protected = Protected::default();
        for declaration in declared() {
            let Some((kind, name)) = declaration.mcp_item() else {
                continue;
            };
            if !published
                .get(&kind)
                .is_some_and(|names| names.contains(name))
            {
                return Err(ConfigError::UnpublishedMcpItem {
                    kind,
                    name: name.to_owned(),
                });
            }
            let item = protected
                .items
                .entry(kind)
                .or_default()
                .entry(name.to_owned())
                .or_default();
            item.policies.extend(declaration.policies());
            if kind == McpKind::Resource {
                protected.folded_resources.insert(fold(name).into_owned());
            }
        }
        for item in protected.items.values_mut().flat_map(HashMap::values_mut) {
            item.scopes = scopes_of(&item.policies).join(" ");
        }
        Ok(protected)
    }

    /// Every scope of every protected item, sorted, once each.
    pub(crate) fn scopes(&self) -> Vec<String> {
        let policies: Vec<&Policy> = self
            .items
            .values()
            .flat_map(HashMap::values)
            .flat_map(|item| item.policies.iter().copied())
            .collect();
        scopes_of(&policies)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// The names of the protected items of `kind`, sorted.
    pub(crate) fn names(&self, kind: McpKind) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .items
            .get(&kind)
            .map(|items| items.keys().map(String::as_str).collect())
            .unwrap_or_default();
        names.sort_unstable();
        names
    }

    /// The item a message acts on, if it is protected.
    ///
    /// # Errors
    ///
    /// [`MessageError::AmbiguousUri`], once any resource is protected, for a
    /// resource URI with a `.` or `..` segment, or that is not a protected
    /// URI but folds to one.
    pub(crate) fn find(
        &self,
        kind: McpKind,
        name: &str,
    ) -> Result<Option<&ItemPolicies>, MessageError> {
        let guarded = kind == McpKind::Resource && !self.folded_resources.is_empty();
        if guarded && has_dot_segment(name) {
            return Err(MessageError::AmbiguousUri);
        }
        if let Some(item) = self.items.get(&kind).and_then(|items| items.get(name)) {
            return Ok(Some(item));
        }
        if guarded && self.folded_resources.contains(fold(name).as_ref()) {
            return Err(MessageError::AmbiguousUri);
        }
        Ok(None)
    }
}

/// Every scope `policies` name (required or any-of), sorted, once each.
fn scopes_of<'p>(policies: &[&'p Policy]) -> Vec<&'p str> {
    let mut scopes: Vec<&str> = policies
        .iter()
        .flat_map(|policy| policy.named_scopes())
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

/// A URI with every difference a server might normalise away removed:
/// percent-escapes decoded, ASCII letters lowercased, the fragment and
/// trailing slashes dropped. Two URIs that fold alike may name one resource;
/// only the exact URI is decided.
pub(crate) fn fold(uri: &str) -> Cow<'_, str> {
    let plain = !uri
        .bytes()
        .any(|b| b.is_ascii_uppercase() || b"%#".contains(&b))
        && !uri.ends_with('/');
    if plain {
        return Cow::Borrowed(uri);
    }
    let decoded = percent_decode(uri).to_ascii_lowercase();
    let without_fragment = decoded.split('#').next().unwrap_or_default();
    Cow::Owned(without_fragment.trim_end_matches('/').to_owned())
}

/// Whether the URI's path (before any `?` or `#`, after percent-decoding)
/// has a `.` or `..` segment, `/` or `\\` separated: a server resolving it
/// could serve another resource than the one named.
pub(crate) fn has_dot_segment(uri: &str) -> bool {
    let decoded = percent_decode(uri);
    let path = decoded.split(['?', '#']).next().unwrap_or_default();
    path.split(['/', '\\'])
        .any(|segment| segment == "." || segment == "..")
}

/// Every `%XX` escape decoded (an invalid one kept as is); bytes that are
/// not UTF-8 replaced, as they cannot equal a declared URI anyway.
fn percent_decode(uri: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(uri).decode_utf8_lossy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_that_a_server_could_read_alike_fold_alike() {
        let protected = fold("items://list");
        for alike in [
            "items://list",
            "ITEMS://LIST",
            "items://%6Cist",
            "items://%6cist/",
            "items://list#top",
            "items://list//",
        ] {
            assert_eq!(fold(alike), protected, "{alike}");
        }
        for other in ["items://lists", "items://list/secret", "items://list?x"] {
            assert_ne!(fold(other), protected, "{other}");
        }
        assert_eq!(fold("items://list?x=%2E"), "items://list?x=.".to_owned());
        // Invalid escapes stay as they are; nothing panics.
        assert_eq!(fold("items://%zz%4"), "items://%zz%4".to_owned());
        assert_eq!(fold("%"), "%".to_owned());
    }

    #[test]
    fn dot_segments_are_found_however_spelt() {
        for dotted in [
            "items://list/../secret",
            "items://list/./x",
            "items://list/..",
            "items://list/%2e%2E/secret",
            "items://list\\..\\secret",
            "file:///srv/../etc",
        ] {
            assert!(has_dot_segment(dotted), "{dotted}");
        }
        for plain in [
            "items://list",
            "items://list/a..b",
            "items://list/.hidden",
            "items://list?path=../x",
            "items://list#../x",
        ] {
            assert!(!has_dot_segment(plain), "{plain}");
        }
    }
}
