//! The decision trace, built as the steps of the decision run; its document type is
//! `decisions::trace::Trace`, which support reads back (`docs/decisions.md`, "The record").

use super::answer::CheckinResponse;
use super::config::MIN_EXIT_MARGIN_M;
use super::input::Checkin;
use super::model::{Candidate, Matched, Scene};
use super::rules::DEFAULT_EXCLUDE_DAYS;
use super::visits::Seen;
use crate::decisions::trace::{
    AudienceFacts, HabitFacts, Implausible, LimiterEntry, PurchaseFact, TraceCandidate,
    TraceContext, TraceFence, TraceVisit, TraceWeather,
};
use crate::habits::{HabitFeatures, VisitKind};
use crate::weather::WeatherLookup;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::borrow::Cow;

/// The decision trace, built as the steps run. Each part is serialized from the trace's
/// types (`decisions::trace`, borrowing from the decision) as soon as it is known — no
/// `serde_json::Value` trees: building, cloning and dropping them was the largest cost of a
/// decision in a dense place — and the document is assembled from the parts at the end.
pub(super) struct Trace {
    context: String,
    fences: Option<String>,
    visits: Option<String>,
    implausible: Option<String>,
    weather: Option<String>,
    audience: Option<String>,
    candidates: Option<String>,
    limiter: Vec<LimiterEntry<'static>>,
    notes: Vec<String>,
    /// Brands whose fences matched: brand keys read the decision through these.
    brands: Vec<String>,
}

fn habit(h: &Option<HabitFeatures>) -> Option<HabitFacts> {
    h.as_ref().map(HabitFacts::from)
}

/// The habit features as the trace records them.
impl From<&HabitFeatures> for HabitFacts {
    fn from(h: &HabitFeatures) -> Self {
        HabitFacts {
            visits_7d: h.visits_7d,
            visits_28d: h.visits_28d,
            visits_per_week: h.visits_per_week,
            days_since_last_visit: h.days_since_last_visit,
            dwell_s: h.dwell_s,
            usual_hour: h.usual_hour,
        }
    }
}

/// The habit features of a recorded moment, as a replay gives them to the rules again.
impl From<HabitFacts> for HabitFeatures {
    fn from(h: HabitFacts) -> Self {
        HabitFeatures {
            visits_7d: h.visits_7d,
            visits_28d: h.visits_28d,
            visits_per_week: h.visits_per_week,
            days_since_last_visit: h.days_since_last_visit,
            dwell_s: h.dwell_s,
            usual_hour: h.usual_hour,
        }
    }
}

