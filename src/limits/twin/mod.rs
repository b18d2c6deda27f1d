//! The in-process twin: the same semantics as [`super::RedisLimiter`], within one process.
//!
//! For a single box without Redis (`GEOFFER_REDIS_URL` unset) and for tests. Its caps
//! hold only inside this process: two processes with a twin each would grant twice.

mod budget;
mod log;
mod person;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use self::budget::OfferBudget;
use self::person::{Person, Verdict};
use super::{
    Ask, Budget, Cap, ClaimOutcome, ClaimRequest, Limiter, LimiterError, TWIN_IDEMPOTENCY_TTL,
    validate_id, validate_person,
};
use crate::clock::Clock;

/// Time between two sweeps of expired state, so memory follows the live data. A sweep
/// walks every person under the lock, hence rarely rather than every N claims.
const SWEEP_EVERY_MS: i64 = 60_000;

/// Rate limiter kept in this process's memory.
pub struct InProcessLimiter {
    clock: Arc<dyn Clock>,
    // One std Mutex over everything: a claim must check and record a person's caps and
    // the offer's budget in one critical section (what the Redis script gets from running
    // atomically). Sections are microseconds long and never await, so one lock is simpler
    // than sharding and is not the bottleneck of a single box.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    people: HashMap<String, Person>,
    budgets: HashMap<String, OfferBudget>,
    last_sweep_ms: i64,
}

impl InProcessLimiter {
    /// A limiter that reads time from `clock` (`SystemClock` in production).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation leaves the state consistent before it can panic, so a poisoned
        // lock still guards valid data; refusing all claims forever would be worse.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for InProcessLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessLimiter").finish_non_exhaustive()
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl State {
    fn claim(&mut self, req: &ClaimRequest, now_ms: i64) -> ClaimOutcome {
        let ttl_ms = millis(TWIN_IDEMPOTENCY_TTL);
        if now_ms.saturating_sub(self.last_sweep_ms) >= SWEEP_EVERY_MS {
            self.sweep(now_ms, ttl_ms);
        }
        let person = self.people.entry(req.person.clone()).or_default();
        match person.check(req, now_ms, ttl_ms) {
            Verdict::Replay(outcome) => outcome,
            Verdict::Denied(denial) => ClaimOutcome::Denied(denial),
            Verdict::Open if req.budget.is_unlimited() => person.grant(req, now_ms, ttl_ms, None),
            Verdict::Open => {
                let budget = self.budgets.entry(req.offer_id.clone()).or_default();
                match budget.check(&req.checkin_id, req.budget, now_ms) {
                    // Same answer as Redis after its compensating release: the refusal is
                    // the check-in's answer for this offer and no personal cap counts it.
                    Some(denial) => {
                        let outcome = ClaimOutcome::Denied(denial);
                        person.answer(req, outcome.clone(), now_ms, ttl_ms);
                        outcome
                    }
                    None => {
                        let exhausted = budget.reserve(&req.checkin_id, req.budget, now_ms, ttl_ms);
                        person.grant(req, now_ms, ttl_ms, exhausted)
                    }
                }
            }
        }
    }

    fn sweep(&mut self, now_ms: i64, ttl_ms: i64) {
        self.last_sweep_ms = now_ms;
        self.people.retain(|_, person| !person.expire(now_ms));
        for budget in self.budgets.values_mut() {
            budget.forget_old(now_ms, ttl_ms);
        }
    }
}

#[async_trait::async_trait]
impl Limiter for InProcessLimiter {
    async fn claim(&self, req: &ClaimRequest) -> Result<ClaimOutcome, LimiterError> {
        req.validate()?;
        let now_ms = self.clock.now_ms();
        Ok(self.lock().claim(req, now_ms))
    }

    async fn cool_down(
        &self,
        person: &str,
        brand: &str,
        duration: Duration,
    ) -> Result<(), LimiterError> {
        validate_person(person)?;
        validate_id("brand", brand)?;
        let duration_ms = millis(duration);
        if duration_ms <= 0 {
            return Ok(());
        }
        let until_ms = self.clock.now_ms().saturating_add(duration_ms);
        let mut state = self.lock();
        let person = state.people.entry(person.to_owned()).or_default();
        person.cool_down(brand, until_ms);
        Ok(())
    }

    async fn release(
        &self,
        req: &ClaimRequest,
        granted_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), LimiterError> {
        req.validate()?;
        let mut state = self.lock();
        if let Some(person) = state.people.get_mut(&req.person) {
            person.release(req);
        }
        if let Some(budget) = state.budgets.get_mut(&req.offer_id) {
            budget.refund(&req.checkin_id, granted_at.timestamp_millis());
        }
        Ok(())
    }

    async fn peek(&self, person: &str, asks: &[Ask]) -> Result<Vec<Option<Cap>>, LimiterError> {
        validate_person(person)?;
        for ask in asks {
            ask.validate()?;
        }
        let now_ms = self.clock.now_ms();
        let state = self.lock();
        let Some(p) = state.people.get(person) else {
            return Ok(vec![None; asks.len()]);
        };
        Ok(asks
            .iter()
            .map(|ask| {
                // The caps read only who, what and where; nothing is recorded.
                let req = ClaimRequest {
                    checkin_id: String::new(),
                    person: person.to_owned(),
                    brand: ask.brand.clone(),
                    offer_id: ask.offer_id.clone(),
                    fence_id: ask.fence_id.clone(),
                    caps: ask.caps,
                    budget: Budget::default(),
                };
                p.check_caps(&req, now_ms).map(|d| d.cap)
            })
            .collect())
    }

    async fn forget_person(&self, person: &str) -> Result<(), LimiterError> {
        validate_person(person)?;
        self.lock().people.remove(person);
        Ok(())
    }

    async fn ping(&self) -> Result<(), LimiterError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }

    fn idempotency_ttl(&self) -> Duration {
        TWIN_IDEMPOTENCY_TTL
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::limits::{Budget, Caps, Window};

    #[tokio::test]
    async fn people_whose_state_expired_are_swept_from_memory() {
        let start = chrono::DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let limiter = InProcessLimiter::new(clock.clone());
        let hour = Window::per_hours(1, 1);
        for n in 0..100 {
            let req = ClaimRequest {
                checkin_id: format!("ck-{n}"),
                person: format!("p{n}"),
                brand: "b".into(),
                offer_id: "o".into(),
                fence_id: "f".into(),
                caps: Caps {
                    person_day: hour,
                    person_week: hour,
                    person_brand: hour,
                    person_offer: hour,
                    person_fence: hour,
                },
                budget: Budget::default(),
            };
            limiter.claim(&req).await.unwrap();
        }
        assert_eq!(limiter.lock().people.len(), 100);
        // Past every window and the idempotency TTL, the next claim's sweep drops them.
        clock.advance(TWIN_IDEMPOTENCY_TTL + Duration::from_secs(3600));
        let mut last = ClaimRequest {
            checkin_id: "ck-last".into(),
            person: "someone".into(),
            brand: "b".into(),
            offer_id: "o".into(),
            fence_id: "f".into(),
            caps: Caps::default(),
            budget: Budget::default(),
        };
        last.caps.person_offer = hour;
        limiter.claim(&last).await.unwrap();
        assert_eq!(limiter.lock().people.len(), 1);
    }
}
