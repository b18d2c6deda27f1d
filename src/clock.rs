//! The one source of time. Decisions, caps, audit entries, ids' timestamps, cache expiry and
//! breaker probes all read it, so a test can move time instead of sleeping.
//!
//! Two readings of the same clock: [`Clock::now`] is the wall time (what is recorded and
//! compared with reports' `recorded_at`), [`Clock::instant`] the monotonic time that
//! timeouts, cache expiry and probe intervals are measured in. A [`ManualClock`] moves both
//! together. `tokio::time::pause()` alone would not do for tests that talk to a local HTTP
//! server: a paused runtime auto-advances while it waits for socket I/O.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// A source of time.
pub trait Clock: Send + Sync + 'static {
    /// The wall time.
    fn now(&self) -> DateTime<Utc>;

    /// The wall time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// The monotonic time, for intervals (never goes back).
    fn instant(&self) -> Instant;
}

/// The real time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    // A plain Mutex: held for a copy only, never across an await.
    state: Mutex<Manual>,
}

#[derive(Debug, Clone, Copy)]
struct Manual {
    wall: DateTime<Utc>,
    mono: Instant,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            state: Mutex::new(Manual {
                wall: start,
                mono: Instant::now(),
            }),
        }
    }

    /// A clock starting at the real time of its creation.
    pub fn starting_now() -> Self {
        Self::new(Utc::now())
    }

    /// Moves both readings forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut s = self.lock();
        let wall = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        s.wall = s.wall.checked_add_signed(wall).unwrap_or(s.wall);
        s.mono = s.mono.checked_add(by).unwrap_or(s.mono);
    }

    /// Sets the wall time; the monotonic reading moves forward by as much (never back).
    pub fn set(&self, to: DateTime<Utc>) {
        let mut s = self.lock();
        if let Ok(forward) = (to - s.wall).to_std() {
            s.mono = s.mono.checked_add(forward).unwrap_or(s.mono);
        }
        s.wall = to;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Manual> {
        // A poisoned lock still holds a valid instant; keep going rather than panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::starting_now()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.lock().wall
    }

    fn instant(&self) -> Instant {
        self.lock().mono
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let start = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let clock = ManualClock::new(start);
        let t0 = clock.instant();
        assert_eq!(clock.now(), start);
        assert_eq!(clock.instant(), t0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now_ms(), 1_700_000_001_500);
        assert_eq!(clock.instant() - t0, Duration::from_millis(1500));
    }

    #[test]
    fn setting_the_wall_time_back_never_moves_the_monotonic_reading_back() {
        let start = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let clock = ManualClock::new(start);
        let t0 = clock.instant();
        clock.set(start + chrono::Duration::seconds(10));
        assert_eq!(clock.instant() - t0, Duration::from_secs(10));
        clock.set(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.instant() - t0, Duration::from_secs(10));
    }
}
