//! JSON Web Key Sets: the issuer's published keys, judged and parsed once
//! when the set is fetched (with jsonwebtoken's JWK types), kept in the
//! document's order and indexed by `kid`, and the signature check that uses
//! them ([`KeySet::verify`]).
//!
//! Two bounds keep the work one token can cause small whatever the issuer
//! publishes: a set keeps at most [`MAX_JWKS_KEYS`] usable keys, and a token
//! without `kid` is tried against at most [`MAX_KEYS_TRIED_WITHOUT_KID`] of them.
//! With a `kid`, exactly one key is tried: a `kid` naming two different keys
//! for the token's algorithm is ambiguous and refused. One key listed once per
//! algorithm (the same `kid`, or none) is one key for those algorithms.
//!
//! A fetched set skips the entries that can never verify, with a warning; a
//! given set ([`KeySet::from_given`]) is configuration and is refused whole,
//! naming each such entry.

mod key;
mod roca;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use crate::algorithm::Algorithm;
use crate::error::TokenError;

pub(crate) use key::{Unusable, VerifyingKey};

/// The default algorithm allow-list: every asymmetric JWS algorithm, that
/// is every one but the HMAC family that opens [`Algorithm::ALL`].
pub(crate) const DEFAULT_ALGORITHMS: &[Algorithm] = Algorithm::ALL.split_at(3).1;

/// Usable keys kept from one key set; the rest are skipped with a warning.
/// Identity providers publish a handful (two or three during a rotation).
pub const MAX_JWKS_KEYS: usize = 64;

/// Keys of its algorithm, in the set's order, that a token without `kid` is
/// tried against. Issuers with one or two keys often leave `kid` out.
pub const MAX_KEYS_TRIED_WITHOUT_KID: usize = 4;

/// A fetched key set: usable keys in the document's order, indexed by `kid`.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Vec<Arc<VerifyingKey>>,
    by_kid: HashMap<String, Vec<usize>>,
    /// Keys given without `kid`s (PEM): a token's `kid` names none of them,
    /// so it is tried as a token without one.
    any_kid: bool,
    /// How many entries of the document were skipped as unusable.
    pub skipped: usize,
    /// Why keys the issuer must not publish were dropped (a fetched set).
    pub report: Report,
}

/// Why a key set was refused, fetched or given: its message is the `reason`
/// of the [`ConfigError`](crate::ConfigError) that reports it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeySetError {
    #[error("not a JSON Web Key Set")]
    NotJson,
    #[error("no usable signing key for the allowed algorithms")]
    NoUsableKeys,
    /// Given keys that could never verify a token, each named.
    #[error("{}", describe_refused(.0))]
    RefusedKeys(Vec<RefusedKey>),
}

/// One entry of a given key set that could never verify, and why.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RefusedKey {
    /// `keys[2] (kid "a")`, `keys[3]` or `PEM block 2`: where the operator finds it.
    pub key: String,
    pub reason: String,
}

/// Refused keys reported in one message, a few at most: a file of a
/// thousand bad keys should not make a message of a thousand lines.
fn describe_refused(refused: &[RefusedKey]) -> String {
    const SHOWN: usize = 5;
    let mut message = refused
        .iter()
        .take(SHOWN)
        .map(|r| format!("{}: {}", r.key, r.reason))
        .collect::<Vec<_>>()
        .join("; ");
    if refused.len() > SHOWN {
        message.push_str(&format!("; and {} more", refused.len() - SHOWN));
    }
    message
}

/// What [`Assembly::add`] did with a key.
#[derive(PartialEq, Eq)]
enum Added {
    New,
    /// Merged into the entry of the same key.
    Merged,
    /// Dropped: a new key past [`MAX_JWKS_KEYS`].
    OverLimit,
}

/// A key set being assembled: keys in order, merged when one key is listed
/// twice, indexed by `kid`.
#[derive(Default)]
struct Assembly {
    keys: Vec<VerifyingKey>,
    by_kid: HashMap<String, Vec<usize>>,
}

