//! How the document tells the issuers apart: by name where the name is
//! public, and by the audience each one's tokens must carry, which differs
//! where an issuer has its own.

use super::Disclosure;
use super::schemes::IssuerScheme;

/// The audience that a policy without its own requires of tokens from
/// `issuers`: "the API resource `a`", with the issuers whose tokens need
/// another in parentheses ("(tokens of `p`: `b`)"); `None` where no issuer
/// has one.
pub(super) fn resource(issuers: &[&IssuerScheme], disclosure: Disclosure) -> Option<String> {
    let mut groups: Vec<(Option<&str>, Vec<&IssuerScheme>)> = Vec::new();
    for &issuer in issuers {
        let audience = issuer.audience();
        match groups.iter_mut().find(|(known, _)| *known == audience) {
            Some((_, members)) => members.push(issuer),
            None => groups.push((audience, vec![issuer])),
        }
    }
    let mut groups = groups.into_iter();
    // The first issuer's audience leads: usually the validator's, which most
    // issuers share. An issuer without any audience has its tokens refused
    // by such policies, so it has nothing to add.
    let first = groups.next().and_then(|(audience, _)| audience);
    let others: Vec<String> = groups
        .filter_map(|(audience, members)| {
            let audience = audience?;
            Some(format!(
                "tokens of {}: `{audience}`",
                names(&members, disclosure, "and")
            ))
        })
        .collect();
    let mut text = match first {
        Some(audience) => format!("the API resource `{audience}`"),
        None if others.is_empty() => return None,
        None => "the API resource".to_owned(),
    };
    if !others.is_empty() {
        text.push_str(&format!(" ({})", others.join("; ")));
    }
    Some(text)
}

/// `` `a`, `b` or another trusted issuer ``: each issuer whose name is public
/// (its keys are fetched, or the user revealed names of static-key issuers)
/// by name, the others only counted, since a static-key issuer's name may be
/// internal.
pub(super) fn names(
    issuers: &[&IssuerScheme],
    disclosure: Disclosure,
    conjunction: &str,
) -> String {
    let mut labels: Vec<String> = Vec::new();
    let mut unnamed = 0;
    for issuer in issuers {
        match issuer.public_name(disclosure) {
            Some(name) => labels.push(format!("`{name}`")),
            None => unnamed += 1,
        }
    }
    let other = match (unnamed, labels.is_empty()) {
        (0, _) => None,
        (1, true) => Some("a trusted issuer"),
        (1, false) => Some("another trusted issuer"),
        (_, true) => Some("trusted issuers"),
        (_, false) => Some("other trusted issuers"),
    };
    labels.extend(other.map(str::to_owned));
    joined(&labels, conjunction)
}

/// `a, b and c`.
pub(super) fn joined(items: &[String], conjunction: &str) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{} {conjunction} {last}", rest.join(", "))
        }
        _ => items.concat(),
    }
}
