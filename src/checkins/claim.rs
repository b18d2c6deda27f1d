//! Steps 12–14, holdout, copy and claim: the best offer's control group gets nothing; each
//! eligible offer in turn, best first, gets its copy rendered and is claimed through the
//! limiter, atomically across every cap. A person-wide cap or a limiter error ends the search
//! (fail closed).

use super::Engine;
use super::answer::{CheckinResponse, claim_key};
use super::deliver::deliver;
use super::model::{Candidate, Granted, Outcome, Scene, Subject};
use super::scoring;
use super::trace::Trace;
use crate::decisions::record::BudgetExhausted;
use crate::decisions::trace::{CapDenial, CapHolder, LimiterAnswer, LimiterEntry};
use crate::limits::{Budget, BudgetWindow, Cap, Caps, ClaimOutcome, ClaimRequest, Denial, Window};
use crate::offers::Offer;

impl Engine {
    /// The answer for the ranked candidates, and the grant if an offer went out.
    pub(super) async fn claim(
        &self,
        who: &Subject<'_>,
        scene: &Scene<'_>,
        candidates: &mut [Candidate],
        trace: &mut Trace,
    ) -> (CheckinResponse, Option<Granted>) {
        let c = who.c;
        if !candidates.iter().any(|x| x.eligible) {
            let moving = !candidates.is_empty()
                && candidates
                    .iter()
                    .all(|x| x.rules.iter().any(|r| r.rule.is_motion() && !r.passed));
            let reason = if moving {
                "in-motion"
            } else {
                "no-eligible-offer"
            };
            return (CheckinResponse::none(&c.checkin_id, reason), None);
        }
        // Holdout: the best offer's control group gets nothing, and the decision says so.
        let best = &mut candidates[0];
        let pct = best.offer.spec.holdout_pct;
        if scoring::held_out(who.person.as_str(), &best.offer.id.to_string(), pct) {
            best.outcome = Outcome::HeldOut { pct };
            let answer = CheckinResponse {
                offer_id: Some(best.offer.id),
                ..CheckinResponse::none(&c.checkin_id, "held-out")
            };
            return (answer, None);
        }
        let claim_id = claim_key(who.app, &c.user_id, &c.checkin_id);
        let mut last_reason = "no-eligible-offer";
        for cand in candidates.iter_mut().filter(|x| x.eligible) {
            let m = &scene.matched[cand.fence];
            // The copy first: an offer whose copy cannot be rendered within its bounds is
            // skipped here, before it can use up a cap or its budget.
            let copy = match self.copy(m, &cand.offer, scene, who.now) {
                Ok(copy) => copy,
                Err(e) => {
                    tracing::warn!(offer = %cand.offer.id, error = %e, "offer copy cannot be rendered; offer skipped");
                    cand.outcome = Outcome::Skipped { reason: e };
                    continue;
                }
            };
            last_reason = "capped";
            let req = ClaimRequest {
                checkin_id: claim_id.clone(),
                person: who.person.as_str().to_string(),
                brand: cand.offer.brand.to_string(),
                offer_id: cand.offer.id.to_string(),
                fence_id: m.info.id.to_string(),
                caps: self.caps_for(&cand.offer),
                budget: Budget {
                    total: cand.offer.spec.budget.total,
                    daily: cand.offer.spec.budget.daily,
                },
            };
            let offer_id = cand.offer.id;
            match self.limiter.claim(&req).await {
                Ok(ClaimOutcome::Granted {
                    at,
                    replayed,
                    exhausted,
                }) => {
                    self.metrics.grant();
                    cand.outcome = Outcome::Delivered { replayed };
                    let answer = LimiterAnswer::Granted { at, replayed };
                    trace.limiter(LimiterEntry { offer_id, answer });
                    let mut delivery = deliver(who.app, c, m, &cand.offer, at, copy);
                    delivery.budget_exhausted = exhausted.map(|window| BudgetExhausted {
                        window,
                        limit: match window {
                            BudgetWindow::Total => req.budget.total,
                            BudgetWindow::Daily => req.budget.daily,
                        }
                        .unwrap_or_default(),
                        day: at.date_naive(),
                    });
                    let answer = CheckinResponse::offer(c, &delivery, m);
                    let fresh = (!replayed).then_some((req, at));
                    return (answer, Some(Granted { delivery, fresh }));
                }
                Ok(ClaimOutcome::Denied(denial)) => {
                    self.metrics.denial(denial.cap.as_str());
                    cand.outcome = Outcome::Capped {
                        cap: denial.cap.as_str().to_string(),
                    };
                    // A person-wide cap blocks every other offer too: stop asking.
                    let person_wide = matches!(
                        denial.cap,
                        Cap::PersonDay | Cap::PersonWeek | Cap::CheckinAlreadyServed
                    );
                    let answer = LimiterAnswer::Denied {
                        denial: cap_denial(denial),
                    };
                    trace.limiter(LimiterEntry { offer_id, answer });
                    if person_wide {
                        break;
                    }
                }
                Err(e) => {
                    // Fail closed: never deliver unchecked.
                    self.metrics.limiter_error();
                    cand.outcome = Outcome::LimiterUnavailable;
                    let answer = LimiterAnswer::Error {
                        error: e.to_string(),
                    };
                    trace.limiter(LimiterEntry { offer_id, answer });
                    last_reason = "limiter-unavailable";
                    break;
                }
            }
        }
        (CheckinResponse::none(&c.checkin_id, last_reason), None)
    }

    /// The deployment's caps, with the offer's own per-person cap in place of the default.
    pub fn caps_for(&self, offer: &Offer) -> Caps {
        let mut caps = self.config.caps;
        if let Some(p) = &offer.spec.caps.per_person {
            caps.person_offer = match p.period_days {
                Some(d) => Window::per_days(p.count, u64::from(d)),
                None => Window {
                    count: p.count,
                    ..Window::once_ever()
                },
            };
        }
        caps
    }
}

/// A cap's refusal as the trace keeps it.
fn cap_denial(d: Denial) -> CapDenial<'static> {
    CapDenial {
        cap: d.cap.as_str().into(),
        limit: d.limit,
        period_ms: d
            .period
            .map(|p| u64::try_from(p.as_millis()).unwrap_or(u64::MAX)),
        held_by: d.held_by.map(|h| CapHolder {
            offer_id: Some(h.offer_id),
            checkin_id: Some(h.checkin_id),
            at: Some(h.at),
            other_brand: false,
        }),
        until: d.until,
    }
}