impl Assembly {
    /// The entry holding the same key material under the same `kid` (or
    /// both without one): a key listed once per algorithm is one key.
    fn same_key(&self, key: &VerifyingKey) -> Option<usize> {
        self.keys
            .iter()
            .position(|k| k.kid == key.kid && k.thumbprint == key.thumbprint)
    }

    /// An entry holding different key material under the same `kid`.
    fn other_key_under_kid(&self, key: &VerifyingKey) -> Option<usize> {
        let indices = self.by_kid.get(key.kid.as_ref()?)?;
        indices.iter().copied().find(|&i| {
            self.keys
                .get(i)
                .is_some_and(|k| k.thumbprint != key.thumbprint)
        })
    }

    /// Adds `key`, or merges it into the entry of the same key: the
    /// algorithms of both listings, never one neither was published for.
    fn add(&mut self, key: VerifyingKey) -> Added {
        if let Some(same) = self.same_key(&key).and_then(|i| self.keys.get_mut(i)) {
            same.merge(key);
            return Added::Merged;
        }
        if self.keys.len() >= MAX_JWKS_KEYS {
            return Added::OverLimit;
        }
        if let Some(kid) = &key.kid {
            self.by_kid
                .entry(kid.clone())
                .or_default()
                .push(self.keys.len());
        }
        self.keys.push(key);
        Added::New
    }

    fn finish(self) -> KeySet {
        KeySet {
            keys: self.keys.into_iter().map(Arc::new).collect(),
            by_kid: self.by_kid,
            ..KeySet::default()
        }
    }
}

impl KeySet {
    /// Parses a JWKS document an issuer published. Unusable entries are
    /// skipped (and counted), so one exotic key does not take the others down;
    /// a document with no usable key at all is refused, so that a broken
    /// issuer response never replaces working keys with none. Keys the issuer
    /// must not publish (private keys, weak or ROCA RSA moduli), ambiguous
    /// `kid`s and keys over [`MAX_JWKS_KEYS`] are reported in one warning per set.
    pub fn parse(document: &[u8], allowed: &[Algorithm]) -> Result<KeySet, KeySetError> {
        Self::from_values(parse_document(document)?, allowed)
    }

    /// A key set from JWK values, judged as [`parse`](Self::parse) judges a document's.
    pub fn from_values(
        values: Vec<serde_json::Value>,
        allowed: &[Algorithm],
    ) -> Result<KeySet, KeySetError> {
        let mut assembly = Assembly::default();
        let mut report = Report::default();
        let mut skipped = 0;
        for value in values {
            match VerifyingKey::from_value(value, allowed) {
                Ok(key) => {
                    if assembly.add(key) == Added::OverLimit {
                        report.over_limit += 1;
                        skipped += 1;
                    }
                }
                Err(reason) => {
                    report.count(reason);
                    skipped += 1;
                }
            }
        }
        let mut set = assembly.finish();
        set.skipped = skipped;
        report.ambiguous_kids = set.ambiguous_kids();
        report.warn_if_needed();
        set.report = report;
        if set.keys.is_empty() {
            return Err(KeySetError::NoUsableKeys);
        }
        Ok(set)
    }

