//! The profile the decision reads: follows, stated interests and recent purchases. Filled by
//! feedback events; read only with personalization consent.

use crate::domain::BrandId;
use chrono::{DateTime, Utc};

/// One purchase, online or in store.
#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    /// The brand sold it.
    pub brand: String,
    /// Stock-keeping unit.
    pub sku: Option<String>,
    /// Category, e.g. `soft-drinks`.
    pub category: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What the decision knows about a person beyond the moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Brands followed.
    pub follows: Vec<BrandId>,
    /// Stated interests.
    pub interests: Vec<String>,
    /// Purchases, newest first, over the lookback the caller asked for.
    pub purchases: Vec<Purchase>,
}

impl Profile {
    /// Follows this brand?
    pub fn follows(&self, brand: &BrandId) -> bool {
        self.follows.contains(brand)
    }

    /// The most frequent SKU (else category) bought from `brand` since `since`: "the usual".
    pub fn usual_item(&self, brand: &BrandId, since: DateTime<Utc>) -> Option<String> {
        let mut counts: Vec<(String, usize, DateTime<Utc>)> = Vec::new();
        for p in self
            .purchases
            .iter()
            .filter(|p| p.brand == brand.as_str() && p.at >= since)
        {
            let Some(item) = p.sku.clone().or_else(|| p.category.clone()) else {
                continue;
            };
            match counts.iter_mut().find(|(i, _, _)| *i == item) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 = entry.2.max(p.at);
                }
                None => counts.push((item, 1, p.at)),
            }
        }
        // Most frequent wins; the most recent breaks ties so the answer is stable.
        counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(&b.2)))
            .map(|(i, _, _)| i)
    }
}
