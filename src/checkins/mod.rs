//! Check-ins: the product. A location report in, one rare and relevant offer (or "none") out.
//!
//! `decide.rs` walks the steps, one call per step, one file per step: `consent`, `input`
//! (validation), `place` (and `outside`: a report outside every fence), `visits`, `plausibility` (with `devices`), `candidates`, `weather`, `rules` and `scoring`, `claim`
//! and `deliver`, `record` (through the decision `writer`). `model.rs` holds the working
//! data, `trace.rs` builds the trace, `answer.rs` is what the app is answered.

pub mod admission;
mod answer;
pub mod batch;
mod candidates;
mod choose;
mod claim;
mod config;
mod consent;
mod decide;
mod deliver;
pub mod devices;
pub mod engine;
pub mod input;
mod model;
pub mod nearby;
mod outside;
mod place;
mod plausibility;
pub mod quota;
mod record;
pub mod replay;
pub mod rules;
pub mod scoring;
mod trace;
mod triggers;
mod visits;
mod weather;
pub mod writer;

pub use answer::{CheckinAnswer, CheckinResponse, DeliveredOffer, FenceRef};
pub use engine::{Engine, EngineConfig, EngineParts, Subjects, TestPerson};
pub use input::{Checkin, CheckinInput};
pub use model::{Outcome, RuleId};
pub use nearby::{NearbyFence, NearbyFences, NearbyQuery, NearbyShape};

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};

/// Decision counters: every "none" reason and every cap has its own series.
#[derive(Clone)]
pub struct EngineMetrics {
    decisions: IntCounterVec,
    implausible: IntCounterVec,
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
        let implausible = IntCounterVec::new(
            Opts::new(
                "implausible_checkins_total",
                "Check-ins answered implausible-location, by the check that failed",
            ),
            &["check"],
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
        registry.register(Box::new(implausible.clone()));
        registry.register(Box::new(claims.clone()));
        registry.register(Box::new(limiter_errors.clone()));
        registry.register(Box::new(latency.clone()));
        Self {
            decisions,
            implausible,
            claims,
            limiter_errors,
            latency,
        }
    }

    fn count(&self, decision: &str, reason: &str) {
        self.decisions.with_label_values(&[decision, reason]).inc();
    }

    fn implausible(&self, check: &str) {
        self.implausible.with_label_values(&[check]).inc();
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn source(rel: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_decision_stays_short_and_its_readers_stay_typed() {
        let decide = source("src/checkins/decide.rs");
        assert!(
            decide.lines().count() <= 150,
            "decide.rs grew past 150 lines"
        );
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checkins");
        for entry in std::fs::read_dir(dir).expect("src/checkins") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
            // Group arguments into context structs (model.rs) instead.
            assert!(!text.contains(&format!("{}::too_many_arguments", "clippy")));
        }
        for file in ["explain", "candidates", "verdict"] {
            let text = source(&format!("src/support/{file}.rs"));
            // Support reads the trace through decisions::trace, never by key or by sentence.
            for banned in ["trace[\"", ".starts_with("] {
                assert!(!text.contains(banned), "support/{file}.rs uses {banned}");
            }
        }
    }
}
