//! Circuit breaker for the upstream weather API.
//!
//! When the upstream is down, every decision would otherwise spend its whole
//! budget waiting and every cell miss would add load to a struggling service.
//! After `threshold` consecutive failed upstream calls the breaker opens: calls
//! answer "circuit-open" at once with no network. After the cool-off one probe
//! call is let through (half-open); its success closes the breaker, its
//! failure opens it for another cool-off.
//!
//! Only upstream outcomes count (status, transport, body, the upstream's own
//! hard timeout); a caller giving up on its budget does not, because the call
//! keeps running and reports its real outcome later.

use std::time::Duration;
use tokio::time::Instant;

/// Observable breaker state, for stats and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakerState {
    /// Calls flow normally.
    #[default]
    Closed,
    /// Calls are rejected without network until the cool-off ends.
    Open,
    /// One probe call is in flight; others are rejected until it reports.
    HalfOpen,
}

/// What the breaker allows for a new upstream call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Closed: go ahead.
    Allowed,
    /// Cool-off over: go ahead as the single half-open probe.
    Probe,
    /// Open (or a probe is already out): do not call the upstream.
    Rejected,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

/// Consecutive-failure circuit breaker; not thread-safe by itself (the
/// provider keeps it under a mutex that is never held across an await).
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cool_off: Duration,
    state: State,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` (at least 1) consecutive
    /// failures and stays open for `cool_off`.
    pub(crate) fn new(threshold: u32, cool_off: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            cool_off,
            state: State::Closed { failures: 0 },
        }
    }

    /// Decides whether a new upstream call may start at `now`.
    pub(crate) fn admit(&mut self, now: Instant) -> Admission {
        match self.state {
            State::Closed { .. } => Admission::Allowed,
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen;
                Admission::Probe
            }
            State::Open { .. } | State::HalfOpen => Admission::Rejected,
        }
    }

    /// Records a successful upstream call: any success proves the upstream
    /// healthy, so the breaker closes whatever its state.
    pub(crate) fn on_success(&mut self) {
        self.state = State::Closed { failures: 0 };
    }

    /// Records a failed upstream call; returns true when this failure opened
    /// the breaker (so the caller can count and log the transition once).
    pub(crate) fn on_failure(&mut self, now: Instant) -> bool {
        match self.state {
            State::Closed { failures } if failures + 1 >= self.threshold => {
                self.open(now);
                true
            }
            State::Closed { failures } => {
                self.state = State::Closed {
                    failures: failures + 1,
                };
                false
            }
            State::HalfOpen => {
                self.open(now);
                true
            }
            // Late failures of calls started before opening must not extend
            // the cool-off, or a burst of slow calls would keep it open.
            State::Open { .. } => false,
        }
    }

    /// The current state as seen from outside (an elapsed cool-off still
    /// reads `Open` until the next call turns it into a probe).
    pub(crate) fn state(&self) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen => BreakerState::HalfOpen,
        }
    }

    fn open(&mut self, now: Instant) {
        self.state = State::Open {
            until: now + self.cool_off,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL_OFF: Duration = Duration::from_secs(30);

    #[test]
    fn opens_after_the_threshold_of_consecutive_failures() {
        let now = Instant::now();
        let mut b = Breaker::new(3, COOL_OFF);
        assert!(!b.on_failure(now));
        assert!(!b.on_failure(now));
        assert_eq!(b.admit(now), Admission::Allowed);
        assert!(b.on_failure(now));
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.admit(now + Duration::from_secs(29)), Admission::Rejected);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let now = Instant::now();
        let mut b = Breaker::new(2, COOL_OFF);
        b.on_failure(now);
        b.on_success();
        assert!(!b.on_failure(now));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn after_cool_off_exactly_one_probe_is_let_through() {
        let now = Instant::now();
        let mut b = Breaker::new(1, COOL_OFF);
        b.on_failure(now);
        let later = now + COOL_OFF;
        assert_eq!(b.admit(later), Admission::Probe);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.admit(later), Admission::Rejected);
        b.on_success();
        assert_eq!(b.admit(later), Admission::Allowed);
    }

    #[test]
    fn a_failed_probe_reopens_for_another_cool_off() {
        let now = Instant::now();
        let mut b = Breaker::new(1, COOL_OFF);
        b.on_failure(now);
        let later = now + COOL_OFF;
        assert_eq!(b.admit(later), Admission::Probe);
        assert!(b.on_failure(later));
        assert_eq!(
            b.admit(later + Duration::from_secs(29)),
            Admission::Rejected
        );
        assert_eq!(b.admit(later + COOL_OFF), Admission::Probe);
    }

    #[test]
    fn late_failures_while_open_do_not_extend_the_cool_off() {
        let now = Instant::now();
        let mut b = Breaker::new(1, COOL_OFF);
        b.on_failure(now);
        assert!(!b.on_failure(now + Duration::from_secs(20)));
        assert_eq!(b.admit(now + COOL_OFF), Admission::Probe);
    }
}