/// JSON text of a value whose serialization cannot fail (plain structs, no maps with
/// non-string keys).
fn json_text(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl Trace {
    /// The trace of a check-in inside a fence.
    pub(super) fn new(c: &Checkin, now: DateTime<Utc>, personalization: bool) -> Self {
        // Location rounded to about 100 m: enough to explain, too coarse to track.
        let round = |v: f64| (v * 1000.0).round() / 1000.0;
        let at = [round(c.lat.degrees()), round(c.lon.degrees())];
        Self::with_context(c, now, personalization, Some(at))
    }

    /// The trace of a check-in outside every fence that closed visits: no location at all,
    /// only the fences (the visits part, the candidates) and times.
    pub(super) fn outside(c: &Checkin, now: DateTime<Utc>, personalization: bool) -> Self {
        Self::with_context(c, now, personalization, None)
    }

    fn with_context(
        c: &Checkin,
        now: DateTime<Utc>,
        personalization: bool,
        location_rounded: Option<[f64; 2]>,
    ) -> Self {
        let context = json_text(&TraceContext {
            decided_at: now,
            recorded_at: c.recorded_at,
            report_age_s: (now - c.recorded_at).num_seconds(),
            location_rounded,
            accuracy_m: c.accuracy_m.metres(),
            speed_mps: c.speed_mps.map(|s| s.mps()),
            activity: c.activity,
            app_state: c.app_state,
            device_id: c.device_id.as_deref().map(Cow::Borrowed),
            personalization,
            is_mocked: c.is_mocked,
        });
        Self {
            context,
            ..Self::discarded()
        }
    }

    /// A trace nobody will read (a backtest's replay): no context is serialized.
    pub(super) fn discarded() -> Self {
        Self {
            context: String::new(),
            fences: None,
            visits: None,
            implausible: None,
            weather: None,
            audience: None,
            candidates: None,
            limiter: Vec::new(),
            notes: Vec::new(),
            brands: Vec::new(),
        }
    }

    pub(super) fn note(&mut self, n: String) {
        self.notes.push(n);
    }

    pub(super) fn fences(&mut self, matched: &[Matched]) {
        let v: Vec<TraceFence> = matched
            .iter()
            .map(|m| TraceFence {
                id: m.info.id,
                name: Cow::Borrowed(&m.info.name),
                brand: Cow::Borrowed(m.info.brand.as_str()),
                edge_distance_m: tenth(m.hit.edge_distance_m),
                center_distance_m: m.hit.center_distance_m.map(tenth),
                local_time: Some(m.local.fixed_offset()),
                timezone: Cow::Borrowed(m.info.timezone.name()),
                quiet_hours: m.quiet,
                habit_fence: habit(&m.fence_habit),
                habit_brand: habit(&m.brand_habit),
            })
            .collect();
        self.fences = Some(json_text(&v));
        self.brands(matched);
    }

    /// The brands of these fences: brand keys read the decision through them.
    pub(super) fn brands(&mut self, matched: &[Matched]) {
        self.brands = matched.iter().map(|m| m.info.brand.to_string()).collect();
        self.brands.sort_unstable();
        self.brands.dedup();
    }

    /// The visit events this report caused, each with why; a late report says it moved none.
    pub(super) fn visits(&mut self, seen: &Seen, c: &Checkin, dwell_ms: i64, timeout_ms: i64) {
        if !seen.moved && !seen.visits.is_empty() {
            self.note(
                "late report: older than the person's visit state, so visits, exits and \
                 visit webhooks stay as they were"
                    .into(),
            );
        }
        let at = c.recorded_at.timestamp_millis();
        let margin = c.accuracy_m.metres().max(MIN_EXIT_MARGIN_M);
        let min = |ms: i64| ms / 60_000;
        let v: Vec<TraceVisit> = seen
            .events
            .iter()
            .map(|e| {
                let why = match e.kind {
                    VisitKind::Enter => format!(
                        "entered: the check-in is inside the fence, its accuracy ({:.0} m) within \
                         the fence's gate",
                        c.accuracy_m.metres()
                    ),
                    VisitKind::Dwell => {
                        let since = seen
                            .visits
                            .get(&e.fence)
                            .map_or(0, |v| e.at_ms - v.enter_ms);
                        format!(
                            "dwelled: in the fence for {} min (the dwell time is {} min)",
                            min(since),
                            min(dwell_ms)
                        )
                    }
                    VisitKind::Exit if e.at_ms < at => format!(
                        "exited: no check-in inside or near the fence for {} min or more (the \
                         timeout); the visit ended at the last one",
                        min(timeout_ms)
                    ),
                    VisitKind::Exit => format!(
                        "exited: the check-in is outside the fence, farther from its edge than \
                         the exit margin of {margin:.0} m (the larger of its accuracy and \
                         {MIN_EXIT_MARGIN_M:.0} m)"
                    ),
                };
                TraceVisit {
                    event: e.kind.as_str().to_string(),
                    fence_id: e.fence.clone(),
                    at: DateTime::from_timestamp_millis(e.at_ms).unwrap_or(c.recorded_at),
                    why,
                }
            })
            .collect();
        if !v.is_empty() {
            self.visits = Some(json_text(&v));
        }
    }

    /// The plausibility check that failed.
    pub(super) fn implausible(&mut self, why: &Implausible) {
        self.implausible = Some(json_text(why));
    }

    pub(super) fn weather(&mut self, w: &WeatherLookup) {
        let v = match w {
            WeatherLookup::Known(k) => TraceWeather::Known {
                known: true,
                temp_c: k.temp_c,
                feels_like_c: k.feels_like_c,
                condition: Cow::Borrowed(k.condition.as_str()),
                precipitation_mm: k.precipitation_mm,
                is_day: k.is_day,
            },
            WeatherLookup::Unknown { reason } => TraceWeather::Unknown {
                known: false,
                reason: Cow::Borrowed(reason),
            },
        };
        self.weather = Some(json_text(&v));
    }

    /// The profile facts the rules read: follows among the candidates' brands, interests, and
    /// purchases within the longest look-back a rule uses. Only when the profile was read.
    pub(super) fn audience(
        &mut self,
        scene: &Scene,
        cands: &[Candidate],
        now: DateTime<Utc>,
        retargeting_days: i64,
    ) {
        let Some(p) = scene.profile else {
            return;
        };
        let mut follows: Vec<String> = Vec::new();
        let mut days = retargeting_days;
        for x in cands {
            if p.follows(&x.offer.brand) && !follows.iter().any(|b| b == x.offer.brand.as_str()) {
                follows.push(x.offer.brand.to_string());
            }
            if let Some(e) = &x.offer.spec.targeting.exclude {
                let d = e.purchased_within_days.unwrap_or(DEFAULT_EXCLUDE_DAYS);
                days = days.max(i64::from(d));
            }
        }
        let since = now - Duration::days(days);
        let facts = AudienceFacts {
            follows,
            interests: p.interests.clone(),
            purchases: p
                .purchases
                .iter()
                .filter(|x| x.at >= since)
                .map(|x| PurchaseFact {
                    brand: x.brand.clone(),
                    sku: x.sku.clone(),
                    category: x.category.clone(),
                    at: x.at,
                })
                .collect(),
        };
        self.audience = Some(json_text(&facts));
    }

    pub(super) fn limiter(&mut self, v: LimiterEntry<'static>) {
        self.limiter.push(v);
    }

    pub(super) fn candidates(&mut self, cands: &[Candidate], matched: &[Matched]) {
        let v: Vec<TraceCandidate> = cands
            .iter()
            .map(|x| TraceCandidate {
                offer_id: x.offer.id,
                offer_name: Cow::Borrowed(&x.offer.spec.name),
                brand: Cow::Borrowed(x.offer.brand.as_str()),
                fence_id: matched[x.fence].info.id,
                eligible: x.eligible,
                failed: x
                    .rules
                    .iter()
                    .filter(|r| !r.passed)
                    .map(|r| Cow::Borrowed(r.text.as_str()))
                    .collect(),
                rules: Cow::Borrowed(&x.rules),
                relevance: x.relevance,
                value: x.offer.spec.value,
                score: x.score,
                outcome: Cow::Owned(x.outcome.to_string()),
                result: Some(Cow::Borrowed(&x.outcome)),
            })
            .collect();
        self.candidates = Some(json_text(&v));
    }

    /// The whole document, and the brands it involves.
    pub(super) fn finish(self, answer: &CheckinResponse, latency_us: i64) -> (String, Vec<String>) {
        let mut doc = String::with_capacity(
            256 + self.context.len()
                + self.fences.as_ref().map_or(0, String::len)
                + self.candidates.as_ref().map_or(0, String::len),
        );
        doc.push_str("{\"context\":");
        doc.push_str(&self.context);
        for (name, part) in [
            ("fences", &self.fences),
            ("visits", &self.visits),
            ("implausible", &self.implausible),
            ("weather", &self.weather),
            ("audience", &self.audience),
            ("candidates", &self.candidates),
        ] {
            if let Some(part) = part {
                doc.push_str(",\"");
                doc.push_str(name);
                doc.push_str("\":");
                doc.push_str(part);
            }
        }
        doc.push_str(",\"limiter\":");
        doc.push_str(&json_text(&self.limiter));
        doc.push_str(",\"notes\":");
        doc.push_str(&json_text(&self.notes));
        doc.push_str(",\"answer\":");
        doc.push_str(&json_text(answer));
        doc.push_str(",\"latency_us\":");
        doc.push_str(&latency_us.to_string());
        doc.push('}');
        (doc, self.brands)
    }
}
