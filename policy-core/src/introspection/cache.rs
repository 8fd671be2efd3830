//! Introspection results, keyed by the SHA-256 of the token (never the
//! token itself: an opaque token is a bearer secret, and a digest of a
//! random token reveals nothing), each with its own deadline, bounded in
//! memory, with one loader per key (quick_cache's placeholder guard) so
//! that concurrent requests with one token make one call.

use std::sync::Arc;
use std::time::Instant;

use crate::claims::VerifiedClaims;
use crate::error::TokenError;

/// The SHA-256 of a token.
pub(super) type TokenDigest = [u8; 32];

/// One result and when it stops being used.
#[derive(Clone)]
pub(super) struct Entry {
    pub until: Instant,
    pub outcome: Result<Arc<VerifiedClaims>, TokenError>,
}

impl Entry {
    pub fn fresh(&self, now: Instant) -> bool {
        now < self.until
    }
}

/// The memory an entry holds, roughly: its claims (the payload and the
/// parsed copies, both bounded by the response size) and a fixed overhead.
#[derive(Clone)]
pub(super) struct EntryWeight;

/// The weight of an entry with no payload, in bytes.
const BASE_WEIGHT: u64 = 256;

/// The memory budget per result of [`Introspection::cache_capacity`](crate::Introspection::cache_capacity).
pub(super) const BYTES_PER_RESULT: u64 = 1024;

impl quick_cache::Weighter<TokenDigest, Entry> for EntryWeight {
    fn weight(&self, _: &TokenDigest, entry: &Entry) -> u64 {
        let payload = entry
            .outcome
            .as_ref()
            .map_or(0, |claims| claims.payload.len());
        // Parsed claims are copies of payload bytes: count them twice.
        BASE_WEIGHT.saturating_add(2 * payload as u64)
    }
}

pub(super) type ResultCache = quick_cache::sync::Cache<TokenDigest, Entry, EntryWeight>;

/// A cache for about `results` results, its memory bounded to
/// [`BYTES_PER_RESULT`] each.
pub(super) fn new(results: usize) -> ResultCache {
    let weight = (results as u64).saturating_mul(BYTES_PER_RESULT);
    ResultCache::with_weighter(results.max(1), weight.max(1), EntryWeight)
}

/// The key of `token`.
pub(super) fn digest(token: &str) -> TokenDigest {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    <TokenDigest>::try_from(digest.as_ref()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn memory_is_bounded_whatever_the_results_weigh() {
        let cache = new(100);
        let mut claims = crate::claims::tests::sample_claims();
        claims.payload = vec![b' '; 4000].into_boxed_slice();
        let claims = Arc::new(claims);
        let until = Instant::now() + Duration::from_secs(60);
        for i in 0..1000 {
            let entry = Entry {
                until,
                outcome: Ok(Arc::clone(&claims)),
            };
            cache.insert(digest(&format!("token-{i}")), entry);
        }
        assert!(
            cache.weight() <= 100 * BYTES_PER_RESULT,
            "{}",
            cache.weight()
        );
        assert!(cache.len() < 100, "{} results", cache.len());
    }

    #[test]
    fn the_key_is_a_digest_not_the_token() {
        let key = digest("opaque-token");
        assert_ne!(&key[..12], b"opaque-token");
        assert_eq!(key, digest("opaque-token"));
        assert_ne!(key, digest("opaque-tokem"));
    }
}
