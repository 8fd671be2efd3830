//! An issuer's keys as the request path sees them: a lock-free snapshot
//! (arc-swap), published by the issuer's [`KeySource`]. Fetched keys are
//! refreshed periodically, refetched on an unknown `kid` at most once per
//! interval, with one fetch in flight shared by every request that needs it,
//! and a back-off after failures; given keys change only when reloaded. The
//! HTTP itself is [`fetch`]'s.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::algorithm::Algorithm;
use crate::error::{ConfigError, Error, TokenError};
use crate::fetch::{self, KeyFetcher};
use crate::jwks::KeySet;
use crate::observe::{self, IssuerMetrics};
use crate::readiness::{IssuerReadiness, KeysSource, unix_seconds};
use crate::static_keys::StaticKeys;

/// Timing and size limits of every issuer's key store (documented on the builder).
#[derive(Debug, Clone)]
pub(crate) struct KeyStoreConfig {
    pub algorithms: Vec<Algorithm>,
    pub unknown_kid_refetch_interval: Duration,
    pub default_refresh: Duration,
    pub min_refresh: Duration,
    pub max_refresh: Duration,
    pub retry_after_failure: Duration,
    pub max_response_bytes: usize,
    pub fetch_timeout: Duration,
}

/// One published key set and the number of publications that produced it.
pub(crate) struct Snapshot {
    pub keys: KeySet,
    /// Bumped on every set published; 0 before the first fetch.
    pub generation: u64,
}

/// Called with the new key set after every successful fetch or reload.
pub(crate) type OnKeysChanged = Box<dyn Fn(&KeySet) + Send + Sync>;

/// One issuer's current keys, and where newer ones come from.
pub(crate) struct KeyStore {
    published: Arc<Published>,
    source: KeySource,
}

/// Where a store's keys come from: the one place where fetched and given
/// keys part ways.
enum KeySource {
    /// Downloaded from the issuer, by the refresh state machine.
    Fetched(Arc<Refresher>),
    /// Given to the builder: never fetched, replaced only by a reload.
    Static(GivenKeys),
}

/// The current snapshot, and who hears of a new one.
struct Published {
    current: ArcSwap<Snapshot>,
    on_change: Option<OnKeysChanged>,
    metrics: IssuerMetrics,
}

impl Published {
    fn new(
        keys: KeySet,
        generation: u64,
        on_change: Option<OnKeysChanged>,
        metrics: IssuerMetrics,
    ) -> Arc<Self> {
        metrics.loaded(&keys);
        Arc::new(Published {
            current: ArcSwap::from_pointee(Snapshot { keys, generation }),
            on_change,
            metrics,
        })
    }

    fn generation(&self) -> u64 {
        self.current.load().generation
    }

    /// Makes `keys` the current set under the next generation, and tells the
    /// cache. Callers serialise it (fetches through `in_flight`, reloads
    /// through their lock), so that two sets never share one generation: a
    /// cached token's generation must name one set.
    fn publish(&self, keys: KeySet) -> Arc<Snapshot> {
        let generation = self.generation() + 1;
        self.metrics.published(&self.current.load().keys, &keys);
        let snapshot = Arc::new(Snapshot { keys, generation });
        self.current.store(Arc::clone(&snapshot));
        if let Some(on_change) = &self.on_change {
            on_change(&snapshot.keys);
        }
        snapshot
    }
}

/// Keys given up front, and what judging a replacement needs.
struct GivenKeys {
    algorithms: Vec<Algorithm>,
    max_bytes: usize,
    /// Serialises reloads (see [`Published::publish`]).
    reloading: Mutex<()>,
}

