//! Over 300 lines: one document type per part of the trace, each with its field notes, plus tests.
//!
//! The decision trace as a document: what the check-in decision writes (part by part, as its
//! steps run) and what support reads back, with the same types both ways. Field names are the
//! ones stored since the first traces; fields added later are `#[serde(default)]`, so every
//! trace kept within the retention period still reads (docs/decisions.md, "The record").
//!
//! Text fields are `Cow`: the writer borrows them from the decision (no copies on the hot
//! path), a reader owns them (`Trace<'static>`).

pub use super::outcome::{Fact, Outcome, RuleId, RuleOutcome, Signal, plain_number};
pub use super::plausibility::{Implausible, Jump};
use crate::domain::{Activity, AppState};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeSet;
use uuid::Uuid;

/// A whole trace document.
///
/// It also keeps the moment in typed, compact form, so that a later replay (the backtest) can
/// re-evaluate rules against it: the local time and habit features per matched fence
/// ([`TraceFence`]), the motion ([`TraceContext`]), the weather when it was fetched, and the
/// audience facts the rules read ([`AudienceFacts`]). It lives in the trace because the trace
/// is kept for the retention period, which is the backtest's window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Trace<'a> {
    /// The report and the moment.
    #[serde(default)]
    pub context: Option<TraceContext<'a>>,
    /// Every matched fence.
    #[serde(default)]
    pub fences: Vec<TraceFence<'a>>,
    /// The visit events this check-in caused, each with why (docs/visits.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visits: Vec<TraceVisit>,
    /// The plausibility check that failed (reason `implausible-location`); none before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implausible: Option<Implausible>,
    /// The weather, when the decision got that far.
    #[serde(default)]
    pub weather: Option<TraceWeather<'a>>,
    /// The profile facts the rules read, when an offer read the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<AudienceFacts>,
    /// Every candidate offer, best first.
    #[serde(default)]
    pub candidates: Vec<TraceCandidate<'a>>,
    /// The limiter's answers, in the order it was asked.
    #[serde(default)]
    pub limiter: Vec<LimiterEntry<'a>>,
    /// Degraded dependencies and the like.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The answer exactly as sent. Its wire type (`checkins::CheckinResponse`) sits above
    /// this module, and a brand's reader sees it redacted, so it is kept as JSON here.
    #[serde(default)]
    pub answer: Value,
    /// Time spent deciding.
    #[serde(default)]
    pub latency_us: i64,
}

/// A visit event in the trace: what happened at which fence, when, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceVisit {
    /// `enter`, `dwell` or `exit`.
    pub event: String,
    /// The fence.
    pub fence_id: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The sentence support reads.
    pub why: String,
}

impl Trace<'static> {
    /// Reads a stored (and possibly redacted) trace; `None` when it was purged or unreadable.
    pub fn read(stored: &Value) -> Option<Self> {
        if stored.is_null() {
            return None;
        }
        Trace::deserialize(stored)
            .inspect_err(|e| tracing::warn!(error = %e, "a decision trace could not be read"))
            .ok()
    }
}

impl Trace<'_> {
    /// The matched fence with this id.
    pub fn fence(&self, id: Uuid) -> Option<&TraceFence<'_>> {
        self.fences.iter().find(|f| f.id == id)
    }

    /// The offers whose deliveries held the caps that refused this decision.
    pub fn cap_holders(&self) -> BTreeSet<String> {
        self.limiter
            .iter()
            .filter_map(|l| match &l.answer {
                LimiterAnswer::Denied { denial } => denial.held_by.as_ref()?.offer_id.clone(),
                _ => None,
            })
            .collect()
    }

    /// The limiter's last answer about this offer.
    pub fn limiter_for(&self, offer: Uuid) -> Option<&LimiterEntry<'_>> {
        self.limiter.iter().rev().find(|l| l.offer_id == offer)
    }
}

