//! A decision explained for support: one sentence, a line per step that mattered, and a line
//! per reason each candidate offer did or did not go out. Built from the stored trace only, so
//! an explanation reads the same a month later, whatever changed in the catalog since.

use super::candidates;
use super::deliveries::Delivery;
use super::scope::Scope;
use super::text::{age, time};
use crate::checkins::rules::plain_number;
use crate::decisions::StoredDecision;
pub use crate::decisions::{Labels, OfferLabel};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

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
    /// delivered, not-eligible, below-relevance, held-out, copy-unrenderable, capped, limiter-unavailable,
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
    pub(super) places: Vec<Place>,
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
    let (summary, line) = super::verdict::verdict(&m, &candidates, delivery, names);
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
