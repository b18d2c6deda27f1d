//! A decision explained for support: one sentence, a line per step that mattered, and a line
//! per reason each candidate offer did or did not go out. Built from the stored trace only, so
//! an explanation reads the same a month later, whatever changed in the catalog since.

use super::candidates;
use super::deliveries::Delivery;
use super::scope::Scope;
use super::text::{age, quoted, time};
use crate::checkins::input::STALE_AFTER;
use crate::checkins::rules::plain_number;
use crate::store::StoredDecision;
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

/// An offer's brand and name, for offers a trace names only by id (cap holders).
#[derive(Debug, Clone, PartialEq)]
pub struct OfferLabel {
    /// The offer's brand.
    pub brand: String,
    /// The offer's name.
    pub name: String,
}

/// Offer labels by offer id.
pub type Labels = HashMap<String, OfferLabel>;

/// Names for the ids a trace leaves bare (cap holders), or that only a purged trace knew.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Offers by id.
    pub offers: Labels,
    /// Fence names by id.
    pub fences: HashMap<String, String>,
    /// Check-in ids by the limiter's claim key (what cap holders carry).
    pub checkins: HashMap<String, String>,
}

/// One candidate offer and why it did or did not go out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateView {
    /// The offer.
    pub offer_id: String,
    /// Its name.
    pub offer_name: String,
    /// Its brand.
    pub brand: String,
    /// The fence it was reached through.
    pub fence_id: Option<String>,
    /// delivered, not-eligible, below-relevance, held-out, capped, limiter-unavailable,
    /// not-chosen or not-tried.
    pub outcome: String,
    /// Why, one line per reason ("weather: needs ≥ 28 °C, was 18 °C").
    pub lines: Vec<String>,
}

/// The explanation of one decision.
#[derive(Debug, Clone)]
pub struct Explained {
    /// One sentence.
    pub summary: String,
    /// The steps that mattered, in order.
    pub explanation: Vec<String>,
    /// Every candidate offer, best first.
    pub candidates: Vec<CandidateView>,
}

/// A matched fence as the trace recorded it.
pub(super) struct Place {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) brand: String,
    pub(super) tz: Option<Tz>,
    pub(super) local: Option<DateTime<FixedOffset>>,
    pub(super) quiet: bool,
    pub(super) edge_m: Option<f64>,
}

/// What the explanation reads: the decision row and its (scoped) trace.
pub(super) struct Moment<'a> {
    pub(super) decision: &'a str,
    pub(super) reason: Option<&'a str>,
    pub(super) trace: &'a Value,
    pub(super) decided_at: Option<DateTime<Utc>>,
    places: Vec<Place>,
}

impl Moment<'_> {
    pub(super) fn place(&self, id: &str) -> Option<&Place> {
        self.places.iter().find(|p| p.id == id)
    }
}

/// Explains `d`, whose trace is already scoped to the reader (see [`Scope::redact_trace`]).
pub fn explain(
    d: &StoredDecision,
    delivery: Option<&Delivery>,
    names: &Names,
    scope: &Scope,
) -> Explained {
    let t = &d.trace;
    let places = t["fences"]
        .as_array()
        .map(|f| f.iter().map(place).collect())
        .unwrap_or_default();
    let m = Moment {
        decision: &d.decision,
        reason: d.reason.as_deref(),
        trace: t,
        decided_at: time(&t["context"]["decided_at"]).or(Some(d.at)),
        places,
    };
    let candidates = candidates::views(&m, names, scope);
    let mut explanation = Vec::new();
    match d.trace_purged_at {
        Some(at) => explanation.push(format!(
            "trace purged on {} after the retention period; the outcome and any delivery are kept",
            at.format("%Y-%m-%d")
        )),
        None => context(&m, &mut explanation),
    }
    let (summary, line) = verdict(&m, &candidates, delivery, names);
    explanation.push(line);
    Explained {
        summary,
        explanation,
        candidates,
    }
}

fn place(f: &Value) -> Place {
    let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
    Place {
        id: s("id"),
        name: s("name"),
        brand: s("brand"),
        tz: f["timezone"].as_str().and_then(|z| z.parse().ok()),
        local: f["local_time"]
            .as_str()
            .and_then(|l| DateTime::parse_from_rfc3339(l).ok()),
        quiet: f["quiet_hours"] == true,
        edge_m: f["edge_distance_m"].as_f64(),
    }
}

