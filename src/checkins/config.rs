//! Deployment-wide decision settings.

use crate::limits::Caps;

/// The exit margin's floor (metres): a report outside a fence closes its visit only when
/// farther from the edge than its accuracy, and never nearer than this.
pub const MIN_EXIT_MARGIN_M: f64 = 25.0;

/// Faster than any train; a flight's arrival may exceed it once (docs/decisions.md, 4a).
pub const DEFAULT_MAX_PLAUSIBLE_SPEED_KMH: f64 = 300.0;

/// Deployment-wide decision settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Local quiet hours as minutes since midnight (from, to); `None` disables them.
    pub quiet_hours: Option<(u32, u32)>,
    /// Offers whose relevance is below this do not qualify (1.0: place alone is enough).
    pub min_relevance: f64,
    /// How far back purchases are read.
    pub profile_days: i64,
    /// Purchases in this window fill "the usual".
    pub usual_item_days: i64,
    /// Deployment default caps (an offer's own `caps.per_person` replaces the per-offer one).
    pub caps: Caps,
    /// A purchase suppresses offers for the same SKU or category this long.
    pub retargeting_days: i64,
    /// A dismissal cools its brand down this long.
    pub dismissal_cooldown_days: i64,
    /// A purchase at the brand this long after a delivery (or held-out decision) converts it.
    pub attribution_days: i64,
    /// A jump between two check-ins inside fences faster than this (km/h) is implausible.
    pub max_plausible_speed_kmh: f64,
    /// A visit dwells once it has lasted this long (ms).
    pub visit_dwell_ms: i64,
    /// An open visit with no check-in there for this long ends at the next check-in (ms).
    pub visit_timeout_ms: i64,
    /// Whether check-ins move the visit state (enter, dwell, exit: docs/visits.md). Always on
    /// in geoffer (no setting turns it off: habits, triggers and visit webhooks need it);
    /// `engine_bench --no-visits` turns it off to measure what it costs beside the rest.
    pub visit_tracking: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            quiet_hours: Some((21 * 60, 8 * 60)),
            min_relevance: 1.0,
            profile_days: 365,
            usual_item_days: 90,
            caps: Caps::default(),
            retargeting_days: 30,
            dismissal_cooldown_days: 14,
            attribution_days: 7,
            max_plausible_speed_kmh: DEFAULT_MAX_PLAUSIBLE_SPEED_KMH,
            visit_dwell_ms: 10 * 60_000,
            visit_timeout_ms: 30 * 60_000,
            visit_tracking: true,
        }
    }
}
