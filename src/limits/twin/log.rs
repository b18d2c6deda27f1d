//! A sliding log of grants: the in-process twin of one Redis sorted set.

use std::collections::VecDeque;

use chrono::DateTime;

use crate::limits::{Cap, Denial, Holder, Window};

/// One grant that occupies a window.
#[derive(Debug, Clone)]
struct Entry {
    at_ms: i64,
    checkin: String,
    offer: String,
}

/// Grants ordered like a Redis sorted set (time, then "checkin offer"), so denials name
/// the same holder in both implementations.
#[derive(Debug, Default)]
pub(super) struct SlidingLog {
    entries: VecDeque<Entry>,
    /// When the newest entry stops mattering (the Redis key's TTL).
    expires_ms: i64,
}

impl SlidingLog {
    /// True once no entry can count any more (the Redis key would have expired).
    pub(super) fn is_expired(&self, now_ms: i64) -> bool {
        self.expires_ms <= now_ms
    }

    /// The refusal of `cap` if the window already holds `window.count` grants.
    pub(super) fn check(&self, window: Window, cap: Cap, now_ms: i64) -> Option<Denial> {
        let period_ms = window.period_ms();
        let period = (period_ms > 0).then_some(window.period);
        if window.count == 0 {
            return Some(denial(cap, 0, period, None, None));
        }
        if period_ms <= 0 || self.is_expired(now_ms) {
            return None;
        }
        let from = now_ms.saturating_sub(period_ms);
        let in_window: Vec<&Entry> = self.entries.iter().filter(|e| e.at_ms > from).collect();
        let count = usize::try_from(window.count).unwrap_or(usize::MAX);
        if in_window.len() < count {
            return None;
        }
        // The entry whose expiry frees a slot: the (n - count + 1)-th oldest in the window.
        let holder = in_window[in_window.len() - count];
        let at = DateTime::from_timestamp_millis(holder.at_ms)?;
        Some(denial(
            cap,
            u64::from(window.count),
            period,
            Some(Holder {
                offer_id: holder.offer.clone(),
                checkin_id: holder.checkin.clone(),
                at,
            }),
            DateTime::from_timestamp_millis(holder.at_ms.saturating_add(period_ms)),
        ))
    }

    /// Removes the entry a grant of `offer` to `checkin` added (a released grant).
    pub(super) fn remove(&mut self, checkin: &str, offer: &str) {
        self.entries
            .retain(|e| !(e.checkin == checkin && e.offer == offer));
    }

    /// Records a grant, trims what fell out of the window and renews the expiry.
    pub(super) fn record(&mut self, period_ms: i64, now_ms: i64, checkin: &str, offer: &str) {
        if period_ms <= 0 {
            return;
        }
        let entry = Entry {
            at_ms: now_ms,
            checkin: checkin.to_owned(),
            offer: offer.to_owned(),
        };
        let key = |e: &Entry| (e.at_ms, e.checkin.clone(), e.offer.clone());
        let position = self.entries.partition_point(|e| key(e) < key(&entry));
        self.entries.insert(position, entry);
        let from = now_ms.saturating_sub(period_ms);
        self.entries.retain(|e| e.at_ms > from);
        // Windows hold a few grants: an exact buffer instead of the default four slots.
        self.entries.shrink_to_fit();
        self.expires_ms = now_ms.saturating_add(period_ms);
    }
}

fn denial(
    cap: Cap,
    limit: u64,
    period: Option<std::time::Duration>,
    held_by: Option<Holder>,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> Denial {
    Denial {
        cap,
        limit,
        period,
        held_by,
        until,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_full_window_names_the_oldest_entry_that_must_leave() {
        let mut log = SlidingLog::default();
        let window = Window::new(2, Duration::from_millis(100));
        log.record(100, 10, "c1", "o1");
        log.record(100, 20, "c2", "o2");
        let denial = log.check(window, Cap::PersonDay, 50).unwrap();
        assert_eq!(denial.held_by.unwrap().checkin_id, "c1");
        assert_eq!(denial.until.unwrap().timestamp_millis(), 110);
        assert!(log.check(window, Cap::PersonDay, 110).is_none());
    }
}