/// The report and the moment it was decided in (the motion rules read speed and activity).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceContext<'a> {
    /// When the decision was made.
    pub decided_at: DateTime<Utc>,
    /// When the phone recorded the location.
    pub recorded_at: DateTime<Utc>,
    /// `decided_at - recorded_at`.
    pub report_age_s: i64,
    /// The location rounded to 0.001° (about 100 m): enough to explain, too coarse to track.
    /// Absent for a check-in outside every fence (kept only for the visits it closed): nothing
    /// about its location is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_rounded: Option<[f64; 2]>,
    /// Reported accuracy.
    pub accuracy_m: f64,
    /// Reported speed.
    pub speed_mps: Option<f64>,
    /// Reported activity.
    pub activity: Option<Activity>,
    /// Foreground or background.
    pub app_state: Option<AppState>,
    /// The reporting device.
    pub device_id: Option<Cow<'a, str>>,
    /// Did the person allow personalization (habits, profile)?
    pub personalization: bool,
    /// Did the SDK mark the location as mocked? (Absent when it did not say.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_mocked: Option<bool>,
}

/// What the audience, exclusion and retargeting rules read about the person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AudienceFacts {
    /// Of the candidates' brands, those the person follows.
    pub follows: Vec<String>,
    /// Stated interests.
    pub interests: Vec<String>,
    /// Purchases within the longest look-back a rule used, newest first.
    pub purchases: Vec<PurchaseFact>,
}

/// One purchase as the rules saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseFact {
    /// The brand bought from.
    pub brand: String,
    /// The SKU, if the event named one.
    pub sku: Option<String>,
    /// The category, if the event named one.
    pub category: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A matched fence and what was known about the person there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceFence<'a> {
    /// Fence id.
    pub id: Uuid,
    /// Fence name.
    pub name: Cow<'a, str>,
    /// Its brand.
    pub brand: Cow<'a, str>,
    /// How far inside its edge, metres (0.1 m).
    pub edge_distance_m: f64,
    /// Distance to a circle's centre.
    pub center_distance_m: Option<f64>,
    /// Local time at the fence.
    pub local_time: Option<DateTime<FixedOffset>>,
    /// The fence's time zone (IANA name).
    pub timezone: Cow<'a, str>,
    /// Was it quiet hours there?
    #[serde(default)]
    pub quiet_hours: bool,
    /// Habits at this fence (personalization only).
    #[serde(default)]
    pub habit_fence: Option<HabitFacts>,
    /// Habits at this fence's brand.
    #[serde(default)]
    pub habit_brand: Option<HabitFacts>,
}

/// Habit features as the rules saw them (`habits::HabitFeatures`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct HabitFacts {
    pub visits_7d: u32,
    pub visits_28d: u32,
    pub visits_per_week: f64,
    pub days_since_last_visit: Option<f64>,
    pub dwell_s: i64,
    pub usual_hour: Option<u8>,
}

/// The weather at the spot, or why it is unknown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
#[allow(missing_docs)]
pub enum TraceWeather<'a> {
    Known {
        known: bool,
        temp_c: f64,
        feels_like_c: f64,
        condition: Cow<'a, str>,
        precipitation_mm: f64,
        is_day: bool,
    },
    Unknown {
        known: bool,
        reason: Cow<'a, str>,
    },
}

/// One offer considered, with every rule's verdict and its outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceCandidate<'a> {
    /// The offer.
    pub offer_id: Uuid,
    /// Its name.
    pub offer_name: Cow<'a, str>,
    /// Its brand.
    pub brand: Cow<'a, str>,
    /// The fence it was reached through.
    pub fence_id: Uuid,
    /// Did every rule pass (and the relevance reach the minimum)?
    pub eligible: bool,
    /// The sentences of the failed rules (for people reading the raw trace).
    #[serde(default)]
    pub failed: Vec<Cow<'a, str>>,
    /// Every rule's verdict, in evaluation order.
    #[serde(default)]
    pub rules: Cow<'a, [RuleOutcome]>,
    /// 1 for the place plus each matched kind of signal.
    pub relevance: f64,
    /// The offer's value.
    pub value: f64,
    /// value × relevance.
    pub score: f64,
    /// The outcome in words, from `result` (traces before `result` have only this).
    #[serde(default)]
    pub outcome: Cow<'a, str>,
    /// The outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Cow<'a, Outcome>>,
}

