//! Time source for cache expiry and breaker probes.
//!
//! Expiry and probe intervals read time through [`Clock`] so tests can jump 15 minutes
//! without sleeping. `tokio::time::pause()` alone is not enough for tests that
//! talk to a local HTTP server: a paused runtime auto-advances while it waits
//! for socket I/O, which would fire the per-call budget spuriously.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A monotonic time source.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// Production clock: tokio's monotonic time (which also honours
/// `tokio::time::pause()` in tests that need no sockets).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Clock that only moves when told to, for deterministic tests of TTLs and
/// probe intervals.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock frozen at the current instant.
    pub fn new() -> Self {
        ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_secs(900));
        assert_eq!(clock.now() - t0, Duration::from_secs(900));
    }
}
