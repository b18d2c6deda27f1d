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
    ClaimOutcome, ClaimRequest, Clock, IDEMPOTENCY_TTL, Limiter, LimiterError, validate_id,
    validate_person,
};

/// Claims between two sweeps of expired state, so memory follows the live data.
const SWEEP_EVERY: u32 = 4096;

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
    claims_since_sweep: u32,
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
        let ttl_ms = millis(IDEMPOTENCY_TTL);
        self.claims_since_sweep += 1;
        if self.claims_since_sweep >= SWEEP_EVERY {
            self.sweep(now_ms, ttl_ms);
        }
        let person = self.people.entry(req.person.clone()).or_default();
        match person.check(req, now_ms, ttl_ms) {
            Verdict::Replay(outcome) => outcome,
            Verdict::Denied(denial) => ClaimOutcome::Denied(denial),
            Verdict::Open if req.budget.is_unlimited() => person.grant(req, now_ms, ttl_ms),
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
                        budget.reserve(&req.checkin_id, now_ms, ttl_ms);
                        person.grant(req, now_ms, ttl_ms)
                    }
                }
            }
        }
    }

    fn sweep(&mut self, now_ms: i64, ttl_ms: i64) {
        self.claims_since_sweep = 0;
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
}
