//! When a failed message is tried again: exponential backoff with full jitter (a random
//! delay between zero and 30 s × 2^n, capped at 6 h), for at most 24 h after the event.

use chrono::{DateTime, Duration, Utc};

/// The first backoff ceiling.
pub const BASE: Duration = Duration::seconds(30);
/// The largest backoff ceiling.
pub const CAP: Duration = Duration::hours(6);
/// After this long since the event, a failed message is given up (replay re-queues it).
pub const GIVE_UP_AFTER: Duration = Duration::hours(24);

/// The ceiling of the delay after the `attempts`-th failed attempt (1-based).
pub fn ceiling(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(20);
    let ms = BASE.num_milliseconds().saturating_mul(1i64 << exp);
    Duration::milliseconds(ms.min(CAP.num_milliseconds()))
}

/// The next attempt after the `attempts`-th failure at `now`, `jitter` in [0, 1) drawn by
/// the caller; `None` once the message is older than [`GIVE_UP_AFTER`].
pub fn next_attempt(
    created_at: DateTime<Utc>,
    attempts: i64,
    now: DateTime<Utc>,
    jitter: f64,
) -> Option<DateTime<Utc>> {
    if now - created_at >= GIVE_UP_AFTER {
        return None;
    }
    let ceiling = ceiling(attempts).num_milliseconds() as f64;
    // At least one second: a zero draw would retry in the same poll.
    let delay = (ceiling * jitter.clamp(0.0, 1.0)).max(1_000.0) as i64;
    Some(now + Duration::milliseconds(delay))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_thirty_seconds_up_to_six_hours() {
        assert_eq!(ceiling(1), Duration::seconds(30));
        assert_eq!(ceiling(2), Duration::seconds(60));
        assert_eq!(ceiling(5), Duration::seconds(480));
        assert_eq!(ceiling(12), CAP);
        assert_eq!(ceiling(1_000), CAP);
    }

    #[test]
    fn a_message_older_than_a_day_is_given_up() {
        let t0: DateTime<Utc> = "2026-07-14T19:00:00Z".parse().unwrap();
        let next = next_attempt(t0, 1, t0, 0.5).unwrap();
        assert_eq!(next - t0, Duration::seconds(15));
        assert!(next_attempt(t0, 30, t0 + GIVE_UP_AFTER, 0.5).is_none());
    }
}
