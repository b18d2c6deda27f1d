//! Visit state per person and fence: enter, dwell, exit (docs/visits.md). The rule here is
//! the one the twin runs; `visits.lua` runs the same rule in Redis, in the same script as the
//! habits, and the hot_state suite checks that both answer alike.
//!
//! A fence's visit opens (`enter`) on a report inside it (the index's accuracy gate already
//! passed), stays open while reports are inside or near its edge (within the exit margin, a
//! distance that grows with the reported accuracy), dwells once it has lasted the dwell time,
//! and closes (`exit`) on a report farther out than the margin, or on the first report after
//! the timeout without one there. Only reports newer than the last one applied move it.

use std::collections::{BTreeMap, BTreeSet};

/// A closed visit is remembered this long after its exit, for exit triggers (2 hours).
pub const EXIT_MEMORY_MS: i64 = 2 * 3_600_000;
/// The person's visit state expires this long after their last report (24 hours); an open
/// visit forgotten this way ends without an exit event.
pub const VISIT_TTL_MS: i64 = 24 * 3_600_000;

/// What one report says about visits: the fences it is inside (with their brands) and those
/// it is near (within the exit margin, not inside), with the deployment's dwell and timeout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    /// Fences the report is inside, with each fence's brand.
    pub inside: Vec<(String, String)>,
    /// Fences within the exit margin of the report, not inside.
    pub near: Vec<String>,
    /// A visit dwells once it has lasted this long.
    pub dwell_ms: i64,
    /// An open visit with no report for this long is closed by the next report.
    pub timeout_ms: i64,
}

impl Track {
    /// Whether the report touches visit state at all (no fence near: nothing to do).
    pub fn is_on(&self) -> bool {
        !self.inside.is_empty() || !self.near.is_empty()
    }
}

/// A visit event's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisitKind {
    /// The visit opened.
    Enter,
    /// The visit has lasted the dwell time.
    Dwell,
    /// The visit closed.
    Exit,
}

impl VisitKind {
    /// The wire name: `enter`, `dwell`, `exit`.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Enter => "enter",
            VisitKind::Dwell => "dwell",
            VisitKind::Exit => "exit",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "enter" => Some(VisitKind::Enter),
            "dwell" => Some(VisitKind::Dwell),
            "exit" => Some(VisitKind::Exit),
            _ => None,
        }
    }
}

/// One event a report caused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitEvent {
    /// Enter, dwell or exit.
    pub kind: VisitKind,
    /// The fence's id.
    pub fence: String,
    /// When it happened (Unix ms): the report's time, or for a timeout the last report inside.
    pub at_ms: i64,
}

/// One fence's visit, open or recently closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// When it opened (Unix ms).
    pub enter_ms: i64,
    /// The last report inside or near (Unix ms).
    pub last_ms: i64,
    /// Whether the dwell event was sent.
    pub dwelled: bool,
    /// When it closed; `None` while open.
    pub exit_ms: Option<i64>,
    /// The fence's brand.
    pub brand: String,
}

/// A person's visit state: the newest report applied and each fence's visit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisitState {
    /// The newest report applied (Unix ms); older ones change nothing.
    pub latest_ms: i64,
    /// Visits by fence id.
    pub visits: BTreeMap<String, Visit>,
    /// The retry key (fingerprint) of the last report outside every fence that moved the
    /// state: a retry of it moves nothing and is answered from its record.
    pub left_by: Option<String>,
}

/// What one report did to visits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Moved {
    /// Events in order: exits, then enters, then dwells (each by fence id).
    pub events: Vec<VisitEvent>,
    /// Brands with a visit that began with this report (none of their fences was open).
    pub entered_brands: BTreeSet<String>,
    /// False for a report older than the state (nothing moved).
    pub applied: bool,
}

/// Applies one report at `at` (trimming closed visits by `now`) to `state`.
pub fn advance(state: &mut VisitState, t: &Track, at: i64, now: i64) -> Moved {
    if !t.is_on() || at < state.latest_ms {
        return Moved::default();
    }
    apply(state, t, at, now)
}

