//! Strict rate limits: the caps that make "rarely" a guarantee.
//!
//! One [`Limiter`] trait, two implementations with the same semantics:
//! [`RedisLimiter`] (production; atomic across any number of replicas) and
//! [`InProcessLimiter`] (one process only; for `GEOFFER_REDIS_URL` unset and tests).
//! The conformance suite in `tests/limits/` runs the same bodies against both.
//! See `docs/rate-limits.md` for the guarantee and its limits.

mod caps;
mod outcome;
mod redis;
mod twin;

use std::time::Duration;

pub use self::caps::{Budget, Caps, Window};
pub use self::outcome::{BudgetWindow, Cap, ClaimOutcome, Denial, Holder};
pub use self::redis::RedisLimiter;
pub use self::twin::InProcessLimiter;

/// Default bound on one limiter call; past it the call fails closed with `Unavailable`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);

/// How long Redis keeps the answer to a (checkin, offer) claim so that retries replay it.
///
/// Longer than any client retry horizon. The check-in engine also consults the durable
/// decision record before claiming, so a retry never counts twice even after this.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long the in-process twin keeps a claim's answer: it must only cover the time from a
/// claim to its decision's durable record (the decision writer gives up after 10 s); from
/// then on the record answers retries. Keeping answers for days would grow the process by
/// hundreds of bytes per check-in (docs/rate-limits.md).
pub const TWIN_IDEMPOTENCY_TTL: Duration = Duration::from_secs(120);

/// Longest accepted id (checkin, brand, offer, fence, person), in bytes.
///
/// Ids become parts of Redis key names; a bound keeps keys and log members small.
pub const MAX_ID_LEN: usize = 128;

/// The strict rate limiter: every cap of one delivery is checked and recorded at once.
#[async_trait::async_trait]
pub trait Limiter: Send + Sync + 'static {
    /// Atomically checks and records every cap of one delivery. Idempotent per checkin_id.
    async fn claim(&self, req: &ClaimRequest) -> Result<ClaimOutcome, LimiterError>;
    /// Starts (or extends) a brand cool-down for a person, e.g. after a dismissal.
    async fn cool_down(
        &self,
        person: &str,
        brand: &str,
        duration: Duration,
    ) -> Result<(), LimiterError>;
    /// Undoes a fresh grant (one not replayed) granted at `granted_at`: its entries leave
    /// every cap's window, its budget reservation is given back, and the check-in's stored
    /// answer for the offer becomes a `checkin-id-reused` refusal. For a decision that could
    /// not be recorded as this report (its check-in id was taken by another one).
    async fn release(
        &self,
        req: &ClaimRequest,
        granted_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), LimiterError>;
    /// Read-only: for each ask, the personal cap (or cool-down) that would refuse a claim now,
    /// `None` where there is room. Records nothing, reads no budget; one round trip to the
    /// person's slot. Advisory (the nearby-fences list): only [`Limiter::claim`] decides.
    async fn peek(&self, person: &str, asks: &[Ask]) -> Result<Vec<Option<Cap>>, LimiterError>;
    /// Removes everything kept about a person (erasure); offer budgets are not personal and stay.
    async fn forget_person(&self, person: &str) -> Result<(), LimiterError>;
    /// Health probe for /readyz.
    async fn ping(&self) -> Result<(), LimiterError>;
    /// How long a claim's answer is replayed to a retry of the same (check-in, offer).
    fn idempotency_ttl(&self) -> Duration;
    /// "redis" or "in-process"
    fn kind(&self) -> &'static str;
}

/// One delivery to claim: who, what, where, and the caps and budget that apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    /// The check-in this delivery answers; the idempotency key (one grant per check-in).
    pub checkin_id: String,
    /// Opaque pseudonymous person token (`[0-9a-f]{32}`), already scoped.
    pub person: String,
    /// Brand owning the offer (person-brand cap, cool-downs).
    pub brand: String,
    /// Offer being delivered (person-offer cap, budget).
    pub offer_id: String,
    /// Geofence that triggered the offer (person-fence cap).
    pub fence_id: String,
    /// The person's caps that apply to this delivery.
    pub caps: Caps,
    /// The offer's budget.
    pub budget: Budget,
}

impl ClaimRequest {
    /// Checks that every id can safely become part of a key name and a log entry.
    pub fn validate(&self) -> Result<(), LimiterError> {
        validate_person(&self.person)?;
        validate_id("checkin_id", &self.checkin_id)?;
        validate_id("brand", &self.brand)?;
        validate_id("offer_id", &self.offer_id)?;
        validate_id("fence_id", &self.fence_id)
    }
}

/// One offer at one fence, as [`Limiter::peek`] asks about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// Brand owning the offer.
    pub brand: String,
    /// The offer.
    pub offer_id: String,
    /// The fence it would be triggered at.
    pub fence_id: String,
    /// The person's caps that would apply.
    pub caps: Caps,
}

impl Ask {
    /// Checks that every id can safely become part of a key name.
    pub fn validate(&self) -> Result<(), LimiterError> {
        validate_id("brand", &self.brand)?;
        validate_id("offer_id", &self.offer_id)?;
        validate_id("fence_id", &self.fence_id)
    }
}

/// Why the limiter could not answer; every variant means "deliver nothing".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimiterError {
    /// The store could not be asked in time (connection error, timeout): fail closed.
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
    /// The request carries an id the limiter cannot key on safely.
    #[error("invalid rate-limit request: {0}")]
    InvalidRequest(String),
    /// The limiter was configured with something unusable (URL, key prefix).
    #[error("invalid rate-limiter configuration: {0}")]
    InvalidConfig(String),
    /// The store answered something this version cannot read (a bug or a foreign script).
    #[error("rate limiter internal error: {0}")]
    Internal(String),
}

/// Person tokens become Redis hash tags, so braces (or anything beyond a token) would
/// split one person's keys across slots and break atomicity on a cluster.
pub(crate) fn validate_person(person: &str) -> Result<(), LimiterError> {
    let ok = !person.is_empty()
        && person.len() <= MAX_ID_LEN
        && person
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(LimiterError::InvalidRequest(
            "person must be 1-128 characters of [0-9A-Za-z_-]".into(),
        ))
    }
}

/// Ids are separated by spaces inside log entries and stored answers, so they may not
/// contain whitespace; control characters would make keys unreadable for operators.
pub(crate) fn validate_id(field: &str, id: &str) -> Result<(), LimiterError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && !id.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(LimiterError::InvalidRequest(format!(
            "{field} must be 1-{MAX_ID_LEN} bytes without whitespace or control characters"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_with_a_brace_is_refused_because_it_would_break_the_hash_tag() {
        assert!(validate_person("abc}def").is_err());
        assert!(validate_person("0123456789abcdef0123456789abcdef").is_ok());
    }

    #[test]
    fn ids_with_spaces_are_refused_because_they_would_break_log_entries() {
        assert!(validate_id("offer_id", "a b").is_err());
        assert!(validate_id("offer_id", "").is_err());
        assert!(validate_id("offer_id", "offer:42|x").is_ok());
    }
}
