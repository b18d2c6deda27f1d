//! The decision engine: what a check-in decision consults, behind a constructor. The decision
//! itself is `decide.rs`, one file per step beside it.

use super::EngineMetrics;
pub use super::answer::claim_key;
pub use super::config::{DEFAULT_MAX_PLAUSIBLE_SPEED_KMH, EngineConfig};
use super::devices::{DEVICE_MEMORY, Devices};
use super::writer::{DecisionWriter, Kept};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::domain::BrandId;
use crate::habits::Habits;
use crate::limits::Limiter;
use crate::people::Profile;
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
    pub(super) subjects: Subjects,
    /// Per replica: each device's last in-fence report (plausibility).
    pub(super) devices: Devices,
}

/// Whose decisions an engine makes.
#[derive(Debug, Default)]
pub enum Subjects {
    /// Real people (the engine of `POST /v1/checkins`): what was decided before and their
    /// profile are read from the store.
    #[default]
    People,
    /// A test person of one brand ("Try it", `services::trial`): only that brand's fences
    /// match, no earlier decision is looked up, and the profile is the test person's own, so
    /// no real person's record is read. The caller gives such an engine in-memory twins
    /// for the hot state and a writer that keeps its record in memory.
    Test(TestPerson),
}

/// A synthetic person for a test decision: never anyone's data.
#[derive(Debug, Clone)]
pub struct TestPerson {
    /// The brand whose fences and offers are tried.
    pub brand: BrandId,
    /// Follows, interests and purchases the audience rules and the copy read.
    pub profile: Profile,
}

impl Subjects {
    /// The brand a test decision is limited to; `None` for real people.
    pub(super) fn only_brand(&self) -> Option<&BrandId> {
        match self {
            Subjects::People => None,
            Subjects::Test(t) => Some(&t.brand),
        }
    }
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
    /// Real people, or one test person.
    pub subjects: Subjects,
}

/// What an engine that decides outside the deployment is built from: "Try it" (one test
/// decision) and `geoffer simulate` (a synthetic city). It records in memory and counts on a
/// registry of its own, so nothing of it is saved or appears in `/metrics`.
pub struct OffRecordParts {
    /// Live fences and offers.
    pub catalog: Arc<Catalog>,
    /// Durable store (read only: prior decisions and profiles of [`Subjects::People`]).
    pub store: Arc<dyn Store>,
    /// Caps: in-process twins the caller keeps (fresh per trial, one per simulation).
    pub limiter: Arc<dyn Limiter>,
    /// Consent gate (in-process twin).
    pub consents: Arc<dyn ConsentGate>,
    /// Visits and habits (in-process twin).
    pub habits: Arc<dyn Habits>,
    /// Weather at the spot.
    pub weather: Arc<dyn WeatherProvider>,
    /// The time (a `ManualClock` the caller moves).
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: EngineConfig,
    /// Real (simulated) people, or one test person.
    pub subjects: Subjects,
}

impl Engine {
    /// An engine whose decisions are kept in memory ([`Kept::take`]) and never saved, with
    /// counters on a registry of its own.
    pub fn off_record(p: OffRecordParts) -> (Self, Kept) {
        let registry = crate::metrics::Metrics::new();
        let (writer, kept) = DecisionWriter::in_memory(&registry);
        let engine = Self::new(EngineParts {
            catalog: p.catalog,
            store: p.store,
            limiter: p.limiter,
            consents: p.consents,
            habits: p.habits,
            weather: p.weather,
            writer,
            clock: p.clock,
            config: p.config,
            metrics: EngineMetrics::new(&registry),
            subjects: p.subjects,
        });
        (engine, kept)
    }

    /// An off-record engine like this one — the same catalog, store, hot state, clock and
    /// settings, for real people — but asking `weather`, recording in memory and counting
    /// on a registry of its own (`geoffer simulate`: caps and habits bind across the run
    /// because the hot state is this engine's).
    pub fn off_record_like(&self, weather: Arc<dyn WeatherProvider>) -> (Self, Kept) {
        Self::off_record(OffRecordParts {
            catalog: self.catalog.clone(),
            store: self.store.clone(),
            limiter: self.limiter.clone(),
            consents: self.consents.clone(),
            habits: self.habits.clone(),
            weather,
            clock: self.clock.clone(),
            config: self.config.clone(),
            subjects: Subjects::People,
        })
    }

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
            subjects: p.subjects,
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