    /// Parses a JWKS document the operator gave ([`StaticKeys`](crate::StaticKeys)):
    /// configuration, so every entry must be able to verify a token under
    /// `allowed`. Entries are named `keys[i]`, with their `kid` when they have one.
    pub fn parse_given(document: &[u8], allowed: &[Algorithm]) -> Result<KeySet, KeySetError> {
        let entries = parse_document(document)?
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                let name = match value.get("kid").and_then(serde_json::Value::as_str) {
                    Some(kid) => format!("keys[{index}] (kid {kid:?})"),
                    None => format!("keys[{index}]"),
                };
                (name, value)
            })
            .collect();
        Self::from_given(entries, allowed)
    }

    /// A key set from named JWK values the operator gave. Where a fetched set
    /// skips an entry, this refuses the whole set, naming every entry that
    /// could never verify a token: one that is not a usable public signing
    /// key, that verifies none of the `allowed` algorithms, that is a
    /// different key under a `kid` already used, or that is past
    /// [`MAX_JWKS_KEYS`]. One key listed once per algorithm is one key.
    pub fn from_given(
        entries: Vec<(String, serde_json::Value)>,
        allowed: &[Algorithm],
    ) -> Result<KeySet, KeySetError> {
        let mut assembly = Assembly::default();
        let mut names: Vec<String> = Vec::new();
        let mut refused = Vec::new();
        for (name, value) in entries {
            let reason = match VerifyingKey::from_value(value, allowed) {
                Err(unusable) => unusable.reason().to_owned(),
                Ok(key) => match assembly.other_key_under_kid(&key) {
                    Some(other) => format!(
                        "a different key has the same kid, {}",
                        names.get(other).map_or("", String::as_str)
                    ),
                    None => match assembly.add(key) {
                        // `names` follows the assembly's indices.
                        Added::New => {
                            names.push(name);
                            continue;
                        }
                        Added::Merged => continue,
                        Added::OverLimit => format!("more than {MAX_JWKS_KEYS} keys"),
                    },
                },
            };
            refused.push(RefusedKey { key: name, reason });
        }
        if !refused.is_empty() {
            return Err(KeySetError::RefusedKeys(refused));
        }
        let set = assembly.finish();
        if set.keys.is_empty() {
            return Err(KeySetError::NoUsableKeys);
        }
        Ok(set)
    }

    /// Whether every token is tried as if it had no `kid` (see [`matching_any_kid`](Self::matching_any_kid)).
    pub fn matches_any_kid(&self) -> bool {
        self.any_kid
    }

    /// This set, with every token tried as if it had no `kid`: for keys that
    /// were given without one (PEM), which a token's `kid` can never name.
    pub fn matching_any_kid(mut self) -> KeySet {
        self.any_kid = true;
        self
    }

    /// How many `kid`s name two different keys for one algorithm.
    fn ambiguous_kids(&self) -> usize {
        self.by_kid
            .values()
            .filter(|indices| {
                DEFAULT_ALGORITHMS.iter().any(|&alg| {
                    indices
                        .iter()
                        .filter(|&&i| self.key(i).is_some_and(|k| k.for_algorithm(alg).is_some()))
                        .count()
                        > 1
                })
            })
            .count()
    }

    fn key(&self, index: usize) -> Option<&VerifyingKey> {
        self.keys.get(index).map(|k| &**k)
    }

    /// The thumbprints of the usable keys, in order.
    #[cfg(any(test, feature = "metrics"))]
    pub fn thumbprints(&self) -> impl Iterator<Item = [u8; 32]> + '_ {
        self.keys.iter().map(|k| k.thumbprint)
    }

    /// How many usable keys may verify `alg`.
    pub fn count_for(&self, alg: Algorithm) -> usize {
        self.keys
            .iter()
            .filter(|k| k.for_algorithm(alg).is_some())
            .count()
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The keys a token with this `kid` and `alg` is tried against: the one
    /// key its `kid` names, or without a `kid` the first
    /// [`MAX_KEYS_TRIED_WITHOUT_KID`] keys that may verify `alg`.
    fn candidates(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Vec<&VerifyingKey>, TokenError> {
        let for_alg = |k: &&VerifyingKey| k.for_algorithm(alg).is_some();
        let kid = kid.filter(|_| !self.any_kid);
        let candidates: Vec<&VerifyingKey> = match kid {
            Some(kid) => {
                let usable: Vec<&VerifyingKey> = self
                    .by_kid
                    .get(kid)
                    .ok_or(TokenError::UnknownKey)?
                    .iter()
                    .filter_map(|&i| self.key(i))
                    .filter(for_alg)
                    .collect();
                if usable.len() > 1 {
                    return Err(TokenError::AmbiguousKey);
                }
                usable
            }
            None if self.keys.is_empty() => return Err(TokenError::UnknownKey),
            None => self
                .keys
                .iter()
                .map(|k| &**k)
                .filter(for_alg)
                .take(MAX_KEYS_TRIED_WITHOUT_KID)
                .collect(),
        };
        if candidates.is_empty() {
            return Err(TokenError::AlgorithmMismatch);
        }
        Ok(candidates)
    }

    /// Verifies `signature` over `signing_input` with a key that `kid` names
    /// and that may be used with `alg`; returns that key's thumbprint.
    ///
    /// No key for `kid`: [`TokenError::UnknownKey`]; keys, but none for `alg`:
    /// [`TokenError::AlgorithmMismatch`]; a `kid` naming two keys for `alg`:
    /// [`TokenError::AmbiguousKey`]; no key verifies:
    /// [`TokenError::InvalidSignature`]. At most [`MAX_KEYS_TRIED_WITHOUT_KID`]
    /// signature checks, one with a `kid`.
    pub fn verify(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<[u8; 32], TokenError> {
        self.candidates(kid, alg)?
            .into_iter()
            .find(|key| {
                key.for_algorithm(alg)
                    .is_some_and(|parsed| parsed.verify_sig(signing_input, signature).is_ok())
            })
            .map(|key| key.thumbprint)
            .ok_or(TokenError::InvalidSignature)
    }

    /// Whether a token verified earlier by the key with this `thumbprint`,
    /// under this `kid` and `alg`, would still be tried against that key: it
    /// is still published, still allows `alg`, and its `kid` is not ambiguous.
    pub fn contains(&self, kid: Option<&str>, alg: Algorithm, thumbprint: &[u8; 32]) -> bool {
        self.candidates(kid, alg)
            .is_ok_and(|keys| keys.iter().any(|k| &k.thumbprint == thumbprint))
    }
}

/// The `keys` array of a JWKS document.
fn parse_document(document: &[u8]) -> Result<Vec<serde_json::Value>, KeySetError> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let doc: Document = serde_json::from_slice(document).map_err(|_| KeySetError::NotJson)?;
    Ok(doc.keys)
}

/// What one parse skipped that an operator must hear about.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Report {
    private_keys: usize,
    roca: usize,
    weak_rsa: usize,
    over_limit: usize,
    ambiguous_kids: usize,
}

