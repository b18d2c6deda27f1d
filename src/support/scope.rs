//! Who may read which part of the decision trail: support and admin keys everything, a brand
//! key only what involved its brand (the rest stays invisible, as if it did not exist).

use crate::auth::{Principal, Role};
use crate::error::ApiError;
use serde_json::{Value, json};

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
    /// `brand_of` names the brand of an offer id (cap holders are not in the trace).
    pub fn redact_trace(&self, trace: &Value, brand_of: impl Fn(&str) -> Option<String>) -> Value {
        let Self::Brand(own) = self else {
            return trace.clone();
        };
        let mut t = trace.clone();
        let mine = |v: &Value| v["brand"].as_str() == Some(own.as_str());
        for list in ["fences", "candidates"] {
            if let Some(items) = t[list].as_array_mut() {
                items.retain(mine);
            }
        }
        let offers: Vec<String> = t["candidates"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|x| x["offer_id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(items) = t["limiter"].as_array_mut() {
            items.retain(|x| {
                x["offer_id"]
                    .as_str()
                    .is_some_and(|o| offers.iter().any(|m| m == o))
            });
            for x in items.iter_mut() {
                let holder = &mut x["denial"]["held_by"];
                let theirs = holder["offer_id"].as_str().map(&brand_of);
                if let Some(theirs) = theirs
                    && theirs.as_deref() != Some(own.as_str())
                {
                    *holder = json!({ "other_brand": true, "at": holder["at"] });
                }
            }
        }
        let answer = &mut t["answer"];
        if answer["offer"].is_object() && !mine(&answer["offer"]) {
            answer["offer"] = json!({ "other_brand": true });
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brand_sees_only_its_own_candidates_and_not_the_other_brands_offer() {
        let trace = json!({
            "fences": [{"id": "f1", "brand": "chillco"}, {"id": "f2", "brand": "beanline"}],
            "candidates": [{"offer_id": "a", "brand": "chillco"}, {"offer_id": "b", "brand": "beanline"}],
            "limiter": [{"offer_id": "b", "outcome": "granted"},
                        {"offer_id": "a", "outcome": "denied", "denial": {"held_by": {"offer_id": "b", "at": "t"}}}],
            "answer": {"decision": "offer", "offer": {"brand": "beanline", "title": "Coffee"}},
        });
        let brand_of = |o: &str| Some(if o == "a" { "chillco" } else { "beanline" }.to_string());
        let t = Scope::Brand("chillco".into()).redact_trace(&trace, brand_of);
        assert_eq!(t["fences"].as_array().unwrap().len(), 1);
        assert_eq!(t["candidates"][0]["offer_id"], "a");
        assert_eq!(t["limiter"].as_array().unwrap().len(), 1);
        assert_eq!(
            t["limiter"][0]["denial"]["held_by"],
            json!({"other_brand": true, "at": "t"})
        );
        assert_eq!(t["answer"]["offer"], json!({"other_brand": true}));
        assert_eq!(Scope::All.redact_trace(&trace, brand_of), trace);
    }
}
