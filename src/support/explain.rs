//! A decision explained for support: one sentence, a line per step that mattered, and a line
//! per reason each candidate offer did or did not go out. Built from the stored trace only, read
//! once into its types (`decisions::trace`), so an explanation reads the same a month later,
//! whatever changed in the catalog since.

use super::candidates;
use super::deliveries::Delivery;
use super::scope::Scope;
use super::text::age;
use crate::decisions::StoredDecision;
use crate::decisions::trace::{Trace, TraceFence, TraceWeather, plain_number};
pub use crate::decisions::{Labels, OfferLabel};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

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

/// What the explanation reads: the decision row and its (scoped) trace, read once.
pub(super) struct Moment<'a> {
    pub(super) decision: &'a str,
    pub(super) reason: Option<&'a str>,
    /// The trace (empty when purged).
    pub(super) trace: &'a Trace<'static>,
    pub(super) decided_at: Option<DateTime<Utc>>,
}

impl Moment<'_> {
    /// A matched fence, by id.
    pub(super) fn place(&self, id: Uuid) -> Option<&TraceFence<'static>> {
        self.trace.fences.iter().find(|f| f.id == id)
    }
}

/// A fence's time zone, when the trace names a known one.
pub(super) fn zone(f: &TraceFence) -> Option<Tz> {
    f.timezone.parse().ok()
}

/// Explains `d`, whose trace is already scoped to the reader (see [`Scope::redact_trace`]).
pub fn explain(
    d: &StoredDecision,
    delivery: Option<&Delivery>,
    names: &Names,
    scope: &Scope,
) -> Explained {
    let trace = Trace::read(&d.trace).unwrap_or_default();
    let m = Moment {
        decision: &d.decision,
        reason: d.reason.as_deref(),
        decided_at: trace.context.as_ref().map(|c| c.decided_at).or(Some(d.at)),
        trace: &trace,
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

/// Where, when, how the report came in, personalization and weather.
fn context(m: &Moment, out: &mut Vec<String>) {
    for p in &m.trace.fences {
        let when = p.local_time.map(|l| l.format("%a %H:%M").to_string());
        out.push(format!(
            "place: {} ({}), {} m inside its edge; local time {}{}",
            p.name,
            p.brand,
            plain_number(p.edge_distance_m),
            when.unwrap_or_else(|| "unknown".into()),
            if p.quiet_hours {
                ", inside quiet hours"
            } else {
                ""
            }
        ));
    }
    let c = m.trace.context.as_ref();
    let mut report = format!(
        "report: decided {} after it was recorded, accuracy {} m",
        age(c.map_or(0, |c| c.report_age_s)),
        c.map_or("?".into(), |c| plain_number(c.accuracy_m))
    );
    if let Some(s) = c.and_then(|c| c.speed_mps) {
        report += &format!(", speed {} m/s", plain_number(s));
    }
    if let Some(a) = c.and_then(|c| c.activity) {
        report += &format!(", {}", a.as_str());
    }
    if c.is_some_and(|c| c.is_mocked == Some(true)) {
        report += ", marked as mocked by the app";
    }
    out.push(report);
    if c.is_some_and(|c| !c.personalization) {
        out.push("personalization: not consented, so habits and the profile were not used".into());
    }
    match &m.trace.weather {
        Some(TraceWeather::Known {
            temp_c, condition, ..
        }) => out.push(format!(
            "weather: {} °C, {condition}",
            plain_number(*temp_c)
        )),
        Some(TraceWeather::Unknown { reason, .. }) if reason == "not-needed" => {
            out.push("weather: not looked up (no candidate offer depends on it)".into())
        }
        Some(TraceWeather::Unknown { reason, .. }) => out.push(format!(
            "weather: unknown ({reason}), so weather-gated offers could not pass"
        )),
        None => {}
    }
    for n in &m.trace.notes {
        out.push(format!("note: {n}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Decisions as the version before typed traces recorded and explained them (captured
    /// from `GET /v1/decisions/{id}` of the API tests: holdout, delivery, cap, failed rule).
    const V1: &str = include_str!("../decisions/testdata/v1_decisions.ndjson");

    fn stored(view: &Value) -> StoredDecision {
        let s = |k: &str| view[k].as_str().map(str::to_string);
        StoredDecision {
            app: s("app").unwrap(),
            checkin_id: s("checkin_id").unwrap(),
            user_id: s("user_id").unwrap(),
            at: view["at"].as_str().unwrap().parse().unwrap(),
            decision: s("decision").unwrap(),
            reason: s("reason"),
            response: view["trace"]["answer"].clone(),
            trace: view["trace"].clone(),
            latency_us: view["latency_us"].as_i64().unwrap(),
            offer_id: None,
            delivery_id: None,
            brands: vec!["chillco".into()],
            trace_purged_at: None,
        }
    }

    fn delivery(v: &Value) -> Option<Delivery> {
        let s = |k: &str| v[k].as_str().map(str::to_string);
        let t = |k: &str| v[k].as_str().map(|x| x.parse().unwrap());
        let id = |k: &str| v[k].as_str().map(|x| x.parse().unwrap());
        v.is_object().then(|| Delivery {
            id: id("id").unwrap(),
            created_at: t("created_at").unwrap(),
            app: s("app").unwrap(),
            user_id: s("user_id").unwrap(),
            device_id: s("device_id"),
            brand: s("brand").unwrap(),
            offer_id: id("offer_id").unwrap(),
            fence_id: id("fence_id").unwrap(),
            checkin_id: s("checkin_id").unwrap(),
            title: s("title").unwrap(),
            body: s("body").unwrap(),
            redemption_code: s("redemption_code"),
            expires_at: t("expires_at"),
            status: s("status").unwrap(),
        })
    }

    /// What the API looks up for a trace: the cap holders' offers and check-ins.
    fn names(trace: &Trace) -> Names {
        let mut names = Names::default();
        for c in &trace.candidates {
            let label = OfferLabel {
                brand: c.brand.to_string(),
                name: c.offer_name.to_string(),
            };
            names.offers.insert(c.offer_id.to_string(), label);
        }
        let key = crate::checkins::engine::claim_key("default", "u-1", "c-1");
        names.checkins.insert(key, "c-1".into());
        names
    }

    #[test]
    fn traces_recorded_before_they_were_typed_are_still_explained_the_same() {
        let mut seen = 0;
        for line in V1.lines().filter(|l| !l.trim().is_empty()) {
            let view: Value = serde_json::from_str(line).unwrap();
            let d = stored(&view);
            let trace = Trace::read(&d.trace).expect("an old trace reads");
            assert!(trace.candidates.iter().all(|c| c.result.is_none()));
            let e = explain(
                &d,
                delivery(&view["delivery"]).as_ref(),
                &names(&trace),
                &Scope::All,
            );
            let id = &d.checkin_id;
            assert_eq!(json!(e.summary), view["summary"], "{id}");
            assert_eq!(json!(e.explanation), view["explanation"], "{id}");
            assert_eq!(json!(e.candidates), view["candidates"], "{id}");
            seen += 1;
        }
        assert_eq!(seen, 4);
    }
}
