//! The verified-token cache: a repeat of a token we already verified skips the
//! signature check, and nothing else.
//!
//! Safety rules: a hit needs the byte-identical token (the token itself is
//! the key, compared in full and in constant time); `exp`/`nbf` are rechecked
//! on every hit and an expired entry is dropped; an entry whose signing key
//! left the key set is dropped; only verified tokens are inserted; the cache
//! is bounded (S3-FIFO eviction).
//!
//! The token, not a digest of it, is the key because hashing a token with
//! SHA-256 cost more than everything else on a hit put together (about
//! 0.7 µs for a 640-byte RS256 token); the cache's own seeded hash
//! (foldhash) of the token's length and last bytes picks the bucket, and the
//! full comparison decides.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use quick_cache::Equivalent;

use crate::claims::VerifiedClaims;

/// A verified token, as stored: its exact bytes.
struct CachedToken(Box<[u8]>);

/// A presented token, to look up without copying it: bytes, so that a
/// header's value can be looked up before it is checked as text (a cached
/// token passed every check when it was verified).
#[derive(Clone, Copy)]
pub(crate) struct PresentedToken<'a>(pub &'a [u8]);

/// How many of a token's last bytes its hash reads.
const HASHED_TAIL: usize = 32;

/// Hashes what picks a token's bucket: its length and its last
/// [`HASHED_TAIL`] bytes, the end of the signature. Only verified tokens are
/// stored, and their signatures are the issuer's, unpredictable to a caller:
/// reading the rest would cost a token's length in hashing on every request
/// and spread the entries no better.
fn hash_token<H: Hasher>(bytes: &[u8], state: &mut H) {
    state.write_usize(bytes.len());
    state.write(
        bytes
            .get(bytes.len().saturating_sub(HASHED_TAIL)..)
            .unwrap_or(bytes),
    );
}

// Both hash alike, so a presented token finds its cached twin.
impl Hash for CachedToken {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(&self.0, state);
    }
}

impl Hash for PresentedToken<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(self.0, state);
    }
}

impl PartialEq for CachedToken {
    fn eq(&self, other: &Self) -> bool {
        same_bytes(&self.0, &other.0)
    }
}

impl Eq for CachedToken {}

impl Equivalent<CachedToken> for PresentedToken<'_> {
    fn equivalent(&self, key: &CachedToken) -> bool {
        same_bytes(self.0, &key.0)
    }
}

/// Whether `a` and `b` are the same bytes, in a time that depends on their
/// length only: a lookup may compare a presented token with another caller's
/// cached token (same bucket), and must not reveal how long a prefix matched.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // Every byte, no early exit; the compiler does it a vector at a time.
    let diff = a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y));
    std::hint::black_box(diff) == 0
}

pub(crate) struct TokenCache {
    entries: quick_cache::sync::Cache<CachedToken, Arc<VerifiedClaims>>,
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            entries: quick_cache::sync::Cache::new(capacity),
        }
    }

    pub fn get(&self, token: PresentedToken<'_>) -> Option<Arc<VerifiedClaims>> {
        self.entries.get(&token)
    }

    /// Stores a token that was just verified: a compact JWS whose signature
    /// the issuer's key made, never a token a caller could choose the end
    /// of (an opaque token has its own cache), since the hash reads only
    /// that end.
    pub fn insert(&self, token: PresentedToken<'_>, claims: Arc<VerifiedClaims>) {
        debug_assert!(crate::introspection::is_compact_jws(token.0));
        self.entries.insert(CachedToken(token.0.into()), claims);
    }

    pub fn remove(&self, token: PresentedToken<'_>) {
        self.entries.remove(&token);
    }

    /// Keeps only the entries whose key still verifies them.
    pub fn retain_keys(&self, still_verifies: impl Fn(&VerifiedClaims) -> bool) {
        self.entries.retain(|_, claims| still_verifies(claims));
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher as _;

    #[test]
    fn a_hit_needs_the_byte_identical_token() {
        let cache = TokenCache::new(10);
        let claims = Arc::new(crate::claims::tests::sample_claims());
        cache.insert(PresentedToken(b"a.b.c"), claims);
        assert!(cache.get(PresentedToken(b"a.b.c")).is_some());
        for other in ["a.b.d", "a.b.", "a.b.cc", "A.b.c", ""] {
            assert!(
                cache.get(PresentedToken(other.as_bytes())).is_none(),
                "{other}"
            );
        }
    }

    /// Tokens of one length and one signature end share a bucket, never an
    /// entry: each finds its own claims, and a third like them finds none.
    #[test]
    fn tokens_alike_in_what_is_hashed_stay_apart() {
        let cache = TokenCache::new(10);
        let tail = "s".repeat(HASHED_TAIL);
        let (first, second) = (format!("a.b.{tail}"), format!("a.c.{tail}"));
        let hasher = std::collections::hash_map::RandomState::new();
        let hash = |token: &str| hasher.hash_one(PresentedToken(token.as_bytes()));
        assert_eq!(hash(&first), hash(&second), "one bucket");
        assert_ne!(
            hash(&first),
            hash(&format!("a.b.{tail}x")),
            "another length"
        );
        let claims = |sub: &str| {
            let mut claims = crate::claims::tests::sample_claims();
            claims.sub = Some(sub.into());
            Arc::new(claims)
        };
        cache.insert(PresentedToken(first.as_bytes()), claims("first"));
        cache.insert(PresentedToken(second.as_bytes()), claims("second"));
        let sub_of = |token: &str| {
            cache
                .get(PresentedToken(token.as_bytes()))
                .and_then(|claims| claims.sub.clone())
        };
        assert_eq!(sub_of(&first).as_deref(), Some("first"));
        assert_eq!(sub_of(&second).as_deref(), Some("second"));
        assert_eq!(sub_of(&format!("a.d.{tail}")), None);
    }

    #[test]
    fn comparison_covers_every_byte() {
        let token = "x".repeat(37);
        for i in 0..token.len() {
            let mut other = token.clone().into_bytes();
            other[i] = b'y';
            assert!(!same_bytes(token.as_bytes(), &other), "byte {i}");
        }
        assert!(same_bytes(token.as_bytes(), token.as_bytes()));
        assert!(!same_bytes(b"abc", b"abcd"));
    }

    #[test]
    fn capacity_bounds_the_number_of_entries() {
        let cache = TokenCache::new(100);
        let claims = Arc::new(crate::claims::tests::sample_claims());
        for i in 0..10_000 {
            cache.insert(
                PresentedToken(format!("a.b.{i}").as_bytes()),
                claims.clone(),
            );
        }
        assert!(cache.len() <= 100, "{} entries", cache.len());
    }
}
