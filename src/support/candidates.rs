//! One line per reason a candidate offer did or did not go out: the rules it failed, its
//! holdout, the cap that refused it, or why it was never tried. Read from the trace's types:
//! the candidate's typed outcome and the limiter's typed answer.

use super::explain::{CandidateView, Moment, Names, zone};
use super::scope::Scope;
use super::text::{local, per, quoted};
use crate::decisions::trace::{CapDenial, LimiterAnswer, Outcome, RuleId, Signal, TraceCandidate};
use chrono::{DateTime, Utc};

/// The candidates of a trace, best first as the engine ranked them.
pub(super) fn views(m: &Moment, names: &Names, scope: &Scope) -> Vec<CandidateView> {
    let list = &m.trace.candidates;
    let mut out: Vec<CandidateView> = list
        .iter()
        .map(|c| first_pass(m, c, names, scope))
        .collect();
    // Eligible offers the limiter never saw: say why, naming the winner when there is one.
    let winner = out
        .iter()
        .position(|v| v.outcome == "delivered")
        .map(|i| (out[i].offer_name.clone(), list[i].score));
    for (v, c) in out.iter_mut().zip(list) {
        if v.outcome != "eligible" {
            continue;
        }
        let (outcome, line) = match (m.reason, &winner) {
            (_, Some((name, score))) => (
                "not-chosen",
                format!(
                    "eligible, but {} ranked higher (score {:.2} vs {:.2})",
                    quoted(name),
                    score,
                    c.score
                ),
            ),
            (None, None) if m.decision == "offer" => (
                "not-chosen",
                "eligible, but another brand's offer ranked higher".into(),
            ),
            (Some("held-out"), _) => (
                "not-tried",
                "eligible, but the best offer's holdout decided this check-in".into(),
            ),
            (Some("capped"), _) => (
                "not-tried",
                "eligible, but not tried: a cap covering every offer had already refused".into(),
            ),
            (Some("limiter-unavailable"), _) => (
                "not-tried",
                "eligible, but not tried: the rate limiter was unavailable".into(),
            ),
            _ => ("eligible", "eligible".into()),
        };
        v.outcome = outcome.into();
        v.lines.push(line);
    }
    out
}

/// Outcome and lines from the candidate's own rules and its limiter answer.
fn first_pass(m: &Moment, c: &TraceCandidate, names: &Names, scope: &Scope) -> CandidateView {
    let mut lines: Vec<String> = c.failed.iter().map(|f| f.to_string()).collect();
    let outcome = c.outcome();
    let outcome = match (c.eligible, outcome.as_ref()) {
        (false, o @ Outcome::BelowRelevance { .. }) => {
            lines.push(o.to_string());
            if lines.len() == 1 {
                "below-relevance"
            } else {
                "not-eligible"
            }
        }
        (false, _) => "not-eligible",
        (true, o @ Outcome::HeldOut { .. }) => {
            lines.push(o.to_string());
            "held-out"
        }
        (true, o @ Outcome::Skipped { .. }) => {
            lines.push(o.to_string());
            "copy-unrenderable"
        }
        (true, _) => match m.trace.limiter_for(c.offer_id).map(|l| &l.answer) {
            Some(LimiterAnswer::Granted { replayed, .. }) => {
                let replayed = if *replayed { " (replayed claim)" } else { "" };
                lines.push(format!("delivered: every rule passed{replayed}"));
                lines.extend(why_delivered(c));
                "delivered"
            }
            Some(LimiterAnswer::Denied { denial }) => {
                let (_, line) = cap(m, c, denial, names, scope);
                lines.push(line);
                "capped"
            }
            Some(LimiterAnswer::Error { error }) => {
                lines.push(format!(
                    "limiter unavailable: {error}; nothing is sent unchecked"
                ));
                "limiter-unavailable"
            }
            None => "eligible",
        },
    };
    CandidateView {
        offer_name: c.offer_name.to_string(),
        brand: c.brand.to_string(),
        fence_id: Some(c.fence_id.to_string()),
        offer_id: c.offer_id.to_string(),
        outcome: outcome.into(),
        lines,
    }
}

