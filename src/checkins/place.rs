//! Step 3, place: the fences the point is in (R-tree, then exact geometry and each fence's
//! accuracy gate), with the local time and quiet hours at each. Then the early stops that
//! need no outside call: staleness, driving, quiet hours everywhere.

use super::Engine;
use super::input::{Activity, Checkin};
use super::model::Matched;
use super::rules::in_range;
use chrono::{DateTime, Timelike, Utc};

impl Engine {
    /// The fences the report is in; empty when none.
    pub(super) fn place(&self, c: &Checkin) -> Vec<Matched> {
        let mut hits = Vec::new();
        self.catalog.lookup(
            c.lat.degrees(),
            c.lon.degrees(),
            c.accuracy_m.metres(),
            &mut hits,
        );
        let only = self.subjects.only_brand();
        hits.into_iter()
            .filter_map(|hit| self.catalog.fence(&hit.id).map(|info| (hit, info)))
            // A test decision sees its own brand's fences only.
            .filter(|(_, info)| only.is_none_or(|b| info.brand == *b))
            .map(|(hit, info)| {
                let local = c.recorded_at.with_timezone(&info.timezone);
                let minute = local.hour() * 60 + local.minute();
                let quiet = self
                    .config
                    .quiet_hours
                    .is_some_and(|(f, t)| in_range(minute, f, t));
                Matched {
                    hit,
                    info,
                    local,
                    quiet,
                    fence_habit: None,
                    brand_habit: None,
                }
            })
            .collect()
    }
}

/// Why the decision ends before any outside call, if it does: a stale report, a driver, or
/// quiet hours at every matched fence.
pub(super) fn early_stop(
    c: &Checkin,
    now: DateTime<Utc>,
    matched: &[Matched],
) -> Option<&'static str> {
    if c.is_stale(now) {
        Some("stale")
    } else if c.activity == Some(Activity::Automotive) {
        Some("in-motion")
    } else if matched.iter().all(|m| m.quiet) {
        Some("quiet-hours")
    } else {
        None
    }
}