/// What a report outside every fence did to visits (docs/visits.md): the same rule as
/// [`advance`] with no fence inside (`t.inside` is ignored), so every open visit the report is
/// not near closes. It moves the state only when a visit is open and the report is not older
/// than the state; otherwise nothing is written, not even that the report happened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Left {
    /// Exits (and dwells of visits kept open by a near fence), in [`advance`]'s order.
    pub events: Vec<VisitEvent>,
    /// The person's visits after the report, by fence (empty when nothing moved).
    pub visits: BTreeMap<String, Visit>,
    /// This report (by its retry key) already moved the state: a retry, which moves nothing.
    pub retry: bool,
}

/// Applies one report outside every fence, with retry key `key`, to `state`.
pub fn leave(state: &mut VisitState, t: &Track, key: &str, at: i64, now: i64) -> Left {
    if state.left_by.as_deref() == Some(key) {
        return Left {
            retry: true,
            ..Left::default()
        };
    }
    let open = state.visits.values().any(|v| v.exit_ms.is_none());
    if !open || at < state.latest_ms {
        return Left::default();
    }
    let t = Track {
        inside: Vec::new(),
        near: t.near.clone(),
        dwell_ms: t.dwell_ms,
        timeout_ms: t.timeout_ms,
    };
    let moved = apply(state, &t, at, now);
    state.left_by = Some(key.to_string());
    Left {
        events: moved.events,
        visits: state.visits.clone(),
        retry: false,
    }
}

fn apply(state: &mut VisitState, t: &Track, at: i64, now: i64) -> Moved {
    let mut moved = Moved {
        applied: true,
        ..Moved::default()
    };
    state.latest_ms = at;
    state
        .visits
        .retain(|_, v| v.exit_ms.is_none_or(|x| x > now - EXIT_MEMORY_MS));
    let inside = |f: &str| t.inside.iter().any(|(id, _)| id == f);
    let near = |f: &str| t.near.iter().any(|id| id == f);
    let mut open_before = BTreeSet::new();
    let (mut exits, mut enters, mut dwells) = (Vec::new(), Vec::new(), Vec::new());
    for (fence, v) in state.visits.iter_mut().filter(|(_, v)| v.exit_ms.is_none()) {
        if at - v.last_ms >= t.timeout_ms {
            v.exit_ms = Some(v.last_ms);
            exits.push(event(VisitKind::Exit, fence, v.last_ms));
            continue;
        }
        open_before.insert(v.brand.clone());
        if !inside(fence) && !near(fence) {
            v.exit_ms = Some(at);
            exits.push(event(VisitKind::Exit, fence, at));
        } else {
            v.last_ms = at;
        }
    }
    for (fence, brand) in &t.inside {
        let open = state.visits.get(fence).is_some_and(|v| v.exit_ms.is_none());
        if !open {
            state.visits.insert(
                fence.clone(),
                Visit {
                    enter_ms: at,
                    last_ms: at,
                    dwelled: false,
                    exit_ms: None,
                    brand: brand.clone(),
                },
            );
            enters.push(event(VisitKind::Enter, fence, at));
            if !open_before.contains(brand) {
                moved.entered_brands.insert(brand.clone());
            }
        }
    }
    for (fence, v) in state.visits.iter_mut() {
        if v.exit_ms.is_none() && !v.dwelled && at - v.enter_ms >= t.dwell_ms {
            v.dwelled = true;
            dwells.push(event(VisitKind::Dwell, fence, at));
        }
    }
    enters.sort_by(|a, b| a.fence.cmp(&b.fence));
    moved.events = exits.into_iter().chain(enters).chain(dwells).collect();
    moved
}

