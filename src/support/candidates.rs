//! One line per reason a candidate offer did or did not go out: the rules it failed, its
//! holdout, the cap that refused it, or why it was never tried.

use super::explain::{CandidateView, Moment, Names};
use super::scope::Scope;
use super::text::{local, per, quoted, time};
use serde_json::Value;

/// The candidates of a trace, best first as the engine ranked them.
pub(super) fn views(m: &Moment, names: &Names, scope: &Scope) -> Vec<CandidateView> {
    let Some(list) = m.trace["candidates"].as_array() else {
        return Vec::new();
    };
    let mut out: Vec<CandidateView> = list
        .iter()
        .map(|c| first_pass(m, c, names, scope))
        .collect();
    // Eligible offers the limiter never saw: say why, naming the winner when there is one.
    let winner = out
        .iter()
        .position(|v| v.outcome == "delivered")
        .map(|i| (out[i].offer_name.clone(), list[i]["score"].as_f64()));
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
                    score.unwrap_or(0.0),
                    c["score"].as_f64().unwrap_or(0.0)
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
fn first_pass(m: &Moment, c: &Value, names: &Names, scope: &Scope) -> CandidateView {
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
    let raw = s("outcome");
    let mut lines: Vec<String> = c["failed"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let offer = s("offer_id");
    let limiter = m.trace["limiter"].as_array().and_then(|l| {
        l.iter()
            .rev()
            .find(|x| x["offer_id"].as_str() == Some(offer.as_str()))
    });
    let outcome = if c["eligible"] != true {
        if raw.starts_with("relevance") {
            lines.push(raw);
            if lines.len() == 1 {
                "below-relevance"
            } else {
                "not-eligible"
            }
        } else {
            "not-eligible"
        }
    } else if raw.starts_with("held out") {
        lines.push(raw);
        "held-out"
    } else if raw.starts_with("skipped") {
        lines.push(raw);
        "copy-unrenderable"
    } else {
        match limiter.map(|l| l["outcome"].as_str().unwrap_or_default()) {
            Some("granted") => {
                let replayed = if l_bool(limiter, "replayed") {
                    " (replayed claim)"
                } else {
                    ""
                };
                lines.push(format!("delivered: every rule passed{replayed}"));
                "delivered"
            }
            Some("denied") => {
                let (_, line) = cap(
                    m,
                    c,
                    &limiter.unwrap_or(&Value::Null)["denial"],
                    names,
                    scope,
                );
                lines.push(line);
                "capped"
            }
            Some("error") => {
                let e = limiter
                    .and_then(|l| l["error"].as_str())
                    .unwrap_or("no answer");
                lines.push(format!(
                    "limiter unavailable: {e}; nothing is sent unchecked"
                ));
                "limiter-unavailable"
            }
            _ => "eligible",
        }
    };
    CandidateView {
        offer_name: s("offer_name"),
        brand: s("brand"),
        fence_id: c["fence_id"].as_str().map(str::to_string),
        offer_id: offer,
        outcome: outcome.into(),
        lines,
    }
}

fn l_bool(v: Option<&Value>, k: &str) -> bool {
    v.is_some_and(|v| v[k] == true)
}

/// A cap refusal as (short phrase for the summary, full line): "cap: 1 per 24 h across all
/// brands, used at 09:12 by offer “Hot” (check-in c-1); free again at 2026-07-15 09:12".
pub(super) fn cap(
    m: &Moment,
    candidate: &Value,
    denial: &Value,
    names: &Names,
    scope: &Scope,
) -> (String, String) {
    let place = candidate["fence_id"].as_str().and_then(|f| m.place(f));
    let tz = place.and_then(|p| p.tz);
    let at = |v: &Value| time(v).map(|t| local(t, tz, m.decided_at));
    let limit = denial["limit"].as_u64().unwrap_or(0);
    let period = denial["period_ms"].as_u64();
    let holder = &denial["held_by"];
    let label = holder["offer_id"]
        .as_str()
        .map(|o| (o, names.offers.get(o)));
    let visible = holder["other_brand"] != true
        && label.is_some_and(|(_, l)| l.is_none_or(|l| scope.sees_brand(Some(&l.brand))));
    let by = label.map(|(o, l)| match l {
        _ if !visible => "another brand's offer".to_string(),
        Some(l) => format!("offer {}", quoted(&l.name)),
        None => format!("offer {o}"),
    });
    let by = by.or_else(|| (holder["other_brand"] == true).then(|| "another brand's offer".into()));
    let used = match (at(&holder["at"]), &by) {
        (Some(t), Some(by)) => {
            // Holders carry the limiter's claim key; name the check-in only when it maps back,
            // and only for the reader's own offers.
            let checkin = holder["checkin_id"]
                .as_str()
                .filter(|_| visible)
                .and_then(|k| names.checkins.get(k))
                .map(|c| format!(" (check-in {c})"));
            format!(", used at {t} by {by}{}", checkin.unwrap_or_default())
        }
        _ => String::new(),
    };
    let until = at(&denial["until"]);
    let free = until
        .as_ref()
        .map(|t| format!("; free again at {t}"))
        .unwrap_or_default();
    let brand = candidate["brand"].as_str().unwrap_or("this brand");
    let fence = place.map_or("this fence", |p| p.name.as_str());
    let scope_words = match denial["cap"].as_str().unwrap_or_default() {
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
