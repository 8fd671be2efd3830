//! Replay protection for DPoP proofs: every accepted proof's `jti` is
//! recorded for as long as the proof could be accepted, and a second proof
//! with the same `jti` is refused. [`ReplayStore`] is the seam; the default
//! is [`InMemoryReplayStore`] (one process), and the `redis` feature adds
//! `RedisReplayStore` for replicas behind a load balancer.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What recording a `jti` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// First seen: recorded, the proof may be used.
    New,
    /// Seen before and not expired: a replay.
    Seen,
}

/// Why a store could not record a `jti`. Either way the proof is refused
/// (503 `dpop_replay_unavailable`): a store that cannot remember must not
/// let a replay through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayStoreError {
    /// The store holds as many unexpired entries as it may.
    #[error("the replay store is full")]
    Full,
    /// The store could not be reached or answered with an error (the reason
    /// names no proof or token).
    #[error("the replay store is unavailable: {0}")]
    Unavailable(String),
}

/// A future returned by [`ReplayStore::record`].
pub type RecordFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Recorded, ReplayStoreError>> + Send + 'a>>;

/// Where the `jti`s of accepted DPoP proofs are remembered. Implement it to
/// share replay protection across replicas through your own store; it must
/// be atomic: two concurrent calls with the same `jti` must not both see
/// [`Recorded::New`].
pub trait ReplayStore: Send + Sync + 'static {
    /// Records `jti` for `ttl` if it is not recorded yet.
    fn record<'a>(&'a self, jti: &'a str, ttl: Duration) -> RecordFuture<'a>;
}

/// The in-process replay store: at most `capacity` unexpired `jti`s; when
/// full it refuses new proofs (503) rather than forget unexpired ones, and
/// it drops expired entries only when full, at most once per expiry. Each
/// `jti` is kept as a 64-bit hash seeded per store: tens of bytes an entry
/// however long the `jti`, and no allocation per proof. Two `jti`s of one
/// hash (about one chance in 10^14 at full capacity) only make the later
/// look like a replay.
pub struct InMemoryReplayStore {
    capacity: usize,
    /// Seeded per store; names each `jti` by 64 bits.
    jti_hasher: foldhash::quality::RandomState,
    entries: Mutex<Entries>,
}

struct Entries {
    // By the `jti`'s seeded hash, not the `jti`: no allocation per proof.
    // Two `jti`s of one hash only make the later look like a replay:
    // refused, never let through. foldhash, not SipHash: a `jti` comes only
    // with a proof signed by a key bound to a valid token, and SipHash cost
    // more than the cache hit it sits beside (BENCHMARKS.md, note 12).
    expiry: HashMap<u64, Instant, foldhash::fast::RandomState>,
    /// When the earliest entry expires: purging earlier frees nothing.
    next_purge: Option<Instant>,
}

impl InMemoryReplayStore {
    /// The default capacity: 100,000 proofs (a few MiB at most).
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store remembering at most `capacity` unexpired `jti`s.
    pub fn new(capacity: usize) -> Self {
        InMemoryReplayStore {
            capacity,
            jti_hasher: foldhash::quality::RandomState::default(),
            entries: Mutex::new(Entries {
                expiry: HashMap::default(),
                next_purge: None,
            }),
        }
    }

    /// How many `jti`s it holds, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.lock().expiry.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Plain data: a panic elsewhere mid-update leaves it consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`ReplayStore::record`] without a future: nothing here waits.
    pub fn record_now(&self, jti: &str, ttl: Duration) -> Result<Recorded, ReplayStoreError> {
        let now = Instant::now();
        let expires = now.checked_add(ttl).unwrap_or(now);
        let jti = self.jti_hasher.hash_one(jti);
        let mut entries = self.lock();
        if let Some(seen) = entries.expiry.get_mut(&jti) {
            if *seen > now {
                return Ok(Recorded::Seen);
            }
            *seen = expires;
            return Ok(Recorded::New);
        }
        if entries.expiry.len() >= self.capacity {
            if entries.next_purge.is_some_and(|at| at <= now) {
                entries.expiry.retain(|_, at| *at > now);
                entries.next_purge = entries.expiry.values().min().copied();
            }
            if entries.expiry.len() >= self.capacity {
                return Err(ReplayStoreError::Full);
            }
        }
        entries.next_purge = Some(entries.next_purge.map_or(expires, |at| at.min(expires)));
        entries.expiry.insert(jti, expires);
        Ok(Recorded::New)
    }
}

impl Default for InMemoryReplayStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for InMemoryReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryReplayStore")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl ReplayStore for InMemoryReplayStore {
    fn record<'a>(&'a self, jti: &'a str, ttl: Duration) -> RecordFuture<'a> {
        Box::pin(std::future::ready(self.record_now(jti, ttl)))
    }
}

/// The store a validator uses: the in-process one without a future, or
/// one of the application's.
#[derive(Clone)]
pub(crate) enum ReplayGuard {
    Memory(Arc<InMemoryReplayStore>),
    Shared(Arc<dyn ReplayStore>),
}

impl ReplayGuard {
    pub async fn record(&self, jti: &str, ttl: Duration) -> Result<Recorded, ReplayStoreError> {
        match self {
            ReplayGuard::Memory(store) => store.record_now(jti, ttl),
            ReplayGuard::Shared(store) => store.record(jti, ttl).await,
        }
    }
}
