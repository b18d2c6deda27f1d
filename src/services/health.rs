//! Readiness of what the use cases depend on: the store (reads and a committed write) and the
//! limiter's backend, and with replicas the catalog's lag behind the shared change log.

use crate::catalog::Catalog;
use crate::limits::Limiter;
use crate::store::Store;
use std::sync::Arc;

/// Probes the store and the limiter.
pub struct HealthService {
    store: Arc<dyn Store>,
    limiter: Arc<dyn Limiter>,
    catalog: Arc<Catalog>,
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
    /// The in-memory catalog is recent enough to decide on (always, without a shared log).
    pub catalog: bool,
    /// With a shared change log: how long ago the catalog last caught up with it (ms).
    pub catalog_lag_ms: Option<u64>,
}

impl HealthService {
    /// Probes `store` and `limiter`.
    pub fn new(store: Arc<dyn Store>, limiter: Arc<dyn Limiter>, catalog: Arc<Catalog>) -> Self {
        Self {
            store,
            limiter,
            catalog,
        }
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
            catalog: !self.catalog.is_stale(),
            catalog_lag_ms: self
                .catalog
                .log_age()
                .map(|a| u64::try_from(a.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}
