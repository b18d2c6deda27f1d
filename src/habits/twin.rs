//! The in-process twin of the Redis hot state: the same rule within one process.

use super::{
    Gated, HORIZON_MS, Habits, HabitsError, Leaving, MAX_VISITS, Moved, Observed, Place,
    PlaceHistory, SIGHTING_TTL_MS, Sighting, Track, VISIT_TTL_MS, VisitKind, VisitState, advance,
    leave, sight, step,
};
use async_trait::async_trait;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Mutex;

/// One place of one person. Kept small: the twin holds one per (person, place) ever seen
/// within the horizon, so its size is what the embedded default's memory grows with.
struct PlaceState {
    /// (last seen, start of the current visit), in ms.
    seen: (i64, i64),
    /// Visit starts with their local hour, oldest first.
    visits: Vec<(i64, u8)>,
}

/// Places by a 64-bit hash of their key (a fence or brand id): a third of the memory of
/// keeping the key itself. Two of one person's places would have to collide for their
/// habits to mix; among the few hundred places a person visits that is ~1e-14.
type Places = HashMap<u64, PlaceState>;

/// How often expired places and people are swept (by the clock the calls pass in).
const SWEEP_EVERY_MS: i64 = 10 * 60_000;

#[derive(Default)]
struct State {
    people: HashMap<String, Places>,
    /// Each person's last sighting and when it expires (by the callers' clock).
    sightings: HashMap<String, (Sighting, i64)>,
    /// Each person's visit state and when it expires (by the callers' clock).
    visits: HashMap<String, (VisitState, i64)>,
    last_sweep_ms: i64,
}

impl State {
    /// Drops places whose last check-in and every visit are past the horizon, and people
    /// left with none: someone who stopped coming is forgotten, as Redis expires their keys.
    fn sweep(&mut self, now_ms: i64) {
        self.last_sweep_ms = now_ms;
        let from = now_ms - HORIZON_MS;
        self.people.retain(|_, places| {
            places.retain(|_, p| {
                p.visits.retain(|(t, _)| *t > from);
                p.seen.0 > from || !p.visits.is_empty()
            });
            places.shrink_to_fit();
            !places.is_empty()
        });
        self.sightings.retain(|_, (_, until)| *until > now_ms);
        self.visits.retain(|_, (_, until)| *until > now_ms);
    }

    /// Moves the person's visit state with one report (Redis expires it after a quiet day).
    fn track(&mut self, person: &str, t: &Track, at_ms: i64, now_ms: i64) -> (Moved, VisitState) {
        if !t.is_on() {
            return (Moved::default(), VisitState::default());
        }
        let (mut state, until) = match self.visits.remove(person) {
            Some((s, until)) if until > now_ms => (s, until),
            _ => (VisitState::default(), now_ms + VISIT_TTL_MS),
        };
        let moved = advance(&mut state, t, at_ms, now_ms);
        // A late report reads but does not renew the state.
        let until = if moved.applied {
            now_ms + VISIT_TTL_MS
        } else {
            until
        };
        self.visits
            .insert(person.to_string(), (state.clone(), until));
        (moved, state)
    }
}

/// Visits held in memory. One mutex over all people: critical sections are a few
/// microseconds, far below the cost of the rest of a check-in.
#[derive(Default)]
pub struct InProcessHabits {
    state: Mutex<State>,
}

impl InProcessHabits {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }
}

fn place_hash(place: &Place) -> u64 {
    // A fixed hasher: the same place is the same key for the life of the process.
    BuildHasherDefault::<DefaultHasher>::default().hash_one(place)
}

