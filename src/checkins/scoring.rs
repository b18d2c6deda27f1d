//! Scoring: an offer's value times how much of the moment it matches. Place alone is worth 1;
//! each other kind of signal that the offer asks for and that holds adds to it, so an offer
//! that matches place + weather + habit + time beats a place-only one of equal value.
//! The formula is documented in docs/decisions.md; keep the two in step. Also the decision
//! step that evaluates and ranks the candidates (`Engine::rank`).

use super::Engine;
use super::model::{Candidate, Outcome, Scene, Subject};
use super::rules::{self, Moment, RuleOutcome};
use super::triggers::visit_facts;
use crate::decisions::trace::Signal;
use crate::domain::SpeedMps;
use sha2::{Digest, Sha256};

/// Weight of each kind of signal.
pub const WEIGHTS: [(Signal, f64); 5] = [
    (Signal::Weather, 1.0),
    (Signal::Habit, 1.0),
    (Signal::Audience, 0.75),
    (Signal::Schedule, 0.5),
    (Signal::Exclude, 0.25),
];

/// Relevance of an offer whose rules all passed: 1 for the place, plus each matched kind of
/// signal once, plus up to 0.25 for being well inside the fence (closer to its heart).
pub fn relevance(rules: &[RuleOutcome], depth: f64) -> f64 {
    let signals: f64 = WEIGHTS
        .iter()
        .filter(|(kind, _)| {
            rules
                .iter()
                .any(|r| r.passed && r.rule.signal() == Some(*kind))
        })
        .map(|(_, w)| w)
        .sum();
    1.0 + signals + 0.25 * depth.clamp(0.0, 1.0)
}

/// How deep inside the fence the point is: 0 at the edge, 1 at the centre (circles) or 50 m
/// inside (polygons).
pub fn depth(edge_distance_m: f64, radius_m: Option<f64>) -> f64 {
    match radius_m {
        Some(r) if r > 0.0 => (edge_distance_m / r).clamp(0.0, 1.0),
        _ => (edge_distance_m / 50.0).clamp(0.0, 1.0),
    }
}

/// Is this person in this offer's holdout? A stable hash, so the same person stays in (or
/// out of) the control group for the offer's whole life.
pub fn held_out(person: &str, offer_id: &str, pct: f64) -> bool {
    if pct <= 0.0 {
        return false;
    }
    let h = Sha256::new()
        .chain_update(person.as_bytes())
        .chain_update([0])
        .chain_update(offer_id.as_bytes())
        .finalize();
    let bucket = u64::from_be_bytes(h[..8].try_into().unwrap_or([0; 8])) % 10_000;
    (bucket as f64) < pct * 100.0
}

/// Steps 8 and 11, rules and scoring: every candidate's rules, relevance, score and outcome,
/// then best first. Ties go to the lower offer id, so the same inputs give the same decision.
impl Engine {
    pub(super) fn rank(&self, who: &Subject, scene: &Scene, candidates: &mut [Candidate]) {
        let min = self.config.min_relevance;
        for cand in candidates.iter_mut() {
            let m = &scene.matched[cand.fence];
            let moment = Moment {
                now: who.now,
                local: m.local,
                weather: scene.weather,
                fence_habit: m.fence_habit.as_ref(),
                brand_habit: m.brand_habit.as_ref(),
                profile: scene.profile,
                speed_mps: who.c.speed_mps.map(SpeedMps::mps),
                activity: who.c.activity,
                retargeting_days: self.config.retargeting_days,
                visit: visit_facts(
                    &cand.offer,
                    &m.info.id.to_string(),
                    scene.visits,
                    who.c.recorded_at.timestamp_millis(),
                    |f| self.catalog.fence(&f.parse().ok()?),
                ),
            };
            cand.rules = rules::evaluate(&cand.offer, &moment);
            cand.eligible = cand.rules.iter().all(|r| r.passed);
            cand.relevance = relevance(&cand.rules, depth(m.hit.edge_distance_m, m.info.radius_m));
            cand.score = cand.offer.spec.value * cand.relevance;
            cand.outcome = if cand.eligible && cand.relevance < min {
                cand.eligible = false;
                Outcome::BelowRelevance {
                    relevance: cand.relevance,
                    min,
                }
            } else if cand.eligible {
                Outcome::Eligible
            } else {
                Outcome::Ineligible
            };
        }
        candidates.sort_by(|a, b| {
            b.eligible
                .cmp(&a.eligible)
                .then(b.score.total_cmp(&a.score))
                .then(a.offer.id.cmp(&b.offer.id))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decisions::trace::{Fact, RuleId};

    fn passed(rule: RuleId) -> RuleOutcome {
        RuleOutcome {
            rule,
            passed: true,
            expected: Fact::None,
            actual: Fact::None,
            text: String::new(),
        }
    }

    #[test]
    fn more_matched_signals_score_higher() {
        let place_only = relevance(
            &[passed(RuleId::Status), passed(RuleId::MotionMaxSpeed)],
            0.0,
        );
        let moment = relevance(
            &[
                passed(RuleId::Status),
                passed(RuleId::WeatherMinTemp),
                passed(RuleId::WeatherConditions),
                passed(RuleId::HabitMinVisitsPerWeek),
                passed(RuleId::ScheduleHours),
            ],
            0.0,
        );
        assert_eq!(place_only, 1.0);
        assert_eq!(moment, 3.5);
    }

    #[test]
    fn holdout_is_stable_and_close_to_its_percentage() {
        let n = 20_000;
        let held = (0..n)
            .filter(|i| held_out(&format!("p{i}"), "offer", 10.0))
            .count();
        assert!((1_700..2_300).contains(&held), "{held}");
        assert_eq!(held_out("p1", "offer", 10.0), held_out("p1", "offer", 10.0));
        assert!(!held_out("p1", "offer", 0.0));
    }
}
