//! The decision engine: what a check-in decision consults, behind a constructor. The decision
//! itself is `decide.rs`, one file per step beside it.

use super::EngineMetrics;
pub use super::answer::claim_key;
pub use super::config::{DEFAULT_MAX_PLAUSIBLE_SPEED_KMH, EngineConfig};
use super::devices::{DEVICE_MEMORY, Devices};
use super::writer::DecisionWriter;
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::habits::Habits;
use crate::limits::Limiter;
use crate::people::gate::ConsentGate;
use crate::store::Store;
use crate::weather::WeatherProvider;
use std::sync::Arc;

/// The decision engine and everything it consults.
pub struct Engine {
    pub(super) catalog: Arc<Catalog>,
    pub(super) store: Arc<dyn Store>,
    pub(super) limiter: Arc<dyn Limiter>,
    pub(super) consents: Arc<dyn ConsentGate>,
    pub(super) habits: Arc<dyn Habits>,
    pub(super) weather: Arc<dyn WeatherProvider>,
    pub(super) writer: DecisionWriter,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) config: EngineConfig,
    pub(super) metrics: EngineMetrics,
    /// Per replica: each device's last in-fence report (plausibility).
    pub(super) devices: Devices,
}

/// What an [`Engine`] is built from.
pub struct EngineParts {
    /// Live fences and offers.
    pub catalog: Arc<Catalog>,
    /// Durable store.
    pub store: Arc<dyn Store>,
    /// Strict caps.
    pub limiter: Arc<dyn Limiter>,
    /// Consent without a store round trip (beside the limiter: Redis or in-process).
    pub consents: Arc<dyn ConsentGate>,
    /// Visits and habits.
    pub habits: Arc<dyn Habits>,
    /// Weather at the spot.
    pub weather: Arc<dyn WeatherProvider>,
    /// Group-commit writer of decisions.
    pub writer: DecisionWriter,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: EngineConfig,
    /// Counters.
    pub metrics: EngineMetrics,
}

impl Engine {
    /// An engine over these dependencies.
    pub fn new(p: EngineParts) -> Self {
        Self {
            catalog: p.catalog,
            store: p.store,
            limiter: p.limiter,
            consents: p.consents,
            habits: p.habits,
            weather: p.weather,
            writer: p.writer,
            clock: p.clock,
            config: p.config,
            metrics: p.metrics,
            devices: Devices::new(DEVICE_MEMORY),
        }
    }

    /// Live fences and offers.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Strict caps (also cool-downs and erasure of cap state).
    pub fn limiter(&self) -> &Arc<dyn Limiter> {
        &self.limiter
    }

    /// The consent gate.
    pub fn consents(&self) -> &Arc<dyn ConsentGate> {
        &self.consents
    }

    /// Visits and habits.
    pub fn habits(&self) -> &Arc<dyn Habits> {
        &self.habits
    }

    /// The time.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}
