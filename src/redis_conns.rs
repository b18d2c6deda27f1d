//! Redis connections per thread.
//!
//! actix-web runs each worker on its own single-threaded runtime. A connection manager lives
//! where it was created, so with one shared manager every Redis call of a request crossed
//! to another thread and back (a wake-up and a context switch each way): under load that made
//! each call take about a millisecond on two cores. Here each thread gets its own connection
//! the first time it asks, and a request's calls stay on its thread.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Connections for calls bounded by `timeout`: each answer within it, a short capped
/// back-off after errors so service returns within a second or two of an outage.
pub fn config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(timeout))
        .set_connection_timeout(Some(timeout.max(MIN_CONNECT_TIMEOUT)))
        .set_min_delay(Duration::from_millis(10))
        .set_max_delay(Duration::from_millis(200))
        .set_number_of_retries(3)
}

/// The initial connection may take longer than one call (TCP, TLS, AUTH), but start-up
/// must still fail fast when Redis is not there.
pub const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

thread_local! {
    /// This thread's connections, by the id of the [`PerThread`] that made them.
    static CONNS: RefCell<HashMap<u64, ConnectionManager>> = RefCell::new(HashMap::new());
}

/// One Redis server's connections, one per thread that uses it.
pub struct PerThread {
    id: u64,
    client: redis::Client,
    config: ConnectionManagerConfig,
    connect_timeout: Duration,
    /// Made at start-up (so a wrong URL fails start-up); used until a thread has its own.
    shared: ConnectionManager,
}

impl PerThread {
    /// Connects once now (start-up fails fast when Redis is not there) and lazily per thread.
    pub async fn connect(
        client: redis::Client,
        config: ConnectionManagerConfig,
        connect_timeout: Duration,
    ) -> redis::RedisResult<Self> {
        let shared = ConnectionManager::new_with_config(client.clone(), config.clone()).await?;
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            client,
            config,
            connect_timeout,
            shared,
        })
    }

    /// This thread's connection; the shared one while it cannot be made (it reconnects by
    /// itself, and the next call tries again).
    pub async fn get(&self) -> ConnectionManager {
        if let Some(conn) = CONNS.with(|m| m.borrow().get(&self.id).cloned()) {
            return conn;
        }
        let made = tokio::time::timeout(
            self.connect_timeout,
            ConnectionManager::new_with_config(self.client.clone(), self.config.clone()),
        )
        .await;
        match made {
            Ok(Ok(conn)) => {
                CONNS.with(|m| m.borrow_mut().insert(self.id, conn.clone()));
                conn
            }
            _ => self.shared.clone(),
        }
    }
}

impl Drop for PerThread {
    fn drop(&mut self) {
        // Only this thread's entry can be reached; other threads' entries go with their
        // threads (actix workers end with the server).
        let _ = CONNS.try_with(|m| m.borrow_mut().remove(&self.id));
    }
}
