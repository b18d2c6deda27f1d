//! Who may read which part of the decision trail: support and admin keys everything, a brand
//! key only what involved its brand (the rest stays invisible, as if it did not exist).

use crate::auth::{Principal, Role};
use crate::decisions::trace::{CapHolder, LimiterAnswer, Trace};
use crate::error::ApiError;
use serde_json::{Value, json};
use std::collections::HashSet;
use uuid::Uuid;

/// The part of the trail a key may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Admin and support keys: across brands.
    All,
    /// A brand key: its own brand only.
    Brand(String),
}

impl Scope {
    /// The scope of `who`; app keys read none of the trail.
    pub fn of(who: &Principal) -> Result<Self, ApiError> {
        match (who.role, &who.brand) {
            (Role::Admin | Role::Support, _) => Ok(Self::All),
            (Role::Brand, Some(b)) => Ok(Self::Brand(b.to_string())),
            (role, _) => Err(ApiError::Forbidden(format!(
                "{} keys cannot read deliveries, decisions or timelines",
                role.as_str()
            ))),
        }
    }

    /// The brand a brand key is limited to.
    pub fn brand(&self) -> Option<&str> {
        match self {
            Self::All => None,
            Self::Brand(b) => Some(b),
        }
    }

    /// May this scope see things of `brand` (`None`: of no known brand)?
    pub fn sees_brand(&self, brand: Option<&str>) -> bool {
        match self {
            Self::All => true,
            Self::Brand(own) => brand == Some(own.as_str()),
        }
    }

    /// The trace as this scope may read it: a brand sees its own fences, candidates and limiter
    /// answers; another brand's delivered offer and cap holders show only that they exist.
    /// `brand_of` names the brand of an offer id (cap holders are not in the trace). Read and
    /// redacted through the trace's types; a trace that does not read as one is not shown to
    /// a brand at all (null), rather than shown unredacted.
    pub fn redact_trace(&self, trace: &Value, brand_of: impl Fn(&str) -> Option<String>) -> Value {
        let Self::Brand(own) = self else {
            return trace.clone();
        };
        let Some(mut t) = Trace::read(trace) else {
            return Value::Null;
        };
        t.fences.retain(|f| f.brand == own.as_str());
        t.candidates.retain(|c| c.brand == own.as_str());
        let offers: HashSet<Uuid> = t.candidates.iter().map(|c| c.offer_id).collect();
        t.limiter.retain(|l| offers.contains(&l.offer_id));
        for entry in &mut t.limiter {
            let LimiterAnswer::Denied { denial } = &mut entry.answer else {
                continue;
            };
            if let Some(holder) = &mut denial.held_by
                && let Some(offer) = &holder.offer_id
                && brand_of(offer).as_deref() != Some(own.as_str())
            {
                *holder = CapHolder {
                    offer_id: None,
                    checkin_id: None,
                    at: holder.at,
                    other_brand: true,
                };
            }
        }
        let offer = &mut t.answer["offer"];
        if offer.is_object() && offer["brand"].as_str() != Some(own.as_str()) {
            *offer = json!({ "other_brand": true });
        }
        serde_json::to_value(&t).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";
    const F1: &str = "00000000-0000-4000-8000-0000000000f1";
    const F2: &str = "00000000-0000-4000-8000-0000000000f2";

    fn fence(id: &str, brand: &str) -> Value {
        json!({"id": id, "name": "Store", "brand": brand, "edge_distance_m": 4.0,
               "center_distance_m": null, "local_time": null, "timezone": "Europe/Paris"})
    }

    fn candidate(offer: &str, brand: &str, fence: &str) -> Value {
        json!({"offer_id": offer, "offer_name": "Offer", "brand": brand, "fence_id": fence,
               "eligible": true, "relevance": 2.0, "value": 1.0, "score": 2.0})
    }

    fn trace() -> Value {
        json!({
            "fences": [fence(F1, "chillco"), fence(F2, "beanline")],
            "candidates": [candidate(A, "chillco", F1), candidate(B, "beanline", F2)],
            "limiter": [
                {"offer_id": B, "outcome": "granted", "at": "2026-07-14T19:00:00Z"},
                {"offer_id": A, "outcome": "denied", "denial": {"cap": "person-day", "limit": 1,
                 "held_by": {"offer_id": B, "checkin_id": "k", "at": "2026-07-14T18:00:00Z"}}}
            ],
            "answer": {"decision": "offer", "offer": {"brand": "beanline", "title": "Coffee"}},
        })
    }

    #[test]
    fn a_brand_sees_only_its_own_candidates_and_not_the_other_brands_offer() {
        let brand_of = |o: &str| Some(if o == A { "chillco" } else { "beanline" }.to_string());
        let t = Scope::Brand("chillco".into()).redact_trace(&trace(), brand_of);
        assert_eq!(t["fences"].as_array().unwrap().len(), 1);
        assert_eq!(t["fences"][0]["id"], F1);
        assert_eq!(t["candidates"].as_array().unwrap().len(), 1);
        assert_eq!(t["candidates"][0]["offer_id"], A);
        assert_eq!(t["limiter"].as_array().unwrap().len(), 1);
        assert_eq!(
            t["limiter"][0]["denial"]["held_by"],
            json!({"other_brand": true, "at": "2026-07-14T18:00:00Z"})
        );
        assert_eq!(t["answer"]["offer"], json!({"other_brand": true}));
        // The redacted trace still reads through the trace's types.
        assert!(Trace::read(&t).is_some());
        assert_eq!(Scope::All.redact_trace(&trace(), brand_of), trace());
    }

    #[test]
    fn a_brand_keeps_its_own_cap_holder_and_its_own_delivered_offer() {
        let trace = json!({
            "candidates": [candidate(A, "chillco", F1)],
            "limiter": [{"offer_id": A, "outcome": "denied", "denial": {"cap": "person-day",
                "held_by": {"offer_id": A, "at": "2026-07-14T18:00:00Z"}}}],
            "answer": {"decision": "offer", "offer": {"brand": "chillco"}},
        });
        let t = Scope::Brand("chillco".into()).redact_trace(&trace, |_| Some("chillco".into()));
        assert_eq!(t["limiter"][0]["denial"]["held_by"]["offer_id"], A);
        assert_eq!(t["answer"]["offer"]["brand"], "chillco");
    }

    #[test]
    fn a_trace_that_does_not_read_is_not_shown_to_a_brand() {
        let broken = json!({"fences": [{"id": "not-a-uuid"}]});
        let t = Scope::Brand("chillco".into()).redact_trace(&broken, |_| None);
        assert_eq!(t, Value::Null);
    }
}
