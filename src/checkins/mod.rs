//! Check-ins: the product. A location report in, one rare and relevant offer (or "none") out.

pub mod admission;
mod answer;
pub mod engine;
pub mod input;
pub mod rules;
pub mod scoring;
mod trace;
pub mod writer;

pub use engine::{Engine, EngineConfig};
pub use input::CheckinInput;

use chrono::{DateTime, Utc};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The answer to a check-in, exactly as sent (and replayed for retries).
#[derive(Debug, Clone)]
pub struct CheckinAnswer(pub serde_json::Value);

/// The fence an offer was triggered at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FenceRef {
    /// Fence id.
    pub id: Uuid,
    /// Fence name.
    pub name: String,
}

/// A delivered offer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveredOffer {
    /// This delivery (use it in feedback events).
    pub delivery_id: Uuid,
    /// The offer.
    pub offer_id: Uuid,
    /// The brand.
    pub brand: String,
    /// Rendered title.
    pub title: String,
    /// Rendered body.
    pub body: String,
    /// Code to redeem, if the offer has one.
    pub redemption_code: Option<String>,
    /// When the code stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where it was triggered.
    pub fence: FenceRef,
}

/// The answer to a check-in, as built by the engine (and stored, so retries replay it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckinResponse {
    /// `offer` or `none`.
    pub decision: String,
    /// Why none: no-fence, stale, in-motion, quiet-hours, no-eligible-offer, capped, held-out,
    /// limiter-unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Echo of the request's id.
    pub checkin_id: String,
    /// The offer, when decision is `offer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<DeliveredOffer>,
    /// With `held-out`: the offer this person was held out of (the control group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<Uuid>,
}

impl CheckinResponse {
    /// No offer, and why.
    pub fn none(checkin_id: &str, reason: &str) -> Self {
        Self {
            decision: "none".into(),
            reason: Some(reason.into()),
            checkin_id: checkin_id.into(),
            offer: None,
            offer_id: None,
        }
    }

    /// The answer as sent and stored.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Decision counters: every "none" reason and every cap has its own series.
#[derive(Clone)]
pub struct EngineMetrics {
    decisions: IntCounterVec,
    claims: IntCounterVec,
    limiter_errors: IntCounter,
    latency: Histogram,
}

impl EngineMetrics {
    /// Creates and registers the metrics.
    pub fn new(registry: &crate::metrics::Metrics) -> Self {
        let decisions = IntCounterVec::new(
            Opts::new(
                "decisions_total",
                "Check-in decisions by outcome and reason",
            ),
            &["decision", "reason"],
        )
        .expect("valid metric");
        let claims = IntCounterVec::new(
            Opts::new(
                "limiter_claims_total",
                "Limiter claims by outcome and blocking cap",
            ),
            &["outcome", "cap"],
        )
        .expect("valid metric");
        let limiter_errors = IntCounter::new(
            "limiter_errors_total",
            "Limiter calls that failed (fail closed)",
        )
        .expect("valid metric");
        let latency = Histogram::with_opts(
            HistogramOpts::new(
                "decision_duration_seconds",
                "Time to decide a check-in, store writes included",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            ]),
        )
        .expect("valid metric");
        registry.register(Box::new(decisions.clone()));
        registry.register(Box::new(claims.clone()));
        registry.register(Box::new(limiter_errors.clone()));
        registry.register(Box::new(latency.clone()));
        Self {
            decisions,
            claims,
            limiter_errors,
            latency,
        }
    }

    fn count(&self, decision: &str, reason: &str) {
        self.decisions.with_label_values(&[decision, reason]).inc();
    }

    fn grant(&self) {
        self.claims.with_label_values(&["granted", ""]).inc();
    }

    fn denial(&self, cap: &str) {
        self.claims.with_label_values(&["denied", cap]).inc();
    }

    fn limiter_error(&self) {
        self.limiter_errors.inc();
    }

    fn latency(&self, us: i64) {
        self.latency.observe(us as f64 / 1e6);
    }
}
