//! The issuer's keys as the request path sees them: a lock-free snapshot
//! (arc-swap), refreshed periodically, refetched on an unknown `kid` at most
//! once per interval, with one fetch in flight shared by every request that
//! needs it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::watch;

use crate::algorithm::Algorithm;
use crate::error::{ConfigError, Error};
use crate::fetch;
use crate::jwks::{KeySet, KeySetError};

/// Where the keys come from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// OpenID discovery from the issuer URL.
    Discovery { issuer: String },
    /// An explicit JWKS URI.
    Jwks { uri: String },
    /// Keys given to the builder: never fetched, replaced only by
    /// [`KeyStore::replace`]. `describe` says where they came from.
    Static { describe: String },
}

/// Timing and size limits of the key store (documented on the builder).
#[derive(Debug, Clone)]
pub(crate) struct KeyStoreConfig {
    pub source: KeySource,
    pub algorithms: Vec<Algorithm>,
    pub unknown_kid_refetch_interval: Duration,
    pub default_refresh: Duration,
    pub min_refresh: Duration,
    pub max_refresh: Duration,
    pub retry_after_failure: Duration,
    pub max_response_bytes: usize,
    pub fetch_timeout: Duration,
}

/// One published key set and the number of fetches that produced it.
pub(crate) struct Snapshot {
    pub keys: KeySet,
    /// Bumped on every successful fetch; 0 before the first.
    pub generation: u64,
}

#[derive(Default)]
struct FetchState {
    in_flight: Option<watch::Receiver<bool>>,
    last_unknown_kid_refetch: Option<Instant>,
    /// The error of the latest attempt, when it failed.
    latest_failure: Option<(Instant, ConfigError)>,
}

/// Called with the new key set after every successful fetch.
pub(crate) type OnKeysChanged = Box<dyn Fn(&KeySet) + Send + Sync>;

pub(crate) struct KeyStore {
    config: KeyStoreConfig,
    on_change: Option<OnKeysChanged>,
    client: reqwest::Client,
    current: ArcSwap<Snapshot>,
    discovered: OnceLock<fetch::Discovery>,
    started: Instant,
    /// Milliseconds since `started` after which a background refresh is due.
    refresh_due_ms: AtomicU64,
    state: Mutex<FetchState>,
}

/// What a request that lacks its key should do.
enum Plan {
    Wait(watch::Receiver<bool>),
    Start(Started),
    /// Newer keys than the caller looked at arrived meanwhile: look again.
    Ready,
    Fail(Error),
}

impl KeyStore {
    /// A store that fetches its keys from `config.source` on first use, or,
    /// for a [`KeySource::Static`] source, holds `given` and never fetches.
    pub fn new(
        config: KeyStoreConfig,
        client: reqwest::Client,
        given: Option<KeySet>,
        on_change: Option<OnKeysChanged>,
    ) -> Self {
        let (keys, generation, refresh_due) = match given {
            // Static keys are never refreshed: the refresh is due never.
            Some(keys) => (keys, 1, u64::MAX),
            None => (KeySet::default(), 0, 0),
        };
        KeyStore {
            config,
            on_change,
            client,
            current: ArcSwap::from_pointee(Snapshot { keys, generation }),
            discovered: OnceLock::new(),
            started: Instant::now(),
            refresh_due_ms: AtomicU64::new(refresh_due),
            state: Mutex::new(FetchState::default()),
        }
    }

    /// Whether the keys were given rather than fetched.
    pub fn is_static(&self) -> bool {
        matches!(self.config.source, KeySource::Static { .. })
    }

    /// Replaces given keys (see [`Validator::reload_keys`](crate::Validator::reload_keys)).
    pub fn replace(&self, keys: KeySet) {
        // Under the state lock, so that two reloads never publish two sets
        // under one generation (a cached token's generation must name one set).
        let state = self.lock_state();
        let snapshot = self.publish(keys);
        drop(state);
        tracing::info!(source = %self.describe_source(), keys = snapshot.keys.len(), "replaced static keys");
    }

