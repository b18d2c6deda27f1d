//! Small formatting helpers for explanations: durations, cap periods and local times, written
//! the way support staff would say them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// `45 s`, `14 min`, `2 h 5 min`, `3 days`.
pub(super) fn age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..172_800 => match (s / 3_600, (s % 3_600) / 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
        _ => format!("{} days", s / 86_400),
    }
}

/// `1 per 24 h`, `3 per 7 days`, `1 ever` (a window of ten years or more is "ever").
pub(super) fn per(limit: u64, period_ms: Option<u64>) -> String {
    const HOUR: u64 = 3_600_000;
    const DAY: u64 = 24 * HOUR;
    match period_ms {
        None => format!("{limit}"),
        Some(ms) if ms >= 3_650 * DAY => format!("{limit} ever"),
        Some(ms) if ms >= 2 * DAY && ms % DAY == 0 => format!("{limit} per {} days", ms / DAY),
        Some(ms) if ms % HOUR == 0 => format!("{limit} per {} h", ms / HOUR),
        Some(ms) => format!("{limit} per {} min", ms / 60_000),
    }
}

/// A time in the fence's zone: `15:00` on the decision's local day, else `2026-07-13 15:00`.
/// Without a zone it is UTC and says so.
pub(super) fn local(at: DateTime<Utc>, tz: Option<Tz>, day_of: Option<DateTime<Utc>>) -> String {
    let Some(tz) = tz else {
        return format!("{} UTC", at.format("%Y-%m-%d %H:%M"));
    };
    let here = at.with_timezone(&tz);
    let same_day = day_of.is_some_and(|d| d.with_timezone(&tz).date_naive() == here.date_naive());
    if same_day {
        here.format("%H:%M").to_string()
    } else {
        here.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Typographic quotes around copy and names, so they stand out in a sentence.
pub(super) fn quoted(s: &str) -> String {
    format!("“{s}”")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_speech() {
        assert_eq!(age(45), "45 s");
        assert_eq!(age(14 * 60 + 5), "14 min");
        assert_eq!(age(2 * 3_600 + 300), "2 h 5 min");
        assert_eq!(age(3 * 86_400), "3 days");
    }

    #[test]
    fn cap_periods_read_like_speech() {
        assert_eq!(per(1, Some(86_400_000)), "1 per 24 h");
        assert_eq!(per(3, Some(7 * 86_400_000)), "3 per 7 days");
        assert_eq!(per(1, Some(3_650 * 86_400_000)), "1 ever");
        assert_eq!(per(500, None), "500");
    }

    #[test]
    fn a_time_on_another_local_day_carries_its_date() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let at: DateTime<Utc> = "2026-07-14T13:12:00Z".parse().unwrap();
        let same: DateTime<Utc> = "2026-07-14T19:00:00Z".parse().unwrap();
        let next: DateTime<Utc> = "2026-07-15T19:00:00Z".parse().unwrap();
        assert_eq!(local(at, Some(tz), Some(same)), "09:12");
        assert_eq!(local(at, Some(tz), Some(next)), "2026-07-14 09:12");
        assert_eq!(local(at, None, None), "2026-07-14 13:12 UTC");
    }
}