/// Why a delivered offer fitted the moment: the sentence of each passing rule that is a
/// signal (weather, habit, audience, time of day), in evaluation order. The gates every offer
/// passes (status, dates, motion, exclusions) and the "personalization allowed" and "weather
/// known" preconditions are left out: they say nothing about this moment.
fn why_delivered(c: &TraceCandidate) -> Vec<String> {
    c.rules
        .iter()
        .filter(|r| r.passed && !r.text.is_empty())
        .filter(|r| {
            !matches!(
                r.rule,
                RuleId::WeatherKnown
                    | RuleId::HabitPersonalization
                    | RuleId::AudiencePersonalization
            )
        })
        .filter(|r| {
            matches!(
                r.rule.signal(),
                Some(Signal::Weather | Signal::Habit | Signal::Audience | Signal::Schedule)
            )
        })
        .map(|r| r.text.clone())
        .collect()
}

/// A cap refusal as (short phrase for the summary, full line): "cap: 1 per 24 h across all
/// brands, used at 09:12 by offer “Hot” (check-in c-1); free again at 2026-07-15 09:12".
pub(super) fn cap(
    m: &Moment,
    candidate: &TraceCandidate,
    denial: &CapDenial,
    names: &Names,
    scope: &Scope,
) -> (String, String) {
    let place = m.place(candidate.fence_id);
    let tz = place.and_then(zone);
    let at = |t: Option<DateTime<Utc>>| t.map(|t| local(t, tz, m.decided_at));
    let limit = denial.limit;
    let period = denial.period_ms;
    let holder = denial.held_by.as_ref();
    let other_brand = holder.is_some_and(|h| h.other_brand);
    let label = holder
        .and_then(|h| h.offer_id.as_deref())
        .map(|o| (o, names.offers.get(o)));
    let visible = !other_brand
        && label.is_some_and(|(_, l)| l.is_none_or(|l| scope.sees_brand(Some(&l.brand))));
    let by = label.map(|(o, l)| match l {
        _ if !visible => "another brand's offer".to_string(),
        Some(l) => format!("offer {}", quoted(&l.name)),
        None => format!("offer {o}"),
    });
    let by = by.or_else(|| other_brand.then(|| "another brand's offer".into()));
    let used = match (at(holder.and_then(|h| h.at)), &by) {
        (Some(t), Some(by)) => {
            // Holders carry the limiter's claim key; name the check-in only when it maps back,
            // and only for the reader's own offers.
            let checkin = holder
                .and_then(|h| h.checkin_id.as_deref())
                .filter(|_| visible)
                .and_then(|k| names.checkins.get(k))
                .map(|c| format!(" (check-in {c})"));
            format!(", used at {t} by {by}{}", checkin.unwrap_or_default())
        }
        _ => String::new(),
    };
    let until = at(denial.until);
    let free = until
        .as_ref()
        .map(|t| format!("; free again at {t}"))
        .unwrap_or_default();
    let brand = &candidate.brand;
    let fence = place.map_or("this fence", |p| &p.name);
    let scope_words = match denial.cap.as_ref() {
        "person-day" | "person-week" => "across all brands".to_string(),
        "person-brand" => format!("from {brand}"),
        "person-offer" => "for this offer".to_string(),
        "person-fence" => format!("at {fence}"),
        "brand-cooldown" => {
            let line = format!(
                "cool-down: the person recently dismissed {brand}; no offers from it until {}",
                until.unwrap_or_else(|| "later".into())
            );
            return (format!("a cool-down on {brand}"), line);
        }
        "budget-total" => {
            let line =
                format!("budget: all {limit} deliveries of the offer's total budget are used");
            return ("the offer's total budget".into(), line);
        }
        "budget-daily" => {
            let line = format!(
                "budget: all {limit} deliveries of today's budget are used; it resets at {}",
                until.unwrap_or_else(|| "midnight UTC".into())
            );
            return ("the offer's daily budget".into(), line);
        }
        "checkin-already-served" => {
            let line = format!(
                "this check-in already received {}",
                by.unwrap_or_else(|| "an offer".into())
            );
            return ("one offer per check-in".into(), line);
        }
        other => {
            return (format!("cap {other}"), format!("cap {other}: refused"));
        }
    };
    let short = if limit == 0 {
        format!("no offers allowed {scope_words}")
    } else {
        format!("the limit of {} {scope_words}", per(limit, period))
    };
    let line = format!("cap: {} {scope_words}{used}{free}", per(limit, period));
    (short, line)
}