    /// Makes `keys` the current set under the next generation, and tells the
    /// cache. Callers serialise it: fetches through `in_flight`, reloads
    /// through the state lock.
    fn publish(&self, keys: KeySet) -> Arc<Snapshot> {
        let generation = self.current.load().generation + 1;
        let snapshot = Arc::new(Snapshot { keys, generation });
        self.current.store(Arc::clone(&snapshot));
        if let Some(on_change) = &self.on_change {
            on_change(&snapshot.keys);
        }
        snapshot
    }

    /// The issuer's discovery document, once fetched.
    pub fn discovery(&self) -> Option<&fetch::Discovery> {
        self.discovered.get()
    }

    pub fn algorithms(&self) -> &[Algorithm] {
        &self.config.algorithms
    }

    pub fn max_response_bytes(&self) -> usize {
        self.config.max_response_bytes
    }

    /// The current keys, without locking. Starts a background refresh when one is due.
    pub fn snapshot(self: &Arc<Self>) -> arc_swap::Guard<Arc<Snapshot>> {
        let snapshot = self.current.load();
        if snapshot.generation > 0
            && self.elapsed_ms() >= self.refresh_due_ms.load(Ordering::Relaxed)
        {
            self.spawn_refresh();
        }
        snapshot
    }

    /// Called when the snapshot of generation `seen` has no key for the token:
    /// joins or starts a fetch under the rate limit, or refuses.
    pub async fn fetch_for_missing_key(
        self: &Arc<Self>,
        seen: u64,
    ) -> Result<Arc<Snapshot>, Error> {
        if self.is_static() {
            // Nothing to fetch: a key the given set lacks is simply unknown.
            return Err(crate::error::TokenError::UnknownKey.into());
        }
        let rx = match self.plan_for_missing_key(seen) {
            Plan::Fail(e) => return Err(e),
            Plan::Ready => return Ok(self.current.load_full()),
            Plan::Wait(rx) => rx,
            Plan::Start(started) => started.launch(),
        };
        if !self.wait(rx).await {
            return Err(self.unavailable_now("timed out waiting for the issuer's key set"));
        }
        // The caller is missing a key: if the latest attempt failed, the issuer is the cause.
        let snapshot = self.current.load_full();
        match &self.lock_state().latest_failure {
            Some((_, e)) => Err(unavailable(e, self.config.retry_after_failure)),
            None if snapshot.generation == 0 => {
                Err(self.unavailable_now("the issuer's key set has not been fetched yet"))
            }
            None => Ok(snapshot),
        }
    }

    /// Fetches now unless keys are loaded already; reports the configuration
    /// or fetch error otherwise.
    pub async fn ready(self: &Arc<Self>) -> Result<(), ConfigError> {
        // Two rounds at most: join a fetch in flight, then start one.
        for _ in 0..2 {
            if self.current.load().generation > 0 {
                return Ok(());
            }
            let plan = {
                let mut state = self.lock_state();
                match &state.in_flight {
                    Some(rx) => Plan::Wait(rx.clone()),
                    None => Plan::Start(self.start(&mut state)),
                }
            };
            let rx = match plan {
                Plan::Start(started) => started.launch(),
                Plan::Wait(rx) => rx,
                Plan::Ready | Plan::Fail(_) => continue,
            };
            self.wait(rx).await;
            if self.current.load().generation == 0
                && let Some((_, e)) = &self.lock_state().latest_failure
            {
                return Err(e.clone());
            }
        }
        match self.current.load().generation {
            1.. => Ok(()),
            0 => Err(ConfigError::Fetch {
                url: self.describe_source(),
                reason: "no key set was fetched".into(),
            }),
        }
    }

    fn describe_source(&self) -> String {
        match &self.config.source {
            KeySource::Discovery { issuer } => fetch::discovery_url(issuer),
            KeySource::Jwks { uri } => uri.clone(),
            KeySource::Static { describe } => describe.clone(),
        }
    }