impl KeyStore {
    /// A store whose keys `fetcher` downloads on first use.
    pub fn fetched(
        issuer: &str,
        fetcher: KeyFetcher,
        config: KeyStoreConfig,
        on_change: Option<OnKeysChanged>,
        metrics: IssuerMetrics,
    ) -> Self {
        let published = Published::new(KeySet::default(), 0, on_change, metrics);
        let refresher = Refresher {
            issuer: Arc::from(issuer),
            fetcher,
            config,
            published: Arc::clone(&published),
            started: Instant::now(),
            refresh_due_ms: AtomicU64::new(0),
            state: Mutex::new(FetchState::default()),
        };
        KeyStore {
            published,
            source: KeySource::Fetched(Arc::new(refresher)),
        }
    }

    /// A store of `keys`, read and judged now; never fetched.
    pub fn given(
        keys: &StaticKeys,
        config: &KeyStoreConfig,
        on_change: Option<OnKeysChanged>,
        metrics: IssuerMetrics,
    ) -> Result<Self, ConfigError> {
        let set = keys.load(&config.algorithms, config.max_response_bytes)?;
        Ok(KeyStore {
            published: Published::new(set, 1, on_change, metrics),
            source: KeySource::Static(GivenKeys {
                algorithms: config.algorithms.clone(),
                max_bytes: config.max_response_bytes,
                reloading: Mutex::new(()),
            }),
        })
    }

    /// Whether the keys are fetched from the issuer rather than given.
    pub fn fetches_keys(&self) -> bool {
        matches!(self.source, KeySource::Fetched(_))
    }

    /// The issuer's discovery document, once fetched.
    pub fn discovery(&self) -> Option<&fetch::Discovery> {
        match &self.source {
            KeySource::Fetched(refresher) => refresher.fetcher.discovery(),
            KeySource::Static(_) => None,
        }
    }

    /// Replaces given keys with `keys`, read and judged first: on any error
    /// the old ones stay (see [`Validator::reload_keys`](crate::Validator::reload_keys)).
    pub fn reload(&self, issuer: &str, keys: &StaticKeys) -> Result<(), ConfigError> {
        let KeySource::Static(given) = &self.source else {
            return Err(ConfigError::NotStatic(issuer.to_owned()));
        };
        let set = keys
            .load(&given.algorithms, given.max_bytes)
            .inspect_err(|e| self.published.metrics.reload_refused(e))?;
        let reloading = lock(&given.reloading);
        let snapshot = self.published.publish(set);
        drop(reloading);
        tracing::info!(source = %keys.describe(), keys = snapshot.keys.len(), "replaced static keys");
        Ok(())
    }

    /// The current keys, without locking. Starts a background refresh when one is due.
    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        let snapshot = self.published.current.load();
        if let KeySource::Fetched(refresher) = &self.source {
            refresher.refresh_if_due(snapshot.generation);
        }
        snapshot
    }

    /// Called when the snapshot of generation `seen` has no key for the token:
    /// joins or starts a fetch under the rate limit, or refuses.
    pub async fn fetch_for_missing_key(&self, seen: u64) -> Result<Arc<Snapshot>, Error> {
        match &self.source {
            KeySource::Fetched(refresher) => refresher.fetch_for_missing_key(seen).await,
            // Nothing to fetch: a key the given set lacks is simply unknown.
            KeySource::Static(_) => Err(TokenError::UnknownKey.into()),
        }
    }

    /// What the readiness report says of this store: its keys, and for
    /// fetched keys the latest success, the latest error and the next refresh.
    pub fn readiness(&self, issuer: &str) -> IssuerReadiness {
        let snapshot = self.published.current.load();
        let mut report = IssuerReadiness::new(issuer, snapshot.generation > 0, snapshot.keys.len());
        if let KeySource::Fetched(refresher) = &self.source {
            report.keys_source = KeysSource::Fetched;
            let state = refresher.lock_state();
            report.last_success_at = state.last_success.map(unix_seconds);
            if let Some((at, error)) = &state.last_error {
                report.last_error_at = Some(unix_seconds(*at));
                report.last_error = Some(error.clone());
            }
            drop(state);
            let due = refresher.refresh_due_ms.load(Ordering::Relaxed);
            let left = Duration::from_millis(due.saturating_sub(refresher.elapsed_ms()));
            // Before the first fetch, nothing is scheduled: keys are fetched on demand.
            report.next_refresh_at =
                (snapshot.generation > 0).then(|| unix_seconds(SystemTime::now() + left));
        }
        report
    }

    /// Fetches now unless keys are loaded already; reports the configuration
    /// or fetch error otherwise. Given keys are always loaded.
    pub async fn ready(&self) -> Result<(), ConfigError> {
        match &self.source {
            KeySource::Fetched(refresher) => refresher.ready().await,
            KeySource::Static(_) => Ok(()),
        }
    }
}