#[async_trait]
impl Habits for InProcessHabits {
    async fn observe(
        &self,
        person: &str,
        places: &[(Place, u8)],
        fence: Option<&str>,
        track: &Track,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Observed, HabitsError> {
        if places.is_empty() && fence.is_none() && !track.is_on() {
            return Ok(Observed::default());
        }
        let mut state = self
            .state
            .lock()
            .map_err(|_| HabitsError::Unavailable("poisoned".into()))?;
        if now_ms - state.last_sweep_ms >= SWEEP_EVERY_MS {
            state.sweep(now_ms);
        }
        let kept = state.sightings.get(person).cloned();
        let (previous, write) = sight(kept, fence, at_ms, now_ms);
        if let Some(w) = write {
            state
                .sightings
                .insert(person.to_string(), (w, now_ms + SIGHTING_TTL_MS));
        }
        let (moved, visits) = state.track(person, track, at_ms, now_ms);
        let entered = |place: &Place| match place {
            Place::Fence(f) => moved
                .events
                .iter()
                .any(|e| e.kind == VisitKind::Enter && e.fence == *f),
            Place::Brand(b) => moved.entered_brands.contains(b),
        };
        let mut observed = Observed {
            places: Vec::new(),
            previous,
            events: moved.events.clone(),
            visits: visits.visits,
            visits_moved: moved.applied,
        };
        if places.is_empty() {
            return Ok(observed);
        }
        let known = match state.people.get_mut(person) {
            Some(known) => known,
            None => state.people.entry(person.to_string()).or_default(),
        };
        let mut out = Vec::with_capacity(places.len());
        for (place, hour) in places {
            let p = known.entry(place_hash(place)).or_insert(PlaceState {
                seen: (i64::MIN, i64::MIN),
                visits: Vec::new(),
            });
            let previous = (p.seen.0 != i64::MIN).then_some(p.seen);
            let (seen, new_start) = step(previous, at_ms, entered(place));
            if let Some((_, old_start)) = previous
                && seen.1 < old_start
            {
                p.visits.retain(|(t, _)| *t != old_start);
            }
            p.seen = seen;
            if let Some(start) = new_start
                && !p.visits.iter().any(|(t, _)| *t == start)
            {
                p.visits.push((start, *hour));
                p.visits.sort_unstable();
                // Most places hold one or two visits: an exact buffer, not four slots.
                p.visits.shrink_to_fit();
            }
            p.visits.retain(|(t, _)| *t > now_ms - HORIZON_MS);
            if p.visits.len() > MAX_VISITS {
                let cut = p.visits.len() - MAX_VISITS;
                p.visits.drain(..cut);
            }
            out.push(PlaceHistory {
                visits: p.visits.clone(),
                current_start: seen.1,
            });
        }
        observed.places = out;
        Ok(observed)
    }

    async fn observe_gated(
        &self,
        _person: &str,
        _places: &[(Place, u8)],
        _fence: Option<&str>,
        _track: &Track,
        _at_ms: i64,
        _now_ms: i64,
    ) -> Result<Gated, HabitsError> {
        // The in-process gate is another map: the caller reads consent, then observes.
        Ok(Gated::default())
    }

    async fn leave(
        &self,
        person: &str,
        checked: bool,
        track: &Track,
        key: &str,
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Leaving, HabitsError> {
        // The in-process gate is another map: the caller reads consent, then asks again.
        if !checked {
            return Ok(Leaving::default());
        }
        let mut state = self
            .state
            .lock()
            .map_err(|_| HabitsError::Unavailable("poisoned".into()))?;
        let Some((visits, until)) = state.visits.get_mut(person) else {
            return Ok(Leaving::default());
        };
        if *until <= now_ms {
            return Ok(Leaving::default());
        }
        let left = leave(visits, track, key, at_ms, now_ms);
        if !left.events.is_empty() || !left.visits.is_empty() {
            *until = now_ms + VISIT_TTL_MS;
        }
        Ok(Leaving { gate: None, left })
    }

    async fn forget(&self, person: &str) -> Result<(), HabitsError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| HabitsError::Unavailable("poisoned".into()))?;
        state.people.remove(person);
        state.sightings.remove(person);
        state.visits.remove(person);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn people_and_places_past_the_horizon_are_swept_and_recent_ones_kept() {
        let habits = InProcessHabits::new();
        let day = 86_400_000;
        let t0 = 1_700_000_000_000;
        let fence = |id: &str| (Place::Fence(id.into()), 9u8);
        habits
            .observe("gone", &[fence("a")], None, &Track::default(), t0, t0)
            .await
            .unwrap();
        habits
            .observe(
                "stays",
                &[fence("a"), fence("b")],
                None,
                &Track::default(),
                t0,
                t0,
            )
            .await
            .unwrap();
        // Within the horizon, "stays" comes back to one of its places.
        let later = t0 + HORIZON_MS - day;
        habits
            .observe(
                "stays",
                &[fence("b")],
                None,
                &Track::default(),
                later,
                later,
            )
            .await
            .unwrap();
        // Past the horizon of the first check-ins, the next call sweeps.
        let past = t0 + HORIZON_MS + day;
        let history = habits
            .observe("stays", &[fence("b")], None, &Track::default(), past, past)
            .await
            .unwrap()
            .places;
        let state = habits.state.lock().unwrap();
        assert!(!state.people.contains_key("gone"));
        assert_eq!(state.people["stays"].len(), 1, "place a was swept");
        // Place b's visit within the horizon is still counted.
        assert_eq!(history[0].visits.len(), 2, "{:?}", history[0].visits);
    }
}
