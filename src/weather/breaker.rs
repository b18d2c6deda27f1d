//! Circuit breaker for the upstream weather API.
//!
//! When the upstream is down, every decision would otherwise spend its whole
//! budget waiting and every cell miss would add load to a struggling service.
//! After `threshold` consecutive failed upstream calls the breaker opens: calls
//! answer "circuit-open" at once with no network. While it is open, one probe
//! call is let through every `probe_interval` (half-open): its success closes
//! the breaker, its failure keeps it open until the next probe. Concurrent
//! callers never probe together: only the caller that turns the state
//! half-open calls the upstream.
//!
//! A short interval (default 1 s) is what makes recovery visible within a
//! couple of seconds; it costs a down upstream one request per interval.
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
    /// Calls are rejected without network until the next probe is due.
    Open,
    /// One probe call is in flight; others are rejected until it reports.
    HalfOpen,
}

/// What the breaker allows for a new upstream call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Closed: go ahead.
    Allowed,
    /// A probe is due: go ahead as the single half-open probe.
    Probe,
    /// Open (or a probe is already out): do not call the upstream.
    Rejected,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Closed { failures: u32 },
    Open { next_probe: Instant },
    HalfOpen,
}

/// Consecutive-failure circuit breaker; not thread-safe by itself (the
/// provider keeps it under a mutex that is never held across an await).
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    probe_interval: Duration,
    state: State,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` (at least 1) consecutive
    /// failures and then lets one probe through every `probe_interval`.
    pub(crate) fn new(threshold: u32, probe_interval: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            probe_interval,
            state: State::Closed { failures: 0 },
        }
    }

    /// Decides whether a new upstream call may start at `now`.
    pub(crate) fn admit(&mut self, now: Instant) -> Admission {
        match self.state {
            State::Closed { .. } => Admission::Allowed,
            State::Open { next_probe } if now >= next_probe => {
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
    /// a closed breaker (so the caller can count and log the transition once;
    /// a failed probe keeps it open and is not a new opening).
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
                false
            }
            // Late failures of calls started before opening must not delay
            // the next probe, or a burst of slow calls would keep it open.
            State::Open { .. } => false,
        }
    }

    /// The current state as seen from outside (a due probe still reads
    /// `Open` until the next call turns it into a probe).
    pub(crate) fn state(&self) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen => BreakerState::HalfOpen,
        }
    }

    fn open(&mut self, now: Instant) {
        self.state = State::Open {
            next_probe: now + self.probe_interval,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBE_EVERY: Duration = Duration::from_secs(1);

    #[test]
    fn opens_after_the_threshold_of_consecutive_failures() {
        let now = Instant::now();
        let mut b = Breaker::new(3, PROBE_EVERY);
        assert!(!b.on_failure(now));
        assert!(!b.on_failure(now));
        assert_eq!(b.admit(now), Admission::Allowed);
        assert!(b.on_failure(now));
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(
            b.admit(now + Duration::from_millis(999)),
            Admission::Rejected
        );
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let now = Instant::now();
        let mut b = Breaker::new(2, PROBE_EVERY);
        b.on_failure(now);
        b.on_success();
        assert!(!b.on_failure(now));
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn once_a_probe_is_due_exactly_one_caller_probes() {
        let now = Instant::now();
        let mut b = Breaker::new(1, PROBE_EVERY);
        b.on_failure(now);
        let later = now + PROBE_EVERY;
        assert_eq!(b.admit(later), Admission::Probe);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.admit(later), Admission::Rejected);
        b.on_success();
        assert_eq!(b.admit(later), Admission::Allowed);
    }

    #[test]
    fn a_failed_probe_keeps_it_open_until_the_next_probe_is_due() {
        let now = Instant::now();
        let mut b = Breaker::new(1, PROBE_EVERY);
        b.on_failure(now);
        let later = now + PROBE_EVERY;
        assert_eq!(b.admit(later), Admission::Probe);
        assert!(!b.on_failure(later), "still open, not a new opening");
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(
            b.admit(later + Duration::from_millis(999)),
            Admission::Rejected
        );
        assert_eq!(b.admit(later + PROBE_EVERY), Admission::Probe);
    }

    #[test]
    fn late_failures_while_open_do_not_delay_the_next_probe() {
        let now = Instant::now();
        let mut b = Breaker::new(1, PROBE_EVERY);
        b.on_failure(now);
        assert!(!b.on_failure(now + Duration::from_millis(900)));
        assert_eq!(b.admit(now + PROBE_EVERY), Admission::Probe);
    }
}
