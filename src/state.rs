//! What every request handler shares.

use crate::changes::ChangeFeed;
use crate::checkins::Engine;
use crate::metrics::Metrics;
use crate::services::Services;
use crate::settings::Settings;
use crate::store::Store;
use std::sync::Arc;

/// Shared application state (cheap to clone: everything is behind `Arc`).
#[derive(Clone)]
pub struct AppState {
    /// The use cases every handler calls.
    pub services: Services,
    /// The durable store. Handlers go through `services`; this stays for start-up and tests.
    pub store: Arc<dyn Store>,
    /// Published after every accepted change (by the services); tests subscribe here.
    pub feed: ChangeFeed,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Effective settings.
    pub settings: Arc<Settings>,
    /// Verified API keys.
    pub keys: Arc<crate::auth::KeyCache>,
    /// The check-in decision engine (and the limiter, catalog and habits it holds).
    pub engine: Arc<Engine>,
    /// Turns of the check-in path (overload control).
    pub admission: Arc<crate::checkins::admission::Admission>,
    /// Per-app request limits of the device endpoints (429).
    pub quota: Arc<crate::checkins::quota::AppQuota>,
    /// Set when shutdown starts: every answer then closes its connection, and /readyz says
    /// not ready.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}
