//! The check-in decision, step by step (docs/decisions.md): consent, validation, place
//! (outside every fence: outside.rs), decided before?, visits and habits, plausibility, early stops, candidates, weather, rules and scoring,
//! holdout, copy and claim, record. Sending nothing is the default; an offer goes out only
//! when every step agrees. Each step is one call into its own file, under a DEBUG span
//! (free at the default INFO level; no span carries the location).

use super::Engine;
use super::answer::{CheckinAnswer, CheckinResponse, replay};
use super::engine::Subjects;
use super::input::{CheckinInput, validate};
use super::model::Subject;
use super::place::early_stop;
use super::trace::Trace;
use crate::error::ApiError;
use std::time::Instant;
use tracing::{Instrument, debug_span};

impl Engine {
    /// Decides one check-in for `app`'s user.
    pub async fn decide(&self, app: &str, input: CheckinInput) -> Result<CheckinAnswer, ApiError> {
        let started = Instant::now();
        let now = self.clock.now();
        let person = Self::person_of(app, &input.user_id)?;
        // 2–3. Validation and place first: both only read the report and the in-memory
        // catalog, and keep nothing. Consent is still read before anything is processed or
        // stored, and it wins over anything else wrong with the report: a person without
        // location consent is told that (403), whatever the report holds.
        let user_id = input.user_id.clone();
        let c = match validate(input, now) {
            Ok(c) => c,
            Err(e) => {
                self.require(app, &user_id, &person).await?;
                return Err(e);
            }
        };
        // Replicas: nothing is decided on a catalog older than the configured bound.
        if self.catalog.is_stale() {
            self.require(app, &user_id, &person).await?;
            self.metrics.count("refused", "catalog-stale");
            return Err(ApiError::Unavailable(
                "the fence catalog is behind the database's change log; retry later".into(),
            ));
        }
        let mut matched = debug_span!("place").in_scope(|| self.place(&c));
        // No fence: keep nothing about the location. The consent read may close the person's
        // open visits, in the same round trip (outside.rs).
        if matched.is_empty() {
            return self
                .outside(app, &person, &c, now, started)
                .instrument(debug_span!("outside"))
                .await;
        }
        // A check-in id is one report of one user: the fingerprint tells a retry (answered
        // what was answered first) from a reuse of the id (409).
        let fingerprint = c.fingerprint(app);
        // 3a. A check-in decided before is answered from its record before anything about
        // this one is observed or claimed: retries never count twice, however long ago the
        // hot state forgot them. Only the record is read (by id), and it is answered only
        // once consent allows. A test decision has no record to look up.
        if let Subjects::People = self.subjects
            && let Some(prior) = self.store.prior_decision(app, &c.checkin_id).await?
        {
            self.require(app, &user_id, &person).await?;
            self.metrics.count("replay", "prior-record");
            return replay(&c, &fingerprint, prior);
        }
        // Overload is answered here, before any visit is counted or any cap claimed.
        if let Err(overloaded) = self.writer.admit() {
            self.require(app, &user_id, &person).await?;
            return Err(overloaded);
        }
        // 1 and 4. Consent, then visits and habits (personalization consent only), the last
        // sighting and the visit state, in one round trip on the person's slot: nothing is
        // observed without location consent.
        let span = debug_span!("consent_habits", fences = matched.len());
        let (consent, seen) = self
            .consent_and_visits(app, &person, &c, now, &mut matched)
            .instrument(span)
            .await?;
        let mut trace = Trace::new(&c, now, consent.personalization);
        if let Some(note) = &seen.note {
            trace.note(note.clone());
        }
        let who = Subject {
            app,
            person: &person,
            c: &c,
            fingerprint: &fingerprint,
            now,
            personalization: consent.personalization,
            events: &seen.events,
        };
        trace.fences(&matched);
        trace.visits(
            &seen,
            &c,
            self.config.visit_dwell_ms,
            self.config.visit_timeout_ms,
        );
        // 4a. Plausibility: a mocked report, an impossible jump, a device shared at a distance.
        if let Some(why) = self.implausible(&who, &matched, seen.previous.as_ref()) {
            self.metrics.implausible(why.check());
            trace.implausible(&why);
            let answer = CheckinResponse::none(&c.checkin_id, "implausible-location");
            return self.record(who, started, answer, trace, None).await;
        }
        // 5. Staleness, motion and quiet hours end the decision before any outside call.
        if let Some(reason) = early_stop(&c, now, &matched) {
            let answer = CheckinResponse::none(&c.checkin_id, reason);
            return self
                .record(who, started, answer, trace, None)
                .instrument(debug_span!("record"))
                .await;
        }
        // 6. Candidates.
        let at_ms = c.recorded_at.timestamp_millis();
        let candidates = self.candidates(&matched, &seen.visits, at_ms);
        self.choose(who, &matched, &seen.visits, candidates, trace, started)
            .await
    }
}