/// The state machine of fetched keys: when to fetch, who waits for whom,
/// and how long to back off after a failure.
struct Refresher {
    /// As configured: the key refresh span names it.
    issuer: Arc<str>,
    fetcher: KeyFetcher,
    config: KeyStoreConfig,
    published: Arc<Published>,
    started: Instant,
    /// Milliseconds since `started` after which a background refresh is due.
    refresh_due_ms: AtomicU64,
    state: Mutex<FetchState>,
}

#[derive(Default)]
struct FetchState {
    in_flight: Option<watch::Receiver<bool>>,
    last_unknown_kid_refetch: Option<Instant>,
    /// The error of the latest attempt, when it failed.
    latest_failure: Option<(Instant, ConfigError)>,
    /// When a fetch last succeeded (the readiness report).
    last_success: Option<SystemTime>,
    /// The latest failure, kept after a success (the readiness report).
    last_error: Option<(SystemTime, String)>,
}

/// What a request that lacks its key should do.
enum Plan {
    Wait(watch::Receiver<bool>),
    Start(Started),
    /// Newer keys than the caller looked at arrived meanwhile: look again.
    Ready,
    Fail(Error),
}

impl Refresher {
    /// Starts a background refresh if one is due (never before the first fetch).
    fn refresh_if_due(self: &Arc<Self>, generation: u64) {
        if generation > 0 && self.elapsed_ms() >= self.refresh_due_ms.load(Ordering::Relaxed) {
            self.spawn_refresh();
        }
    }

    async fn fetch_for_missing_key(self: &Arc<Self>, seen: u64) -> Result<Arc<Snapshot>, Error> {
        let rx = match self.plan_for_missing_key(seen) {
            Plan::Fail(e) => return Err(e),
            Plan::Ready => return Ok(self.published.current.load_full()),
            Plan::Wait(rx) => rx,
            Plan::Start(started) => started.launch(),
        };
        if !self.wait(rx).await {
            return Err(self.unavailable("timed out waiting for the issuer's key set"));
        }
        // The caller is missing a key: if the latest attempt failed, the issuer is the cause.
        let snapshot = self.published.current.load_full();
        match &self.lock_state().latest_failure {
            Some((_, e)) => Err(keys_unavailable(
                e.to_string(),
                self.config.retry_after_failure,
            )),
            None if snapshot.generation == 0 => {
                Err(self.unavailable("the issuer's key set has not been fetched yet"))
            }
            None => Ok(snapshot),
        }
    }

