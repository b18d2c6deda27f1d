//! Readiness of what the use cases depend on: the store (reads and a committed write) and the
//! limiter's backend.

use crate::limits::Limiter;
use crate::store::Store;
use std::sync::Arc;

/// Probes the store and the limiter.
pub struct HealthService {
    store: Arc<dyn Store>,
    limiter: Arc<dyn Limiter>,
}

/// What each probe found.
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    /// The store answers.
    pub store: bool,
    /// The store can record (a small committed write).
    pub store_writes: bool,
    /// The limiter's backend answers.
    pub limiter: bool,
    /// Which limiter: Redis or the in-process twin.
    pub limiter_kind: &'static str,
}

impl HealthService {
    /// Probes `store` and `limiter`.
    pub fn new(store: Arc<dyn Store>, limiter: Arc<dyn Limiter>) -> Self {
        Self { store, limiter }
    }

    /// Runs every probe at once.
    pub async fn check(&self) -> Checks {
        let (store, writes, limiter) = futures_util::join!(
            self.store.ping(),
            self.store.write_probe(),
            self.limiter.ping()
        );
        Checks {
            store: store.is_ok(),
            store_writes: writes.is_ok(),
            limiter: limiter.is_ok(),
            limiter_kind: self.limiter.kind(),
        }
    }
}