/// Where, when, how the report came in, personalization and weather.
fn context(m: &Moment, out: &mut Vec<String>) {
    for p in &m.places {
        let when = p.local.map(|l| l.format("%a %H:%M").to_string());
        out.push(format!(
            "place: {} ({}), {} m inside its edge; local time {}{}",
            p.name,
            p.brand,
            p.edge_m.map_or("?".into(), plain_number),
            when.unwrap_or_else(|| "unknown".into()),
            if p.quiet { ", inside quiet hours" } else { "" }
        ));
    }
    let c = &m.trace["context"];
    let mut report = format!(
        "report: decided {} after it was recorded, accuracy {} m",
        age(c["report_age_s"].as_i64().unwrap_or(0)),
        c["accuracy_m"].as_f64().map_or("?".into(), plain_number)
    );
    if let Some(s) = c["speed_mps"].as_f64() {
        report += &format!(", speed {} m/s", plain_number(s));
    }
    if let Some(a) = c["activity"].as_str() {
        report += &format!(", {a}");
    }
    out.push(report);
    if c["personalization"] == false {
        out.push("personalization: not consented, so habits and the profile were not used".into());
    }
    let w = &m.trace["weather"];
    if w["known"] == true {
        out.push(format!(
            "weather: {} °C, {}",
            w["temp_c"].as_f64().map_or("?".into(), plain_number),
            w["condition"].as_str().unwrap_or("?")
        ));
    } else if w["reason"] == "not-needed" {
        out.push("weather: not looked up (no candidate offer depends on it)".into());
    } else if let Some(r) = w["reason"].as_str() {
        out.push(format!(
            "weather: unknown ({r}), so weather-gated offers could not pass"
        ));
    }
    for n in m.trace["notes"].as_array().into_iter().flatten() {
        out.push(format!("note: {}", n.as_str().unwrap_or_default()));
    }
}

/// The summary sentence and the line that gives the outcome.
fn verdict(
    m: &Moment,
    cands: &[CandidateView],
    delivery: Option<&Delivery>,
    names: &Names,
) -> (String, String) {
    let c = &m.trace["context"];
    let fence_names = || {
        let names: Vec<&str> = m.places.iter().map(|p| p.name.as_str()).collect();
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
            let late = c["report_age_s"].as_i64().map(age);
            let late = late.unwrap_or_else(|| "too long".into());
            (
                format!(
                    "No offer: the report arrived {late} after it was recorded; after {} min it is too late to act on.",
                    STALE_AFTER.num_minutes()
                ),
                format!("stale: reported {late} after it was recorded"),
            )
        }
        "in-motion" if c["activity"] == "automotive" => (
            "No offer: the person was driving.".into(),
            "in motion: the phone reported driving".into(),
        ),
        "in-motion" => {
            let speed = c["speed_mps"].as_f64().map_or("?".into(), plain_number);
            (
                format!(
                    "No offer: the person was moving at {speed} m/s, faster than any offer allows."
                ),
                format!("in motion: moving at {speed} m/s, faster than every offer allows"),
            )
        }
        "quiet-hours" => {
            let at = m
                .places
                .first()
                .and_then(|p| p.local)
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
            let first = cands.iter().find(|x| x.outcome == "capped");
            let denial = first.and_then(|f| {
                m.trace["limiter"].as_array()?.iter().find(|l| {
                    l["offer_id"].as_str() == Some(f.offer_id.as_str()) && l["outcome"] == "denied"
                })
            });
            let raw = m.trace["candidates"].as_array().and_then(|cs| {
                cs.iter()
                    .find(|c| first.is_some_and(|f| c["offer_id"] == f.offer_id.as_str()))
            });
            let short = match (first, denial, raw) {
                (Some(f), Some(d), Some(r)) => {
                    let (short, _) = candidates::cap(m, r, &d["denial"], names, &Scope::All);
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
            let held = cands.iter().find(|x| x.outcome == "held-out");
            let name = held.map_or("the best offer".into(), |h| quoted(&h.offer_name));
            let pct = held
                .and_then(|h| h.lines.last())
                .and_then(|l| {
                    l.split_once('(')?
                        .1
                        .split_once('%')
                        .map(|(p, _)| p.to_string())
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
    let (offer, fence) = (d.offer_id.to_string(), d.fence_id.to_string());
    let name = cands
        .iter()
        .find(|c| c.offer_id == offer)
        .map(|c| c.offer_name.clone())
        .or_else(|| names.offers.get(&offer).map(|l| l.name.clone()))
        .unwrap_or(offer);
    let fence = m
        .place(&fence)
        .map(|p| p.name.clone())
        .or_else(|| names.fences.get(&fence).cloned())
        .unwrap_or(fence);
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