impl TraceCandidate<'_> {
    /// The outcome, typed; for older traces read from their sentence.
    pub fn outcome(&self) -> Cow<'_, Outcome> {
        match &self.result {
            Some(o) => Cow::Borrowed(o.as_ref()),
            None => Cow::Owned(Outcome::from_legacy(&self.outcome, self.eligible)),
        }
    }
}

/// One answer of the limiter about one offer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimiterEntry<'a> {
    /// The offer claimed.
    pub offer_id: Uuid,
    /// What the limiter said.
    #[serde(flatten)]
    pub answer: LimiterAnswer<'a>,
}

/// Granted, denied by a cap, or no answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum LimiterAnswer<'a> {
    /// Granted at `at`.
    Granted {
        /// When the claim was granted.
        at: DateTime<Utc>,
        /// A replay of an earlier attempt's claim.
        #[serde(default)]
        replayed: bool,
    },
    /// Refused by a cap.
    Denied {
        /// The cap and what holds it.
        denial: CapDenial<'a>,
    },
    /// The limiter could not be asked.
    Error {
        /// Why.
        error: String,
    },
}

/// A cap's refusal (`limits::Denial`, as stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CapDenial<'a> {
    /// The cap's name (`person-day`).
    pub cap: Cow<'a, str>,
    /// Deliveries per period, or the budget (0 for a cool-down).
    #[serde(default)]
    pub limit: u64,
    /// The cap's rolling period.
    #[serde(default)]
    pub period_ms: Option<u64>,
    /// The delivery that holds the window.
    #[serde(default)]
    pub held_by: Option<CapHolder>,
    /// When the window frees, the cool-down ends or the daily budget resets.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// The delivery holding a cap's window. A brand reading another brand's holder sees only
/// `other_brand` and `at`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CapHolder {
    /// The offer delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// The limiter's claim key of the check-in it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkin_id: Option<String>,
    /// When it was granted.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// Redacted: it belongs to another brand.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub other_brand: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_trace_redacted_for_another_brand_still_reads() {
        let stored = json!({
            "context": {"decided_at": "2026-07-14T20:00:00Z", "recorded_at": "2026-07-14T20:00:00Z",
                "report_age_s": 0, "location_rounded": [40.749, -73.986], "accuracy_m": 15.0,
                "speed_mps": null, "activity": "walking", "app_state": null, "device_id": null,
                "personalization": true},
            "limiter": [{"offer_id": "01a230eb-c48c-7404-97d2-29d95507cb2b", "outcome": "denied",
                "denial": {"cap": "person-day", "limit": 1, "period_ms": 86400000,
                    "held_by": {"other_brand": true, "at": "2026-07-14T19:00:00Z"}, "until": null}}],
            "answer": {"decision": "offer", "offer": {"other_brand": true}},
            "latency_us": 7
        });
        let t = Trace::read(&stored).expect("reads");
        let LimiterAnswer::Denied { denial } = &t.limiter[0].answer else {
            panic!("{:?}", t.limiter)
        };
        let holder = denial.held_by.as_ref().unwrap();
        assert!(holder.other_brand && holder.offer_id.is_none());
        assert_eq!(t.context.unwrap().activity, Some(Activity::Walking));
        assert!(Trace::read(&Value::Null).is_none());
    }

    #[test]
    fn a_written_candidate_reads_back_with_its_typed_outcome() {
        let o = Outcome::HeldOut { pct: 50.0 };
        let written = TraceCandidate {
            offer_id: Uuid::nil(),
            offer_name: Cow::Borrowed("Two-for-one"),
            brand: Cow::Borrowed("chillco"),
            fence_id: Uuid::nil(),
            eligible: true,
            failed: Vec::new(),
            rules: Cow::Borrowed(&[]),
            relevance: 1.0,
            value: 1.0,
            score: 1.0,
            outcome: Cow::Owned(o.to_string()),
            result: Some(Cow::Borrowed(&o)),
        };
        let v = serde_json::to_value(&written).unwrap();
        assert_eq!(v["outcome"], "held out (50% holdout)");
        let read: TraceCandidate<'static> = serde_json::from_value(v).unwrap();
        assert_eq!(read.outcome().as_ref(), &o);
    }
}
