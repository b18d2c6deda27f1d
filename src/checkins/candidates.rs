//! Step 6, candidates: the active offers of the matched fences' brands that target the fence
//! (by id or tag), outside quiet hours — or, for an `exit` trigger, that target a fence of the
//! brand the person left within the last 2 hours; and the person's profile, read only when an
//! offer uses it.

use super::Engine;
use super::engine::Subjects;
use super::model::{Candidate, Matched};
use super::triggers::{targets, visit_facts};
use crate::error::ApiError;
use crate::habits::Visit;
use crate::offers::Trigger;
use crate::people::gate::Allowed;
use crate::people::{PersonId, Profile};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

impl Engine {
    /// Every offer reachable from the matched fences, each through the fence the person is
    /// deepest in.
    pub(super) fn candidates(
        &self,
        matched: &[Matched],
        visits: &BTreeMap<String, Visit>,
        at_ms: i64,
    ) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        for (i, m) in matched.iter().enumerate().filter(|(_, m)| !m.quiet) {
            for offer in self.catalog.offers_of(&m.info.brand) {
                let reached = match offer.spec.targeting.trigger {
                    Some(Trigger::Exit { .. }) => {
                        let id = m.info.id.to_string();
                        visit_facts(&offer, &id, visits, at_ms, |f| {
                            self.catalog.fence(&f.parse().ok()?)
                        })
                        .since_exit_ms
                        .is_some()
                    }
                    _ => targets(&offer, &m.info),
                };
                if !reached {
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
