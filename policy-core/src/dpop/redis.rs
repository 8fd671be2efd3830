//! [`RedisReplayStore`]: DPoP replay protection shared by every replica
//! through one Redis server (feature `redis`): each `jti` is set with
//! `SET key 1 NX PX ttl`, atomic on the server, so a proof accepted by one
//! replica is refused by all the others. Redis unreachable or answering an
//! error is a refusal (503), never an accepted replay.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::replay::{RecordFuture, Recorded, ReplayStore, ReplayStoreError};
use crate::error::ConfigError;

/// A [`ReplayStore`] on a Redis server, shared by every replica of a service.
///
/// ```no_run
/// # extern crate bearer_policy_core as bearer_policy;
/// # async fn run() -> Result<(), bearer_policy::ConfigError> {
/// use std::sync::Arc;
/// use bearer_policy::{RedisReplayStore, Validator};
///
/// let store = RedisReplayStore::new("redis://127.0.0.1:6379").await?;
/// let validator = Validator::builder()
///     .issuer("https://my-tenant.logto.app/oidc")
///     .dpop_public_url("https://api.example.com")
///     .dpop_replay_store(Arc::new(store))
///     .build()?;
/// # Ok(()) }
/// ```
pub struct RedisReplayStore {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

impl RedisReplayStore {
    /// Keys are `dpop:jti:<jti>` by default.
    pub const DEFAULT_PREFIX: &'static str = "dpop:jti:";

    /// A store on the Redis server at `url` (`redis://host:port[/db]`). It
    /// connects lazily and reconnects by itself: a server that starts while
    /// Redis is down answers DPoP requests with 503 until Redis is back.
    /// Each operation waits at most 1 s.
    pub async fn new(url: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidDpop(format!("Redis URL: {reason}"));
        let client = redis::Client::open(url).map_err(|e| invalid(e.to_string()))?;
        let timeout = Duration::from_secs(1);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(RedisReplayStore {
            connection,
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            timeout,
        })
    }

    /// Another key prefix, for several services sharing one Redis.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest wait for one operation. Default: 1 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn set_if_absent(&self, jti: &str, ttl: Duration) -> Result<Recorded, ReplayStoreError> {
        let mut connection = self.connection.clone();
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut key = String::with_capacity(self.prefix.len() + jti.len());
        key.push_str(&self.prefix);
        key.push_str(jti);
        let command = redis::cmd("SET")
            .arg(key)
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(millis)
            .clone();
        let answer = tokio::time::timeout(
            self.timeout,
            command.query_async::<Option<String>>(&mut connection),
        )
        .await;
        match answer {
            Ok(Ok(Some(_))) => Ok(Recorded::New),
            Ok(Ok(None)) => Ok(Recorded::Seen),
            Ok(Err(e)) => {
                let reason = e.category().to_owned();
                tracing::warn!(reason = %reason, "the DPoP replay store (Redis) failed");
                Err(ReplayStoreError::Unavailable(reason))
            }
            Err(_) => {
                tracing::warn!("the DPoP replay store (Redis) did not answer in time");
                Err(ReplayStoreError::Unavailable("timed out".to_owned()))
            }
        }
    }
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ReplayStore for RedisReplayStore {
    fn record<'a>(&'a self, jti: &'a str, ttl: Duration) -> RecordFuture<'a> {
        Box::pin(self.set_if_absent(jti, ttl))
    }
}
