//! Step 3, place: the fences the point is in (R-tree, then exact geometry and each fence's
//! accuracy gate), with the local time and quiet hours at each; outside every fence, the
//! fences the report left. Then the early stops that need no outside call: staleness,
//! driving, quiet hours everywhere.

use super::Engine;
use super::input::{Activity, Checkin};
use super::model::Matched;
use super::rules::in_range;
use crate::catalog::FenceInfo;
use crate::fences::index::FenceMatch;
use crate::habits::{VisitEvent, VisitKind};
use chrono::{DateTime, Timelike, Utc};
use std::sync::Arc;
use uuid::Uuid;

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
            .map(|(hit, info)| self.matched(c, hit, info))
            .collect()
    }

    /// The fences a report outside every fence left (its `exit` events), as the places its
    /// exit offers are reached through: their local time and quiet hours, and no position in
    /// them (no edge or centre distance: nothing about where the report is).
    pub(super) fn left(&self, c: &Checkin, events: &[VisitEvent]) -> Vec<Matched> {
        events
            .iter()
            .filter(|e| e.kind == VisitKind::Exit)
            .filter_map(|e| {
                let id: Uuid = e.fence.parse().ok()?;
                let info = self.catalog.fence(&id)?;
                let hit = FenceMatch {
                    id,
                    edge_distance_m: 0.0,
                    center_distance_m: None,
                };
                Some(self.matched(c, hit, info))
            })
            .collect()
    }

    fn matched(&self, c: &Checkin, hit: FenceMatch, info: Arc<FenceInfo>) -> Matched {
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
