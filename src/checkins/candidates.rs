//! Step 6, candidates: the active offers of the matched fences' brands that target the fence
//! (by id or tag), outside quiet hours; and the person's profile, read only when an offer
//! uses it.

use super::Engine;
use super::engine::Subjects;
use super::model::{Candidate, Matched};
use crate::domain::BrandId;
use crate::error::ApiError;
use crate::offers::Offer;
use crate::people::gate::Allowed;
use crate::people::{PersonId, Profile};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

impl Engine {
    /// Every offer reachable from the matched fences, each through the fence the person is
    /// deepest in.
    pub(super) fn candidates(&self, matched: &[Matched]) -> Vec<Candidate> {
        candidates_of(matched, |brand| self.catalog.offers_of(brand))
    }

    /// The profile (a store read): only with personalization consent and when an offer reads it.
    pub(super) async fn profile(
        &self,
        person: &PersonId,
        consent: Allowed,
        candidates: &[Candidate],
        now: DateTime<Utc>,
    ) -> Result<Option<Profile>, ApiError> {
        if !consent.personalization || !candidates.iter().any(|x| x.offer.reads_profile()) {
            return Ok(None);
        }
        if let Subjects::Test(t) = &self.subjects {
            return Ok(Some(t.profile.clone()));
        }
        let since = now - Duration::days(self.config.profile_days);
        Ok(Some(self.store.profile(person, since).await?))
    }
}

/// Every offer of `offers_of` a matched fence's brand that targets the fence (by id or tag),
/// outside quiet hours, each through the fence the person is deepest in. The backtest calls
/// it with the brand's offers as they would be with the tested one.
pub(super) fn candidates_of(
    matched: &[Matched],
    offers_of: impl Fn(&BrandId) -> Vec<Arc<Offer>>,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for (i, m) in matched.iter().enumerate().filter(|(_, m)| !m.quiet) {
        for offer in offers_of(&m.info.brand) {
            let targets = match &offer.spec.targeting.fences {
                None => true,
                Some(t) => {
                    t.ids.contains(&m.info.id) || t.tags.iter().any(|tag| m.info.tags.contains(tag))
                }
            };
            if !targets {
                continue;
            }
            match out.iter_mut().find(|x| x.offer.id == offer.id) {
                Some(x) if matched[x.fence].hit.edge_distance_m < m.hit.edge_distance_m => {
                    x.fence = i
                }
                Some(_) => {}
                None => out.push(Candidate::new(offer, i)),
            }
        }
    }
    out
}
