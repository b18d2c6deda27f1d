//! The outcome of a decision in words: the summary sentence and the line that ends the
//! explanation, one wording per reason.

use super::candidates;
use super::deliveries::Delivery;
use super::explain::{CandidateView, Moment, Names};
use super::scope::Scope;
use super::text::{age, quoted};
use crate::checkins::input::STALE_AFTER;
use crate::decisions::trace::{LimiterAnswer, Outcome, plain_number};
use crate::domain::Activity;

/// The summary sentence and the line that gives the outcome.
pub(super) fn verdict(
    m: &Moment,
    cands: &[CandidateView],
    delivery: Option<&Delivery>,
    names: &Names,
) -> (String, String) {
    let c = m.trace.context.as_ref();
    let fence_names = || {
        let names: Vec<&str> = m.trace.fences.iter().map(|p| p.name.as_ref()).collect();
        if names.is_empty() {
            "the matched fence".into()
        } else {
            names.join(", ")
        }
    };
    if m.decision == "offer" {
        return delivered(m, cands, delivery, names);
    }
    match m.reason.unwrap_or_default() {
        "stale" => {
            let late = c.map(|c| age(c.report_age_s));
            let late = late.unwrap_or_else(|| "too long".into());
            (
                format!(
                    "No offer: the report arrived {late} after it was recorded; after {} min it is too late to act on.",
                    STALE_AFTER.num_minutes()
                ),
                format!("stale: reported {late} after it was recorded"),
            )
        }
        "in-motion" if c.is_some_and(|c| c.activity == Some(Activity::Automotive)) => (
            "No offer: the person was driving.".into(),
            "in motion: the phone reported driving".into(),
        ),
        "in-motion" => {
            let speed = c.and_then(|c| c.speed_mps).map_or("?".into(), plain_number);
            (
                format!(
                    "No offer: the person was moving at {speed} m/s, faster than any offer allows."
                ),
                format!("in motion: moving at {speed} m/s, faster than every offer allows"),
            )
        }
        "quiet-hours" => {
            let at = m
                .trace
                .fences
                .first()
                .and_then(|p| p.local_time)
                .map(|l| l.format("%H:%M").to_string());
            let at = at.unwrap_or_else(|| "the local time".into());
            (
                format!("No offer: it was {at} local time, inside quiet hours."),
                format!(
                    "quiet hours: {at} local at {}; no offers are sent in quiet hours",
                    fence_names()
                ),
            )
        }
        "implausible-location" => {
            let why = m.trace.implausible.as_ref().map_or_else(
                || "the location could not be trusted".into(),
                |w| w.to_string(),
            );
            (
                format!("No offer: the location was implausible: {why}."),
                format!("implausible location: {why}"),
            )
        }
        "no-eligible-offer" => match cands {
            [] => (
                "No offer: no offer targets the matched fence.".into(),
                format!("no eligible offer: no offer targets {}", fence_names()),
            ),
            [one] => (
                format!(
                    "No offer: {} did not qualify ({}).",
                    quoted(&one.offer_name),
                    one.lines.first().map_or("see its rules", String::as_str)
                ),
                "no eligible offer: the one offer considered did not pass every rule".into(),
            ),
            many => (
                format!(
                    "No offer: none of the {} offers considered qualified.",
                    many.len()
                ),
                format!(
                    "no eligible offer: {} offers considered, none passed every rule",
                    many.len()
                ),
            ),
        },
        "capped" => {
            // Views are in the trace's order: the first capped view is that candidate.
            let first = cands.iter().position(|x| x.outcome == "capped");
            let raw = first.and_then(|i| Some((&cands[i], m.trace.candidates.get(i)?)));
            let denial = raw.and_then(|(_, r)| {
                m.trace.limiter.iter().find_map(|l| match &l.answer {
                    LimiterAnswer::Denied { denial } if l.offer_id == r.offer_id => Some(denial),
                    _ => None,
                })
            });
            let short = match (raw, denial) {
                (Some((f, r)), Some(d)) => {
                    let (short, _) = candidates::cap(m, r, d, names, &Scope::All);
                    format!("{} hit {short}", quoted(&f.offer_name))
                }
                _ => "every eligible offer was refused by a cap".into(),
            };
            (
                format!("No offer: {short}."),
                "capped: every eligible offer that was tried was refused by a cap".into(),
            )
        }
        "held-out" => {
            let held = cands.iter().position(|x| x.outcome == "held-out");
            let name = held.map_or("the best offer".into(), |i| quoted(&cands[i].offer_name));
            let pct = held
                .and_then(|i| m.trace.candidates.get(i))
                .and_then(|c| match c.outcome().as_ref() {
                    Outcome::HeldOut { pct } => Some(pct.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| "?".into());
            (
                format!("No offer: the person is in the {pct}% holdout of {name}."),
                format!(
                    "held out: the person is in the control group of {name} ({pct}% holdout), so nothing was sent"
                ),
            )
        }
        "limiter-unavailable" => (
            "No offer: the rate limiter was unavailable, so nothing was sent (fail closed).".into(),
            "limiter unavailable: the caps could not be checked, so nothing was sent (fail closed)"
                .into(),
        ),
        other => (format!("No offer ({other})."), format!("no offer: {other}")),
    }
}

fn delivered(
    m: &Moment,
    cands: &[CandidateView],
    delivery: Option<&Delivery>,
    names: &Names,
) -> (String, String) {
    let Some(d) = delivery else {
        return (
            "Another brand's offer was delivered; none of yours was chosen.".into(),
            "delivered: an offer of another brand".into(),
        );
    };
    // A purged trace no longer names the offer and fence: the catalog (or the id) does.
    let offer = d.offer_id.to_string();
    let name = cands
        .iter()
        .find(|c| c.offer_id == offer)
        .map(|c| c.offer_name.clone())
        .or_else(|| names.offers.get(&offer).map(|l| l.name.clone()))
        .unwrap_or(offer);
    let fence = m
        .place(d.fence_id)
        .map(|p| p.name.to_string())
        .or_else(|| names.fences.get(&d.fence_id.to_string()).cloned())
        .unwrap_or_else(|| d.fence_id.to_string());
    (
        format!("Delivered {} from {} at {fence}.", quoted(&name), d.brand),
        format!(
            "delivered: {} ({}) at {fence}, shown as {} / {}{}",
            quoted(&name),
            d.brand,
            quoted(&d.title),
            quoted(&d.body),
            d.redemption_code
                .as_ref()
                .map(|c| format!(", code {c}"))
                .unwrap_or_default()
        ),
    )
}
