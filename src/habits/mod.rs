//! Know the regular: visits per person and fence (and per person and brand), kept as hot state
//! beside the rate limiter (Redis, or its in-process twin) under the person's hash tag, so one
//! round trip records this check-in's visits and returns what the decision needs.
//!
//! A visit to a fence starts with its `enter` event (track.rs: the visit state the same round
//! trip keeps), or with the first matching check-in after at least 3 hours without one there;
//! a brand's visit starts when one of its fences is entered while none of them was open.
//! Visit starts are kept for 56 days; older ones fall out, so habits fade.
//!
//! The same round trip keeps the person's last sighting: the fence of their last check-in
//! inside a fence and its time, never a coordinate, for [`SIGHTING_TTL_MS`] (6 hours). The
//! plausibility step reads it to catch impossible jumps (docs/decisions.md, step 4a).

mod features;
mod redis;
mod track;
mod twin;

pub use features::{HabitFeatures, features};
pub use redis::RedisHabits;
pub use track::{
    EXIT_MEMORY_MS, Left, Moved, Track, VISIT_TTL_MS, Visit, VisitEvent, VisitKind, VisitState,
    advance, leave,
};
pub use twin::InProcessHabits;

use crate::people::gate::Allowed;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// A gap this long without a check-in at a place ends the visit.
pub const VISIT_GAP_MS: i64 = 3 * 3_600_000;
/// How far back habits look.
pub const HORIZON_MS: i64 = 56 * 86_400_000;
/// Most visit starts kept per place (bounds memory for pathological reporters).
pub const MAX_VISITS: usize = 512;
/// How long a person's last sighting counts after it was written (6 hours).
pub const SIGHTING_TTL_MS: i64 = 6 * 3_600_000;

/// One place a check-in matched: a fence, or a brand (any of its fences).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Place {
    /// A fence, by id.
    Fence(String),
    /// A brand, by id.
    Brand(String),
}

impl Place {
    /// The key suffix for this place.
    pub fn key(&self) -> String {
        match self {
            Place::Fence(id) => format!("f:{id}"),
            Place::Brand(id) => format!("b:{id}"),
        }
    }
}

/// What one place looked like after recording the check-in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlaceHistory {
    /// Visit starts within the horizon, oldest first: (Unix ms, local hour at the start).
    pub visits: Vec<(i64, u8)>,
    /// Start of the visit this check-in belongs to.
    pub current_start: i64,
}

/// Where a person last checked in inside a fence: the fence and when, never a coordinate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// The fence's id.
    pub fence: String,
    /// When the check-in was recorded (Unix ms).
    pub at_ms: i64,
}

/// What one check-in's observation returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// Each place's history, in the order the places were given.
    pub places: Vec<PlaceHistory>,
    /// The person's last sighting before this check-in, unless it expired.
    pub previous: Option<Sighting>,
    /// The visit events this check-in caused (none for a late report).
    pub events: Vec<VisitEvent>,
    /// The person's visits after this check-in (open, and closed within 2 hours), by fence.
    pub visits: BTreeMap<String, Visit>,
    /// False when the report was older than the visit state (it moved nothing).
    pub visits_moved: bool,
}

/// Hot-state failures.
#[derive(Debug, thiserror::Error)]
pub enum HabitsError {
    /// The backend cannot be reached in time.
    #[error("habit state unavailable: {0}")]
    Unavailable(String),
}

/// Records visits and reads habits.
#[async_trait]
pub trait Habits: Send + Sync + 'static {
    /// Records a check-in at `at_ms` (local hour `hour` at each place; no places without
    /// personalization consent) and returns each place's history, in the order given, with
    /// the person's previous sighting. With `fence`, the check-in becomes the person's last
    /// sighting, unless the one kept is more recent (a late report does not move it back).
    /// `now_ms` trims what fell out of the horizon and expires the sighting. `track` moves the
    /// person's visit state (enter, dwell, exit) in the same round trip, unless the report is
    /// older than it; a place's habit visit then starts with its enter event. With no place,
    /// fence or tracked fence there is nothing to do, and nothing is read.
    async fn observe(
        &self,
        person: &str,
        places: &[(Place, u8)],
        fence: Option<&str>,
        track: &Track,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Observed, HabitsError>;

    /// [`observe`](Habits::observe) in the round trip of the consent read (a check-in inside
    /// a fence): a backend that keeps the consent gate's entry beside the habits (Redis)
    /// reads it first and observes only when it allows location; `places` are given as if
    /// it allowed personalization and are not kept when it does not (the answer then has no
    /// places). [`Gated::gate`] is what it read; `None` (the twin, whose gate is another map,
    /// or an entry that is not a consent state) means nothing was done: the caller reads
    /// consent through the gate's protocol and calls [`observe`](Habits::observe).
    async fn observe_gated(
        &self,
        person: &str,
        places: &[(Place, u8)],
        fence: Option<&str>,
        track: &Track,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Gated, HabitsError>;

    /// A report outside every fence (docs/visits.md): closes the person's open visits that
    /// the report is not near (`track.near`; `track.inside` is ignored), remembering `key`
    /// (the report's fingerprint) so that a retry of it moves nothing and says so. Nothing is
    /// written when no visit is open or the report is older than the visit state.
    ///
    /// With `checked`, the caller has read the person's consent and it allows location. Without
    /// it, a backend that keeps the consent gate's entry beside the visits (Redis: the same
    /// prefix and slot as `RedisGate`) reads it in the same round trip and moves visits only
    /// when it allows location; [`Leaving::gate`] says what it read. A backend that cannot
    /// (the twin) moves nothing and answers `gate: None`, as Redis does when the entry is not a
    /// consent state (absent, or a change in progress): the caller then reads consent through
    /// the gate's protocol and calls again with `checked`.
    async fn leave(
        &self,
        person: &str,
        checked: bool,
        track: &Track,
        key: &str,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Leaving, HabitsError>;

    /// Forgets everything about a person.
    async fn forget(&self, person: &str) -> Result<(), HabitsError>;
}

/// What [`Habits::observe_gated`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gated {
    /// The consent read in the same round trip, when the backend read one.
    pub gate: Option<Allowed>,
    /// The observation (nothing when consent was not read or did not allow location).
    pub observed: Observed,
}

/// What [`Habits::leave`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Leaving {
    /// The consent read in the same round trip, when the backend read one (never `checked`).
    pub gate: Option<Allowed>,
    /// The visits the report closed (nothing when consent did not allow location).
    pub left: Left,
}