fn event(kind: VisitKind, fence: &str, at_ms: i64) -> VisitEvent {
    VisitEvent {
        kind,
        fence: fence.to_string(),
        at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;

    fn track(inside: &[&str], near: &[&str]) -> Track {
        Track {
            inside: inside.iter().map(|f| (f.to_string(), "b".into())).collect(),
            near: near.iter().map(|f| f.to_string()).collect(),
            dwell_ms: 10 * M,
            timeout_ms: 30 * M,
        }
    }

    fn kinds(m: &Moved) -> Vec<(VisitKind, String)> {
        m.events.iter().map(|e| (e.kind, e.fence.clone())).collect()
    }

    #[test]
    fn enter_dwell_exit_each_once_in_order() {
        let mut s = VisitState::default();
        let m = advance(&mut s, &track(&["a"], &[]), 0, 0);
        assert_eq!(kinds(&m), vec![(VisitKind::Enter, "a".into())]);
        assert!(m.entered_brands.contains("b"));
        assert!(
            advance(&mut s, &track(&["a"], &[]), 5 * M, 5 * M)
                .events
                .is_empty()
        );
        let m = advance(&mut s, &track(&["a"], &[]), 10 * M, 10 * M);
        assert_eq!(kinds(&m), vec![(VisitKind::Dwell, "a".into())]);
        assert!(
            advance(&mut s, &track(&["a"], &[]), 12 * M, 12 * M)
                .events
                .is_empty()
        );
        // Near the edge keeps it open; beyond the margin (in another fence) closes it.
        assert!(
            advance(&mut s, &track(&["c"], &["a"]), 13 * M, 13 * M)
                .events
                .len()
                == 1
        );
        let m = advance(&mut s, &track(&["c"], &[]), 14 * M, 14 * M);
        assert_eq!(kinds(&m), vec![(VisitKind::Exit, "a".into())]);
        assert_eq!(s.visits["a"].exit_ms, Some(14 * M));
    }

    #[test]
    fn a_timeout_closes_the_visit_at_its_last_report_and_a_new_one_opens() {
        let mut s = VisitState::default();
        advance(&mut s, &track(&["a"], &[]), 0, 0);
        let m = advance(&mut s, &track(&["a"], &[]), 31 * M, 31 * M);
        assert_eq!(
            kinds(&m),
            vec![
                (VisitKind::Exit, "a".into()),
                (VisitKind::Enter, "a".into())
            ]
        );
        assert_eq!(m.events[0].at_ms, 0);
        assert!(m.entered_brands.contains("b"));
    }

    #[test]
    fn a_late_report_moves_nothing() {
        let mut s = VisitState::default();
        advance(&mut s, &track(&["a"], &[]), 10 * M, 10 * M);
        let before = s.clone();
        let m = advance(&mut s, &track(&["c"], &[]), 5 * M, 11 * M);
        assert!(!m.applied && m.events.is_empty());
        assert_eq!(s, before);
    }

    #[test]
    fn moving_between_two_fences_of_a_brand_does_not_start_a_brand_visit() {
        let mut s = VisitState::default();
        advance(&mut s, &track(&["a"], &[]), 0, 0);
        let m = advance(&mut s, &track(&["c"], &[]), M, M);
        assert_eq!(m.events.len(), 2);
        assert!(m.entered_brands.is_empty());
    }

    #[test]
    fn a_report_outside_every_fence_closes_what_it_is_not_near_and_only_then_writes() {
        let mut s = VisitState::default();
        advance(&mut s, &track(&["a", "c"], &[]), 0, 0);
        // Near "c" only: "a" closes at the report, "c" stays open (and dwells on time).
        let l = leave(&mut s, &track(&[], &["c"]), "k1", 12 * M, 12 * M);
        assert!(!l.retry);
        assert_eq!(
            l.events
                .iter()
                .map(|e| (e.kind, e.fence.as_str()))
                .collect::<Vec<_>>(),
            vec![(VisitKind::Exit, "a"), (VisitKind::Dwell, "c")]
        );
        assert_eq!(s.visits["a"].exit_ms, Some(12 * M));
        assert_eq!(s.visits["c"].last_ms, 12 * M);
        // The same report again (its retry key): a retry moves nothing.
        let before = s.clone();
        assert!(leave(&mut s, &track(&[], &[]), "k1", 12 * M, 12 * M).retry);
        assert_eq!(s, before);
        // Beyond every margin: "c" closes too.
        let l = leave(&mut s, &track(&[], &[]), "k2", 13 * M, 13 * M);
        assert_eq!(l.events.len(), 1);
        assert_eq!(s.visits["c"].exit_ms, Some(13 * M));
        // Nothing open: nothing changes, not even the newest report's time.
        let before = s.clone();
        assert_eq!(
            leave(&mut s, &track(&[], &[]), "k3", 14 * M, 14 * M),
            Left::default()
        );
        assert_eq!(s, before);
    }

    #[test]
    fn a_late_report_outside_every_fence_closes_nothing() {
        let mut s = VisitState::default();
        advance(&mut s, &track(&["a"], &[]), 10 * M, 10 * M);
        let before = s.clone();
        assert_eq!(
            leave(&mut s, &track(&[], &[]), "k", 5 * M, 11 * M),
            Left::default()
        );
        assert_eq!(s, before);
    }
}