    async fn ready(self: &Arc<Self>) -> Result<(), ConfigError> {
        // Two rounds at most: join a fetch in flight, then start one.
        for _ in 0..2 {
            if self.published.generation() > 0 {
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
            if self.published.generation() == 0
                && let Some((_, e)) = &self.lock_state().latest_failure
            {
                return Err(e.clone());
            }
        }
        match self.published.generation() {
            1.. => Ok(()),
            0 => Err(self.fetcher.error("no key set was fetched")),
        }
    }

    fn plan_for_missing_key(self: &Arc<Self>, seen: u64) -> Plan {
        let mut state = self.lock_state();
        if let Some(rx) = &state.in_flight {
            return Plan::Wait(rx.clone());
        }
        let generation = self.published.generation();
        if generation > seen {
            // A fetch finished between the caller's look and this lock.
            return Plan::Ready;
        }
        if generation == 0 {
            // Cold: retry on demand, but not more often than the failure back-off.
            if let Some((at, e)) = &state.latest_failure {
                let wait = self.config.retry_after_failure.saturating_sub(at.elapsed());
                if !wait.is_zero() {
                    return Plan::Fail(keys_unavailable(e.to_string(), wait));
                }
            }
            return Plan::Start(self.start(&mut state));
        }
        let window = self.config.unknown_kid_refetch_interval;
        match state.last_unknown_kid_refetch {
            Some(at) if at.elapsed() < window => match &state.latest_failure {
                Some((_, e)) => Plan::Fail(keys_unavailable(
                    e.to_string(),
                    window.saturating_sub(at.elapsed()),
                )),
                None => Plan::Fail(TokenError::UnknownKey.into()),
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
                refresher: Arc::clone(self),
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
        let started = {
            let mut state = self.lock_state();
            if state.in_flight.is_some() {
                return;
            }
            self.start(&mut state)
        };
        started.launch();
    }

    /// A 503 for `reason`, retried after the failure back-off.
    fn unavailable(&self, reason: &'static str) -> Error {
        keys_unavailable(reason, self.config.retry_after_failure)
    }

    fn lock_state(&self) -> MutexGuard<'_, FetchState> {
        lock(&self.state)
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
        let timer = self.published.metrics.timer();
        let download = self.fetcher.download(&self.config.algorithms);
        let outcome = tokio::time::timeout(self.config.fetch_timeout, download)
            .await
            .unwrap_or_else(|_| Err(self.fetcher.error(fetch::TIMED_OUT)));
        // Counted before the keys are published, so that the counters never
        // show a change before the fetch that caused it.
        self.published
            .metrics
            .fetch(timer, outcome.as_ref().map(|d| d.keys.len()));
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match outcome {
            Ok(downloaded) => {
                let (count, skipped) = (downloaded.keys.len(), downloaded.keys.skipped);
                self.published.publish(downloaded.keys);
                let refresh = downloaded
                    .max_age
                    .unwrap_or(self.config.default_refresh)
                    .clamp(self.config.min_refresh, self.config.max_refresh);
                self.schedule_refresh(refresh);
                tracing::info!(url = %downloaded.uri, outcome = "ok", duration_ms, keys = count, skipped, "fetched JWKS");
                Ok(count)
            }
            Err(e) => {
                tracing::warn!(outcome = "error", duration_ms, error = %e, "JWKS fetch failed");
                Err(e)
            }
        }
    }
}

/// The one way the key store answers 503: `reason` for the logs, and a
/// `Retry-After` of at least a second.
fn keys_unavailable(reason: impl Into<Cow<'static, str>>, retry_after: Duration) -> Error {
    Error::KeysUnavailable {
        reason: reason.into(),
        retry_after: retry_after.max(Duration::from_secs(1)),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere mid-update of plain data.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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
                let refresher = &fetch.refresher;
                refresher.lock_state().latest_failure = Some((
                    Instant::now(),
                    refresher.fetcher.error("no Tokio runtime to fetch keys on"),
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
    refresher: Arc<Refresher>,
    tx: watch::Sender<bool>,
}

impl InFlight {
    async fn run(self) {
        let span = observe::key_refresh_span(&self.refresher.issuer);
        let outcome = self.refresher.fetch_once().instrument(span.clone()).await;
        observe::record_refresh(&span, &outcome);
        let failed = outcome.is_err();
        let mut state = self.refresher.lock_state();
        match &outcome {
            Ok(_) => state.last_success = Some(SystemTime::now()),
            Err(e) => state.last_error = Some((SystemTime::now(), e.to_string())),
        }
        state.latest_failure = outcome.err().map(|e| (Instant::now(), e));
        drop(state);
        if failed {
            self.refresher
                .schedule_refresh(self.refresher.config.retry_after_failure);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.refresher.lock_state().in_flight = None;
        let _ = self.tx.send(true);
    }
}