impl Report {
    fn count(&mut self, reason: Unusable) {
        match reason {
            Unusable::PrivateKey => self.private_keys += 1,
            Unusable::Roca => self.roca += 1,
            Unusable::WeakRsa => self.weak_rsa += 1,
            Unusable::NotForSignatures
            | Unusable::Symmetric
            | Unusable::Unsupported
            | Unusable::NotAllowed
            | Unusable::Malformed => {}
        }
    }

    /// Each reason (the `reason` label of `bearer_policy_keys_refused_total`)
    /// and how many keys it dropped.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub fn reasons(&self) -> [(&'static str, usize); 5] {
        [
            ("private_key", self.private_keys),
            ("roca", self.roca),
            ("weak_rsa", self.weak_rsa),
            ("over_limit", self.over_limit),
            ("ambiguous_kid", self.ambiguous_kids),
        ]
    }

    /// One warning per key set, not one per key or per token.
    fn warn_if_needed(&self) {
        if self.private_keys + self.roca + self.weak_rsa + self.over_limit + self.ambiguous_kids > 0
        {
            tracing::warn!(
                private_keys = self.private_keys,
                roca_moduli = self.roca,
                weak_rsa = self.weak_rsa,
                over_limit = self.over_limit,
                ambiguous_kids = self.ambiguous_kids,
                max_keys = MAX_JWKS_KEYS,
                "the issuer's key set publishes keys that must not verify tokens: they are skipped \
                 (tokens naming an ambiguous kid are refused)"
            );
        }
    }
}
