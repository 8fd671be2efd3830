//! The verified-token cache: a repeat of a token we already verified skips the
//! signature check, and nothing else.
//!
//! Safety rules: a hit needs the byte-identical token (SHA-256 of it as key);
//! `exp`/`nbf` are rechecked on every hit and an expired entry is dropped;
//! an entry whose signing key left the key set is dropped; only verified
//! tokens are inserted; the cache is bounded (S3-FIFO eviction).

use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};

use crate::claims::Claims;

/// SHA-256 of the token: collision-resistant, so a hit means the same bytes.
pub(crate) type TokenDigest = [u8; 32];

pub(crate) fn token_digest(token: &str) -> TokenDigest {
    token_digest_bytes(token.as_bytes())
}

/// SHA-256 of arbitrary bytes.
pub(crate) fn token_digest_bytes(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

pub(crate) struct TokenCache {
    entries: quick_cache::sync::Cache<TokenDigest, Arc<Claims>>,
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            entries: quick_cache::sync::Cache::new(capacity),
        }
    }

    pub fn get(&self, key: &TokenDigest) -> Option<Arc<Claims>> {
        self.entries.get(key)
    }

    pub fn insert(&self, key: TokenDigest, claims: Arc<Claims>) {
        self.entries.insert(key, claims);
    }

    pub fn remove(&self, key: &TokenDigest) {
        self.entries.remove(key);
    }

    /// Keeps only the entries whose key is still published.
    pub fn retain_keys(&self, still_published: impl Fn(Option<&str>, &[u8; 32]) -> bool) {
        self.entries
            .retain(|_, claims| still_published(claims.key_id.as_deref(), &claims.key_thumbprint));
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_differs_for_one_changed_byte() {
        assert_ne!(token_digest("a.b.c"), token_digest("a.b.d"));
        assert_eq!(token_digest("a.b.c"), token_digest("a.b.c"));
    }

    #[test]
    fn capacity_bounds_the_number_of_entries() {
        let cache = TokenCache::new(100);
        let claims = Arc::new(crate::claims::tests::sample_claims());
        for i in 0..10_000 {
            cache.insert(token_digest(&format!("token-{i}")), claims.clone());
        }
        assert!(cache.len() <= 100, "{} entries", cache.len());
    }
}
