//! An offer's budget: the in-process twin of budget.lua.

use std::collections::HashMap;
use std::time::Duration;

use chrono::DateTime;

use crate::limits::{Budget, BudgetWindow, Cap, Denial};

const DAY_MS: i64 = 86_400_000;

/// Deliveries counted against one offer's budget.
#[derive(Debug, Default)]
pub(super) struct OfferBudget {
    total: u64,
    day: i64,
    day_count: u64,
    /// Check-in -> when it reserved and the window it used up; retries must not spend
    /// twice, and hear again what their reservation exhausted.
    reservations: HashMap<String, (i64, Option<BudgetWindow>)>,
}

impl OfferBudget {
    /// The refusal, if the budget cannot take one more delivery now.
    pub(super) fn check(&self, checkin: &str, budget: Budget, now_ms: i64) -> Option<Denial> {
        if self.reservations.contains_key(checkin) {
            return None;
        }
        let today = now_ms.div_euclid(DAY_MS);
        if let Some(limit) = budget.total.filter(|limit| self.total >= *limit) {
            return Some(Denial {
                cap: Cap::BudgetTotal,
                limit,
                period: None,
                held_by: None,
                until: None,
            });
        }
        let day_count = if self.day == today { self.day_count } else { 0 };
        if let Some(limit) = budget.daily.filter(|limit| day_count >= *limit) {
            return Some(Denial {
                cap: Cap::BudgetDaily,
                limit,
                period: Some(Duration::from_millis(DAY_MS as u64)),
                held_by: None,
                until: DateTime::from_timestamp_millis((today + 1) * DAY_MS),
            });
        }
        None
    }

    /// Counts one delivery (after [`OfferBudget::check`] passed), once per check-in; the
    /// budget window this delivery used up, if it took the last one (the total first: it
    /// never comes back), as budget.lua answers `OK total` / `OK daily`.
    pub(super) fn reserve(
        &mut self,
        checkin: &str,
        budget: Budget,
        now_ms: i64,
        keep_ms: i64,
    ) -> Option<BudgetWindow> {
        if let Some((_, exhausted)) = self.reservations.get(checkin) {
            return *exhausted;
        }
        let today = now_ms.div_euclid(DAY_MS);
        if self.day != today {
            self.day = today;
            self.day_count = 0;
        }
        self.total += 1;
        self.day_count += 1;
        let exhausted = if budget.total == Some(self.total) {
            Some(BudgetWindow::Total)
        } else if budget.daily == Some(self.day_count) {
            Some(BudgetWindow::Daily)
        } else {
            None
        };
        self.reservations
            .insert(checkin.to_owned(), (now_ms, exhausted));
        self.forget_old(now_ms, keep_ms);
        exhausted
    }

    /// Gives back the delivery `checkin` reserved at `granted_ms` (a released grant); a
    /// check-in with no reservation gives back nothing.
    pub(super) fn refund(&mut self, checkin: &str, granted_ms: i64) {
        if self.reservations.remove(checkin).is_none() {
            return;
        }
        self.total = self.total.saturating_sub(1);
        if self.day == granted_ms.div_euclid(DAY_MS) {
            self.day_count = self.day_count.saturating_sub(1);
        }
    }

    /// Drops reservations older than any retry (the counters stay: they are the budget).
    pub(super) fn forget_old(&mut self, now_ms: i64, keep_ms: i64) {
        let from = now_ms.saturating_sub(keep_ms);
        self.reservations.retain(|_, (at, _)| *at > from);
    }
}
