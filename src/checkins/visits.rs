//! Step 4, visits and habits (personalization consent only): the visit is counted at every
//! matched fence and brand, and the habit features come back for the rules and the copy.

use super::Engine;
use super::input::Checkin;
use super::model::Matched;
use super::trace::Trace;
use crate::habits::{HabitFeatures, Place, features};
use crate::people::PersonId;
use chrono::{DateTime, Timelike, Utc};
use std::collections::HashMap;

impl Engine {
    /// Observes the visit and fills each matched fence's habit features. Unknown habits
    /// (the backend is down) only mean habit-gated offers do not fire.
    pub(super) async fn observe_visits(
        &self,
        person: &PersonId,
        c: &Checkin,
        now: DateTime<Utc>,
        matched: &mut [Matched],
        trace: &mut Trace,
    ) {
        let mut places: Vec<(Place, u8)> = Vec::new();
        for m in matched.iter() {
            let hour = m.local.hour() as u8;
            places.push((Place::Fence(m.info.id.to_string()), hour));
            let brand = Place::Brand(m.info.brand.to_string());
            if !places.iter().any(|(p, _)| *p == brand) {
                places.push((brand, hour));
            }
        }
        let at = c.recorded_at.timestamp_millis();
        match self
            .habits
            .observe(person.as_str(), &places, at, now.timestamp_millis())
            .await
        {
            Ok(histories) => {
                let by_place: HashMap<&Place, HabitFeatures> = places
                    .iter()
                    .map(|(p, _)| p)
                    .zip(histories.iter().map(|h| features(h, at)))
                    .collect();
                for m in matched.iter_mut() {
                    m.fence_habit = by_place.get(&Place::Fence(m.info.id.to_string())).cloned();
                    m.brand_habit = by_place
                        .get(&Place::Brand(m.info.brand.to_string()))
                        .cloned();
                }
            }
            Err(e) => trace.note(format!("habits unavailable: {e}")),
        }
    }
}
