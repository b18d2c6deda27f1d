//! Redis key names.
//!
//! Every key starts with the deployment's prefix. A person's keys share the hash tag
//! `{u:<person>}` and an offer's budget keys share `{o:<offer>}`, so each script touches
//! a single hash slot and stays atomic on Redis Cluster.

use crate::limits::LimiterError;

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

/// The key of one person: a single hash holds every cap log, cool-down and check-in
/// answer (`claim.lua` describes its fields).
pub(super) struct PersonKeys {
    tag: String,
}

impl PersonKeys {
    pub(super) fn new(prefix: &str, person: &str) -> Self {
        Self {
            tag: format!("{prefix}{{u:{person}}}"),
        }
    }

    /// The person's limiter hash.
    pub(super) fn limits(&self) -> String {
        format!("{}:lim", self.tag)
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

    /// Check-ins that reserved budget on one UTC day (`day` = days since the epoch), so
    /// that retries do not spend twice.
    pub(super) fn reservations(&self, day: i64) -> String {
        format!("{}:budget:ck:{day}", self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_person_key_carries_the_prefix_and_the_person_tag() {
        let keys = PersonKeys::new("geo:", "abc");
        assert_eq!(keys.limits(), "geo:{u:abc}:lim");
    }

    #[test]
    fn a_prefix_with_a_brace_is_refused() {
        assert!(validate_prefix("geo{x}:").is_err());
        assert!(validate_prefix("geo:prod:").is_ok());
    }
}