    fn plan_for_missing_key(self: &Arc<Self>, seen: u64) -> Plan {
        let mut state = self.lock_state();
        if let Some(rx) = &state.in_flight {
            return Plan::Wait(rx.clone());
        }
        let generation = self.current.load().generation;
        if generation > seen {
            // A fetch finished between the caller's look and this lock.
            return Plan::Ready;
        }
        if generation == 0 {
            // Cold: retry on demand, but not more often than the failure back-off.
            if let Some((at, e)) = &state.latest_failure {
                let wait = self.config.retry_after_failure.saturating_sub(at.elapsed());
                if !wait.is_zero() {
                    return Plan::Fail(unavailable(e, wait));
                }
            }
            return Plan::Start(self.start(&mut state));
        }
        let window = self.config.unknown_kid_refetch_interval;
        match state.last_unknown_kid_refetch {
            Some(at) if at.elapsed() < window => match &state.latest_failure {
                Some((_, e)) => Plan::Fail(unavailable(e, window.saturating_sub(at.elapsed()))),
                None => Plan::Fail(crate::error::TokenError::UnknownKey.into()),
            },
            _ => {
                state.last_unknown_kid_refetch = Some(Instant::now());
                Plan::Start(self.start(&mut state))
            }
        }
    }

    /// Registers a fetch in flight, to be launched once the state lock is
    /// released (see [`Started::launch`]).
    fn start(self: &Arc<Self>, state: &mut FetchState) -> Started {
        let (tx, rx) = watch::channel(false);
        state.in_flight = Some(rx.clone());
        // Whatever happens, no periodic refresh piles up behind this fetch.
        self.schedule_refresh(self.config.retry_after_failure);
        Started {
            rx,
            fetch: InFlight {
                store: Arc::clone(self),
                tx,
            },
        }
    }

    /// Waits for the fetch in flight; `false` if it did not finish in time.
    async fn wait(&self, mut rx: watch::Receiver<bool>) -> bool {
        // The fetch itself is bounded by the fetch timeout (see `fetch_once`); the
        // margin covers scheduling.
        tokio::time::timeout(
            self.config
                .fetch_timeout
                .saturating_add(Duration::from_millis(500)),
            rx.wait_for(|done| *done),
        )
        .await
        .is_ok()
    }

    fn spawn_refresh(self: &Arc<Self>) {
        if self.is_static() {
            return; // never due (see `new`); this only guards the invariant
        }
        let started = {
            let mut state = self.lock_state();
            if state.in_flight.is_some() {
                return;
            }
            self.start(&mut state)
        };
        started.launch();
    }

