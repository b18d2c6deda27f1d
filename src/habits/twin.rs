//! The in-process twin of the Redis hot state: the same rule within one process.

use super::{HORIZON_MS, Habits, HabitsError, MAX_VISITS, Place, PlaceHistory, step};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
struct PlaceState {
    seen: Option<(i64, i64)>,
    visits: Vec<(i64, u8)>,
}

/// Visits held in memory. One mutex over all people: critical sections are a few
/// microseconds, far below the cost of the rest of a check-in.
#[derive(Default)]
pub struct InProcessHabits {
    people: Mutex<HashMap<String, HashMap<String, PlaceState>>>,
}

impl InProcessHabits {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Habits for InProcessHabits {
    async fn observe(
        &self,
        person: &str,
        places: &[(Place, u8)],
        at_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<PlaceHistory>, HabitsError> {
        let mut people = self
            .people
            .lock()
            .map_err(|_| HabitsError::Unavailable("poisoned".into()))?;
        let state = people.entry(person.to_string()).or_default();
        let mut out = Vec::with_capacity(places.len());
        for (place, hour) in places {
            let p = state.entry(place.key()).or_default();
            let (seen, new_start) = step(p.seen, at_ms);
            if let Some((_, old_start)) = p.seen
                && seen.1 < old_start
            {
                p.visits.retain(|(t, _)| *t != old_start);
            }
            p.seen = Some(seen);
            if let Some(start) = new_start
                && !p.visits.iter().any(|(t, _)| *t == start)
            {
                p.visits.push((start, *hour));
                p.visits.sort_unstable();
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
        Ok(out)
    }

    async fn forget(&self, person: &str) -> Result<(), HabitsError> {
        let mut people = self
            .people
            .lock()
            .map_err(|_| HabitsError::Unavailable("poisoned".into()))?;
        people.remove(person);
        Ok(())
    }
}
