//! Step 15, record: the decision, its trace and its delivery are committed (group commit,
//! `writer.rs`) before the answer leaves. An attempt that raced another one with the same
//! check-in id is recognised here: a retry gets the first answer, a reuse gets 409 and its
//! fresh grant is given back.

use super::Engine;
use super::answer::{CheckinAnswer, CheckinResponse, replay};
use super::model::{Granted, Subject};
use super::trace::Trace;
use crate::decisions::record::pack_trace;
use crate::decisions::{DecisionRecord, VisitHook};
use crate::error::ApiError;
use crate::habits::VisitKind;
use crate::webhooks::{EventType, visit_hook};
use chrono::DateTime;
use std::time::Instant;
use uuid::Uuid;

impl Engine {
    /// `visit.entered` / `visit.exited` for the fence's brand, with personalization consent
    /// only (docs/webhooks.md); a dwell is in the answer and the trace, not a webhook.
    fn visit_hooks(&self, who: &Subject) -> Vec<VisitHook> {
        if !who.personalization {
            return Vec::new();
        }
        who.events
            .iter()
            .filter_map(|e| {
                let event = match e.kind {
                    VisitKind::Enter => EventType::VisitEntered,
                    VisitKind::Exit => EventType::VisitExited,
                    VisitKind::Dwell => return None,
                };
                let fence: Uuid = e.fence.parse().ok()?;
                let brand = self.catalog.fence(&fence)?.brand.to_string();
                let at = DateTime::from_timestamp_millis(e.at_ms)?;
                let (person, user) = (who.person.as_str(), &who.c.user_id);
                Some(visit_hook(event, person, user, fence, &brand, at))
            })
            .collect()
    }

    /// Records the decision and answers it.
    pub(super) async fn record(
        &self,
        who: Subject<'_>,
        started: Instant,
        answer: CheckinResponse,
        trace: Trace,
        granted: Option<Granted>,
    ) -> Result<CheckinAnswer, ApiError> {
        let c = who.c;
        let answer = answer.with_events(who.events);
        let (delivery, fresh) = granted.map_or((None, None), |g| (Some(g.delivery), g.fresh));
        let latency_us = started.elapsed().as_micros() as i64;
        let (trace, mut brands) = trace.finish(&answer, latency_us);
        // The delivered offer's brand too, whichever fence it was triggered at.
        if let Some(d) = &delivery
            && !brands.contains(&d.brand)
        {
            brands.push(d.brand.clone());
        }
        let decision = if delivery.is_some() { "offer" } else { "none" };
        self.metrics
            .count(decision, answer.reason.as_deref().unwrap_or("delivered"));
        self.metrics.latency(latency_us);
        let record = DecisionRecord {
            app: who.app.to_string(),
            checkin_id: c.checkin_id.clone(),
            fingerprint: who.fingerprint.to_string(),
            person: who.person.as_str().to_string(),
            user_id: c.user_id.clone(),
            at: who.now,
            decision,
            reason: answer.reason.clone(),
            // Held-out decisions keep the offer too: they are the control group of its results.
            offer_id: delivery.as_ref().map(|d| d.offer_id).or(answer.offer_id),
            delivery,
            // The store keeps the answer as JSON, to replay it byte for byte.
            response: serde_json::to_value(&answer).unwrap_or_default(),
            trace: pack_trace(&trace),
            brands,
            latency_us,
            visit_hooks: self.visit_hooks(&who),
        };
        // The delivery is durable before the response that carries it leaves. A retry gets
        // the first answer back, whatever this attempt computed (its claims replayed, so it
        // counted nothing).
        let saved = self.writer.write(record).await?;
        let Some(prior) = saved else {
            return Ok(CheckinAnswer::Decided(answer));
        };
        let answer = replay(c, who.fingerprint, prior);
        // Another report took this check-in id first: a grant this attempt made on the
        // user's caps and the offer's budget is given back, so the refused request changed
        // nothing. (A grant replayed from the first attempt is that attempt's, and stays.)
        if answer.is_err()
            && let Some((req, at)) = fresh
            && let Err(e) = self.limiter.release(&req, at).await
        {
            // The slot stays taken until its window ends: under-delivery, never over.
            tracing::warn!(error = %e, "could not release the claim of a reused check-in id");
        }
        answer
    }
}