    fn unavailable_now(&self, reason: &'static str) -> Error {
        Error::KeysUnavailable {
            reason: reason.into(),
            retry_after: self.config.retry_after_failure.max(Duration::from_secs(1)),
        }
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, FetchState> {
        // A poisoned lock only means a panic elsewhere mid-update of plain data.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn schedule_refresh(&self, after: Duration) {
        let due = self
            .elapsed_ms()
            .saturating_add(u64::try_from(after.as_millis()).unwrap_or(u64::MAX));
        self.refresh_due_ms.store(due, Ordering::Relaxed);
    }

    /// One fetch: discovery when needed, then the JWKS, under one deadline
    /// (the configured timeout), so a waiting request never waits longer.
    async fn fetch_once(&self) -> Result<usize, ConfigError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.config.fetch_timeout, self.download())
            .await
            .unwrap_or_else(|_| {
                Err(ConfigError::Fetch {
                    url: self.describe_source(),
                    reason: "timed out".into(),
                })
            });
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match outcome {
            Ok((uri, keys, max_age)) => {
                let (count, skipped) = (keys.len(), keys.skipped);
                self.publish(keys);
                let refresh = max_age
                    .unwrap_or(self.config.default_refresh)
                    .clamp(self.config.min_refresh, self.config.max_refresh);
                self.schedule_refresh(refresh);
                tracing::info!(url = %uri, outcome = "ok", duration_ms, keys = count, skipped, "fetched JWKS");
                Ok(count)
            }
            Err(e) => {
                tracing::warn!(outcome = "error", duration_ms, error = %e, "JWKS fetch failed");
                Err(e)
            }
        }
    }

    /// Discovery (once) and the key set document, parsed.
    async fn download(&self) -> Result<(String, KeySet, Option<Duration>), ConfigError> {
        let uri = self.jwks_uri().await?;
        let fetched = fetch::get(&self.client, &uri, self.config.max_response_bytes).await?;
        let keys = KeySet::parse(&fetched.body, &self.config.algorithms).map_err(|e| {
            ConfigError::InvalidDocument {
                url: uri.clone(),
                reason: match e {
                    KeySetError::NotJson => "not a JSON Web Key Set".into(),
                    KeySetError::NoUsableKeys => "the key set has no usable signing key".into(),
                },
            }
        })?;
        Ok((uri, keys, fetched.max_age))
    }

    async fn jwks_uri(&self) -> Result<String, ConfigError> {
        let issuer = match &self.config.source {
            KeySource::Jwks { uri } => return Ok(uri.clone()),
            KeySource::Discovery { issuer } => issuer,
            KeySource::Static { describe } => {
                return Err(ConfigError::Fetch {
                    url: describe.clone(),
                    reason: "static keys are never fetched".into(),
                });
            }
        };
        if let Some(discovery) = self.discovered.get() {
            return Ok(discovery.jwks_uri.clone());
        }
        let url = fetch::discovery_url(issuer);
        let fetched = fetch::get(&self.client, &url, self.config.max_response_bytes).await?;
        let discovery = fetch::parse_discovery(&fetched.body, issuer, &url)?;
        tracing::info!(url = %url, jwks_uri = %discovery.jwks_uri, "discovered issuer configuration");
        Ok(self.discovered.get_or_init(|| discovery).jwks_uri.clone())
    }
}

fn unavailable(e: &ConfigError, retry_after: Duration) -> Error {
    Error::KeysUnavailable {
        reason: e.to_string().into(),
        retry_after: retry_after.max(Duration::from_secs(1)),
    }
}

/// A fetch registered as in flight, not yet running.
struct Started {
    rx: watch::Receiver<bool>,
    fetch: InFlight,
}

impl Started {
    /// Runs the fetch as a task of its own, so that a request that gives up (a
    /// client that disconnects) neither cancels it nor frees the rate-limit
    /// window for another attacker-chosen `kid`. Call without the state lock.
    fn launch(self) -> watch::Receiver<bool> {
        let Started { rx, fetch } = self;
        match tokio::runtime::Handle::try_current() {
            // If the task is dropped unpolled (runtime shutting down), dropping
            // `fetch` still clears `in_flight` and releases the waiters.
            Ok(runtime) => drop(runtime.spawn(fetch.run())),
            Err(_) => {
                fetch.store.lock_state().latest_failure = Some((
                    Instant::now(),
                    ConfigError::Fetch {
                        url: fetch.store.describe_source(),
                        reason: "no Tokio runtime to fetch keys on".into(),
                    },
                ));
                drop(fetch);
            }
        }
        rx
    }
}

/// The one fetch in flight, run as a task of its own. Dropping it (when it is
/// done, or unpolled at runtime shutdown) releases the waiters.
struct InFlight {
    store: Arc<KeyStore>,
    tx: watch::Sender<bool>,
}

impl InFlight {
    async fn run(self) {
        let outcome = self.store.fetch_once().await;
        let failed = outcome.is_err();
        self.store.lock_state().latest_failure = outcome.err().map(|e| (Instant::now(), e));
        if failed {
            self.store
                .schedule_refresh(self.store.config.retry_after_failure);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.store.lock_state().in_flight = None;
        let _ = self.tx.send(true);
    }
}