/// The sighting rule shared by both implementations: what to keep, given the one kept (with
/// when it expires) and this check-in's fence. Returns the previous sighting still valid at
/// `now_ms` and the sighting to write, if any.
pub fn sight(
    kept: Option<(Sighting, i64)>,
    fence: Option<&str>,
    at_ms: i64,
    now_ms: i64,
) -> (Option<Sighting>, Option<Sighting>) {
    let previous = kept.and_then(|(s, until)| (until > now_ms).then_some(s));
    let write = fence
        .filter(|_| previous.as_ref().is_none_or(|p| at_ms >= p.at_ms))
        .map(|f| Sighting {
            fence: f.to_string(),
            at_ms,
        });
    (previous, write)
}

/// The visit rule shared by both implementations, on one place's state.
/// `seen` is (last check-in, current visit start); `entered` says this check-in's visit state
/// opened a visit there. Returns the new state and, when this check-in starts a visit that
/// must be logged, its start.
pub fn step(seen: Option<(i64, i64)>, at: i64, entered: bool) -> ((i64, i64), Option<i64>) {
    match seen {
        None => ((at, at), Some(at)),
        Some((last, start)) if at >= last => {
            if entered || at - last >= VISIT_GAP_MS {
                ((at, at), Some(at))
            } else {
                ((at, start), None)
            }
        }
        // A late (batched) report: inside the current visit it may move the start earlier;
        // well before it, it is an older visit of its own.
        Some((last, start)) => {
            if at >= start - VISIT_GAP_MS {
                ((last, start.min(at)), (at < start).then_some(at))
            } else {
                ((last, start), Some(at))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn a_visit_starts_after_three_quiet_hours() {
        let (s, new) = step(None, 0, false);
        assert_eq!((s, new), ((0, 0), Some(0)));
        let (s, new) = step(Some(s), 2 * H, false);
        assert_eq!((s, new), ((2 * H, 0), None));
        let (s, new) = step(Some(s), 2 * H + 3 * H, false);
        assert_eq!((s, new), ((5 * H, 5 * H), Some(5 * H)));
    }

    #[test]
    fn a_late_report_within_the_visit_moves_its_start_earlier() {
        let ((last, start), new) = step(Some((10 * H, 9 * H)), 8 * H, false);
        assert_eq!((last, start, new), (10 * H, 8 * H, Some(8 * H)));
    }

    #[test]
    fn a_sighting_is_replaced_by_newer_reports_only_and_expires() {
        let kept = |at_ms| {
            Some((
                Sighting {
                    fence: "a".into(),
                    at_ms,
                },
                10 * H,
            ))
        };
        let (prev, write) = sight(kept(5 * H), Some("b"), 6 * H, 6 * H);
        assert_eq!(prev.map(|p| p.at_ms), Some(5 * H));
        assert_eq!(write.map(|w| w.fence), Some("b".to_string()));
        // A late report: read, but the newer sighting stays.
        let (prev, write) = sight(kept(5 * H), Some("b"), 4 * H, 6 * H);
        assert!(prev.is_some() && write.is_none());
        // Expired: as if there were none.
        let (prev, write) = sight(kept(5 * H), Some("b"), 4 * H, 10 * H);
        assert!(prev.is_none() && write.is_some());
    }

    #[test]
    fn an_enter_starts_a_visit_within_three_hours() {
        let (s, new) = step(Some((0, 0)), H, true);
        assert_eq!((s, new), ((H, H), Some(H)));
    }

    #[test]
    fn a_much_older_report_is_a_visit_of_its_own() {
        let (s, new) = step(Some((10 * H, 9 * H)), 2 * H, false);
        assert_eq!((s, new), ((10 * H, 9 * H), Some(2 * H)));
    }
}
