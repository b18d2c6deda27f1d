//! Redis key names.
//!
//! Every key starts with the deployment's prefix. A person's keys share the hash tag
//! `{u:<person>}` and an offer's budget keys share `{o:<offer>}`, so each script touches
//! a single hash slot and stays atomic on Redis Cluster.

use crate::limits::{ClaimRequest, LimiterError};

/// Checks a key prefix: braces would move the hash tag into the prefix and put every
/// person in one slot (and one shard).
pub(super) fn validate_prefix(prefix: &str) -> Result<(), LimiterError> {
    if prefix.contains(['{', '}']) || prefix.chars().any(|c| c.is_whitespace()) {
        return Err(LimiterError::InvalidConfig(
            "key prefix must not contain braces or whitespace".into(),
        ));
    }
    Ok(())
}

/// The keys of one person.
pub(super) struct PersonKeys {
    tag: String,
}

impl PersonKeys {
    pub(super) fn new(prefix: &str, person: &str) -> Self {
        Self {
            tag: format!("{prefix}{{u:{person}}}"),
        }
    }

    /// Sliding log of every grant (person-day and person-week).
    pub(super) fn all_log(&self) -> String {
        format!("{}:all", self.tag)
    }

    /// Sliding log of grants for one brand.
    pub(super) fn brand_log(&self, brand: &str) -> String {
        format!("{}:b:{brand}", self.tag)
    }

    /// Sliding log of grants of one offer.
    pub(super) fn offer_log(&self, offer: &str) -> String {
        format!("{}:o:{offer}", self.tag)
    }

    /// Sliding log of grants triggered at one fence.
    pub(super) fn fence_log(&self, fence: &str) -> String {
        format!("{}:f:{fence}", self.tag)
    }

    /// End of the person's cool-down for one brand.
    pub(super) fn cooldown(&self, brand: &str) -> String {
        format!("{}:cd:{brand}", self.tag)
    }

    /// Answers given to the person's recent check-ins (idempotency records), one hash.
    pub(super) fn checkins(&self) -> String {
        format!("{}:ck", self.tag)
    }

    /// Index of the person's keys with variable names and of check-in records (for expiry
    /// and erasure).
    pub(super) fn index(&self) -> String {
        format!("{}:idx", self.tag)
    }

    /// The four logs a claim writes, in claim.lua's KEYS order.
    pub(super) fn logs(&self, req: &ClaimRequest) -> [String; 4] {
        [
            self.all_log(),
            self.brand_log(&req.brand),
            self.offer_log(&req.offer_id),
            self.fence_log(&req.fence_id),
        ]
    }
}

/// The budget keys of one offer.
pub(super) struct OfferKeys {
    tag: String,
}

impl OfferKeys {
    pub(super) fn new(prefix: &str, offer: &str) -> Self {
        Self {
            tag: format!("{prefix}{{o:{offer}}}"),
        }
    }

    /// Counters: total, current UTC day, deliveries that day.
    pub(super) fn counters(&self) -> String {
        format!("{}:budget", self.tag)
    }

    /// Check-ins that reserved budget recently (retries must not spend twice).
    pub(super) fn reservations(&self) -> String {
        format!("{}:budget:ck", self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_person_key_carries_the_prefix_and_the_person_tag() {
        let keys = PersonKeys::new("geo:", "abc");
        for key in [
            keys.all_log(),
            keys.brand_log("b"),
            keys.checkins(),
            keys.index(),
        ] {
            assert!(key.starts_with("geo:{u:abc}:"), "{key}");
        }
    }

    #[test]
    fn a_prefix_with_a_brace_is_refused() {
        assert!(validate_prefix("geo{x}:").is_err());
        assert!(validate_prefix("geo:prod:").is_ok());
    }
}
