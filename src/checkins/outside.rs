//! Step 3b, a report outside every fence (docs/visits.md): answered `no-fence` and nothing
//! about its location is kept, but it may close the person's open visits. The consent read is
//! that round trip: one script on the person's slot reads consent and, with location consent,
//! closes each open visit whose fence the report is not near (the exit margin, as inside a
//! fence: `Catalog::near` decides in process which fences are near). Only then is anything
//! kept — a decision record holding the fences left and the times (no coordinates), with
//! `visit.exited` webhooks for people with personalization consent — and an offer with an
//! `exit` trigger at a fence just left may go out ("thanks for coming by").

use super::Engine;
use super::answer::{CheckinAnswer, CheckinResponse, replay};
use super::engine::Subjects;
use super::input::Checkin;
use super::model::Subject;
use super::place::early_stop;
use super::trace::Trace;
use super::visits::Seen;
use crate::error::ApiError;
use crate::offers::Trigger;
use crate::people::PersonId;
use chrono::{DateTime, Utc};
use std::time::Instant;
use tracing::{Instrument, debug_span};

impl Engine {
    /// Decides a report that matched no fence.
    pub(super) async fn outside(
        &self,
        app: &str,
        person: &PersonId,
        c: &Checkin,
        now: DateTime<Utc>,
        started: Instant,
    ) -> Result<CheckinAnswer, ApiError> {
        let no_fence = || {
            self.metrics.count("none", "no-fence");
            Ok(CheckinAnswer::Decided(CheckinResponse::none(
                &c.checkin_id,
                "no-fence",
            )))
        };
        // A mocked report touches no visit. Under overload no record could carry an exit, so
        // nothing closes now (the visit ends at a later report). Both: the consent read alone.
        if c.is_mocked() || self.writer.admit().is_err() {
            self.require(app, &c.user_id, person).await?;
            return no_fence();
        }
        let track = self.track(c, &[]);
        let fingerprint = c.fingerprint(app);
        let at_ms = c.recorded_at.timestamp_millis();
        let leave = (&track, fingerprint.as_str(), at_ms, now.timestamp_millis());
        let (consent, left) = self
            .consent_leaving(app, &c.user_id, person, leave)
            .instrument(debug_span!("consent"))
            .await?;
        // The same report again, after it closed visits: answered from its record. (None yet:
        // the first attempt is still being recorded, or failed to be; it closed the visits.)
        if left.retry
            && let Subjects::People = self.subjects
            && let Some(prior) = self.store.prior_decision(app, &c.checkin_id).await?
        {
            self.metrics.count("replay", "prior-record");
            return replay(c, &fingerprint, prior);
        }
        if left.events.is_empty() {
            return no_fence();
        }
        let seen = Seen {
            previous: None,
            events: left.events,
            visits: left.visits,
            moved: true,
            note: None,
        };
        let mut trace = Trace::outside(c, now, consent.personalization);
        let (dwell_ms, timeout_ms) = (self.config.visit_dwell_ms, self.config.visit_timeout_ms);
        trace.visits(&seen, c, dwell_ms, timeout_ms);
        let who = Subject {
            app,
            person,
            c,
            fingerprint: &fingerprint,
            now,
            personalization: consent.personalization,
            events: &seen.events,
        };
        // The fences left are where exit offers are reached; nothing else is offered outside
        // every fence.
        let left = self.left(c, &seen.events);
        trace.brands(&left);
        let mut candidates = self.candidates(&left, &seen.visits, at_ms);
        candidates.retain(|x| matches!(x.offer.spec.targeting.trigger, Some(Trigger::Exit { .. })));
        let stop = match candidates.is_empty() {
            true => Some("no-fence"),
            false => early_stop(c, now, &left),
        };
        if let Some(reason) = stop {
            let answer = CheckinResponse::none(&c.checkin_id, reason);
            return self
                .record(who, started, answer, trace, None)
                .instrument(debug_span!("record"))
                .await;
        }
        self.choose(who, &left, &seen.visits, candidates, trace, started)
            .await
    }
}
