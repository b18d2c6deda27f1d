//! Step 4, visits and habits: with personalization consent the visit is counted at every
//! matched fence and brand, and the habit features come back for the rules and the copy. In
//! the same round trip, for everyone with location consent, the report becomes the person's
//! last sighting (a fence and a time, for 6 hours) and the previous one comes back for the
//! plausibility step. A report the SDK marks as mocked is neither counted nor remembered.

use super::Engine;
use super::input::Checkin;
use super::model::Matched;
use super::plausibility::sighting_fence;
use super::trace::Trace;
use crate::habits::{HabitFeatures, Place, Sighting, features};
use crate::people::PersonId;
use chrono::{DateTime, Timelike, Utc};
use std::collections::HashMap;

impl Engine {
    /// Observes the visit (personalization only), fills each matched fence's habit features
    /// and returns the person's previous sighting. Unknown habits (the backend is down) only
    /// mean habit-gated offers do not fire, and an unknown sighting skips the speed check.
    pub(super) async fn observe_visits(
        &self,
        person: &PersonId,
        personalization: bool,
        c: &Checkin,
        now: DateTime<Utc>,
        matched: &mut [Matched],
        trace: &mut Trace,
    ) -> Option<Sighting> {
        if c.is_mocked() {
            return None;
        }
        let mut places: Vec<(Place, u8)> = Vec::new();
        for m in matched.iter().filter(|_| personalization) {
            let hour = m.local.hour() as u8;
            places.push((Place::Fence(m.info.id.to_string()), hour));
            let brand = Place::Brand(m.info.brand.to_string());
            if !places.iter().any(|(p, _)| *p == brand) {
                places.push((brand, hour));
            }
        }
        let fence = sighting_fence(matched).map(|m| m.info.id.to_string());
        let at = c.recorded_at.timestamp_millis();
        match self
            .habits
            .observe(
                person.as_str(),
                &places,
                fence.as_deref(),
                at,
                now.timestamp_millis(),
            )
            .await
        {
            Ok(observed) => {
                let by_place: HashMap<&Place, HabitFeatures> = places
                    .iter()
                    .map(|(p, _)| p)
                    .zip(observed.places.iter().map(|h| features(h, at)))
                    .collect();
                for m in matched.iter_mut().filter(|_| personalization) {
                    m.fence_habit = by_place.get(&Place::Fence(m.info.id.to_string())).cloned();
                    m.brand_habit = by_place
                        .get(&Place::Brand(m.info.brand.to_string()))
                        .cloned();
                }
                observed.previous
            }
            Err(e) => {
                trace.note(format!("habits unavailable: {e}"));
                None
            }
        }
    }
}
