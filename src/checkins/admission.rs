//! How many check-ins (and consent changes) are handled at once; past that, they wait their
//! turn (bounded) before anything is read, claimed or marked.
//!
//! Every decision awaits Redis and the store a few times. Each actix worker is one thread
//! with one run queue, so with hundreds of decisions in flight on a worker an answer that
//! Redis gave in microseconds waited for the thread to come round to it: one turn of the
//! queue took 135 ms with 1,000 check-ins in flight on two workers (debug build), and the
//! 50 ms limiter budget, which is meant to catch a slow Redis, caught the queue instead.
//! A turn is a permit: decisions beyond `max_concurrent_checkins` wait for one (parked, not
//! in the run queue), and their wait is not charged to any dependency's budget. A check-in
//! that cannot get a turn within `checkin_queue_wait_ms` is answered 503 (overloaded, with
//! `Retry-After`) before any visit is counted or any cap claimed.
//!
//! Consent changes and erasures take turns from the same pool: each marks the person in
//! Redis first, and 1,000 of them at once made 588–619 of those marks miss the 50 ms budget
//! (503) on a healthy Redis, for the same reason.

use crate::error::ApiError;
use prometheus::{IntCounter, IntGauge};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Default for `max_concurrent_checkins`.
pub const DEFAULT_MAX_CONCURRENT: usize = 64;
/// Default for `checkin_queue_wait_ms`.
pub const DEFAULT_QUEUE_WAIT_MS: u64 = 5_000;

/// The turns of the check-in path.
pub struct Admission {
    turns: Semaphore,
    wait: Duration,
    waiting: IntGauge,
    refused: IntCounter,
}

impl Admission {
    /// `max` decisions at once (at least 1); a turn is waited for at most `wait`.
    pub fn new(max: usize, wait: Duration, metrics: &crate::metrics::Metrics) -> Self {
        let waiting = IntGauge::new(
            "checkins_waiting",
            "Check-ins and consent changes waiting for a turn",
        )
        .expect("valid metric");
        let refused = IntCounter::new(
            "checkins_overloaded_total",
            "Check-ins and consent changes answered 503 because no turn came within checkin_queue_wait_ms",
        )
        .expect("valid metric");
        metrics.register(Box::new(waiting.clone()));
        metrics.register(Box::new(refused.clone()));
        Self {
            turns: Semaphore::new(max.max(1)),
            wait,
            waiting,
            refused,
        }
    }

    /// Waits for a turn; the decision holds it until it has answered.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        if let Ok(turn) = self.turns.try_acquire() {
            return Ok(turn);
        }
        self.waiting.inc();
        let turn = tokio::time::timeout(self.wait, self.turns.acquire()).await;
        self.waiting.dec();
        match turn {
            Ok(Ok(turn)) => Ok(turn),
            _ => {
                self.refused.inc();
                Err(ApiError::Unavailable(
                    "overloaded: too many check-ins are waiting to be decided; retry later".into(),
                ))
            }
        }
    }
}
