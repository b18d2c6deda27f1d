//! Steps 6–15 once the candidates are known (docs/decisions.md), for a check-in inside a
//! fence (decide.rs) and for one outside every fence that closed a visit (outside.rs): the
//! profile when an offer reads it, weather, rules and scoring, holdout, copy and claim, record.

use super::Engine;
use super::answer::CheckinAnswer;
use super::model::{Candidate, Matched, Scene, Subject};
use super::trace::Trace;
use crate::error::ApiError;
use crate::habits::Visit;
use crate::people::gate::Allowed;
use std::collections::BTreeMap;
use std::time::Instant;
use tracing::{Instrument, debug_span};

impl Engine {
    /// Decides among `candidates`, reached through `matched`, and records the decision.
    pub(super) async fn choose(
        &self,
        who: Subject<'_>,
        matched: &[Matched],
        visits: &BTreeMap<String, Visit>,
        mut candidates: Vec<Candidate>,
        mut trace: Trace,
        started: Instant,
    ) -> Result<CheckinAnswer, ApiError> {
        let (c, now) = (who.c, who.now);
        let consent = Allowed {
            location: true,
            personalization: who.personalization,
        };
        let profile = self.profile(who.person, consent, &candidates, now).await?;
        // 7. Weather, only when an offer asks.
        let weather = self
            .weather_for(c, &candidates)
            .instrument(debug_span!("weather"))
            .await;
        trace.weather(&weather);
        let scene = Scene {
            matched,
            profile: profile.as_ref(),
            weather: &weather,
            visits,
        };
        trace.audience(&scene, &candidates, now, self.config.retargeting_days);
        // 8–11. Rules and scoring, best first.
        debug_span!("rules", candidates = candidates.len())
            .in_scope(|| self.rank(&who, &scene, &mut candidates));
        // 12–14. Holdout, copy and claim.
        let (answer, granted) = self
            .claim(&who, &scene, &mut candidates, &mut trace)
            .instrument(debug_span!("claim"))
            .await;
        trace.candidates(&candidates, matched);
        // 15. Record, then answer.
        self.record(who, started, answer, trace, granted)
            .instrument(debug_span!("record"))
            .await
    }
}
