//! Step 4, visits and habits: with personalization consent the visit is counted at every
//! matched fence and brand, and the habit features come back for the rules and the copy. In
//! the same round trip, for everyone with location consent, the report becomes the person's
//! last sighting (a fence and a time, for 6 hours) and the previous one comes back for the
//! plausibility step. Also in that round trip, for everyone with location consent, the
//! person's visit state moves (docs/visits.md): the fences the report is inside and those
//! near enough to keep a visit open (within the exit margin: the larger of the accuracy and
//! 25 m) go along, and the enter, dwell and exit events come back. A report the SDK marks as
//! mocked is neither counted nor remembered. The round trip is also step 1's: on Redis the
//! script reads the consent gate's entry first and observes nothing without location consent.

use super::Engine;
use super::config::MIN_EXIT_MARGIN_M;
use super::input::Checkin;
use super::model::Matched;
use super::plausibility::sighting_fence;
use crate::error::ApiError;
use crate::habits::{
    Gated, HabitFeatures, Observed, Place, Sighting, Track, Visit, VisitEvent, features,
};
use crate::people::PersonId;
use crate::people::gate::Allowed;
use chrono::{DateTime, Timelike, Utc};
use std::collections::{BTreeMap, HashMap};

/// What step 4 learned: the previous sighting, the visit events this report caused and the
/// person's visits after it (for the triggers).
#[derive(Default)]
pub(super) struct Seen {
    pub(super) previous: Option<Sighting>,
    pub(super) events: Vec<VisitEvent>,
    pub(super) visits: BTreeMap<String, Visit>,
    /// False for a report older than the visit state: it moved nothing.
    pub(super) moved: bool,
    /// Why the habits are unknown (the hot state could not be asked), for the trace.
    pub(super) note: Option<String>,
}

impl Engine {
    /// Consent and step 4 in one round trip where the hot state allows (Redis: the gate's
    /// entry is read in the habits script, which observes only with location consent); else
    /// consent through the gate's protocol (`read_through`), then the observation. 403
    /// without location consent, with nothing observed. A mocked report only reads consent.
    pub(super) async fn consent_and_visits(
        &self,
        app: &str,
        person: &PersonId,
        c: &Checkin,
        now: DateTime<Utc>,
        matched: &mut [Matched],
    ) -> Result<(Allowed, Seen), ApiError> {
        if c.is_mocked() {
            let consent = self.require(app, &c.user_id, person).await?;
            return Ok((consent, Seen::default()));
        }
        let track = self.track(c, matched);
        // Every place, as if personalization were allowed: the script drops them if not.
        let mut places: Vec<(Place, u8)> = Vec::new();
        for m in matched.iter() {
            let hour = m.local.hour() as u8;
            places.push((Place::Fence(m.info.id.to_string()), hour));
            let brand = Place::Brand(m.info.brand.to_string());
            if !places.iter().any(|(p, _)| *p == brand) {
                places.push((brand, hour));
            }
        }
        let fence = sighting_fence(matched).map(|m| m.info.id.to_string());
        let fence = fence.as_deref();
        let (at, now_ms) = (c.recorded_at.timestamp_millis(), now.timestamp_millis());
        let habits = self.habits.as_ref();
        let (consent, observed) = match habits
            .observe_gated(person.as_str(), &places, fence, &track, at, now_ms)
            .await
        {
            Ok(Gated {
                gate: Some(consent),
                observed,
            }) => (self.allows(&c.user_id, consent)?, Ok(observed)),
            // Not read (the twin; an entry the gate's protocol must settle) or unreachable.
            _ => {
                let consent = self.require(app, &c.user_id, person).await?;
                if !consent.personalization {
                    places.clear();
                }
                let observed = habits.observe(person.as_str(), &places, fence, &track, at, now_ms);
                (consent, observed.await)
            }
        };
        let seen = match observed {
            Ok(observed) => {
                if consent.personalization {
                    habits_of(&places, &observed, at, matched);
                }
                Seen {
                    previous: observed.previous,
                    events: observed.events,
                    visits: observed.visits,
                    moved: observed.visits_moved,
                    note: None,
                }
            }
            // Unknown habits only mean habit-gated and triggered offers do not fire, and an
            // unknown sighting skips the speed check.
            Err(e) => Seen {
                note: Some(format!("habits unavailable: {e}")),
                ..Seen::default()
            },
        };
        Ok((consent, seen))
    }

    /// The report's fences for the visit state: those it is inside, with their brands, and
    /// those near enough to keep an open visit open (within the exit margin, not inside).
    pub(super) fn track(&self, c: &Checkin, matched: &[Matched]) -> Track {
        if !self.config.visit_tracking {
            // The benchmark's "off": nothing tracked, so the script skips the visit state.
            return Track {
                inside: Vec::new(),
                near: Vec::new(),
                dwell_ms: self.config.visit_dwell_ms,
                timeout_ms: self.config.visit_timeout_ms,
            };
        }
        let margin = c.accuracy_m.metres().max(MIN_EXIT_MARGIN_M);
        let mut hits = Vec::new();
        self.catalog
            .near(c.lat.degrees(), c.lon.degrees(), margin, &mut hits);
        let only = self.subjects.only_brand();
        let near = hits
            .iter()
            .filter(|h| !matched.iter().any(|m| m.info.id == h.id))
            .filter(|h| {
                only.is_none_or(|b| self.catalog.fence(&h.id).is_some_and(|f| f.brand == *b))
            })
            .map(|h| h.id.to_string())
            .collect();
        Track {
            inside: matched
                .iter()
                .map(|m| (m.info.id.to_string(), m.info.brand.to_string()))
                .collect(),
            near,
            dwell_ms: self.config.visit_dwell_ms,
            timeout_ms: self.config.visit_timeout_ms,
        }
    }
}

/// Fills each matched fence's habit features from the observation of `places`.
fn habits_of(places: &[(Place, u8)], observed: &Observed, at: i64, matched: &mut [Matched]) {
    let by_place: HashMap<&Place, HabitFeatures> = places
        .iter()
        .map(|(p, _)| p)
        .zip(observed.places.iter().map(|h| features(h, at)))
        .collect();
    for m in matched.iter_mut() {
        m.fence_habit = by_place.get(&Place::Fence(m.info.id.to_string())).cloned();
        m.brand_habit = by_place
            .get(&Place::Brand(m.info.brand.to_string()))
            .cloned();
    }
}
