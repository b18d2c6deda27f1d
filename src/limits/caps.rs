//! The caps a delivery must fit in, and the offer's budget.

use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// At most `count` deliveries in any rolling `period` (exact sliding window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Deliveries allowed inside the window; 0 allows none.
    pub count: u32,
    /// Length of the rolling window; zero means the cap never binds.
    pub period: Duration,
}

impl Window {
    /// A window of `count` deliveries per `period`.
    pub const fn new(count: u32, period: Duration) -> Self {
        Self { count, period }
    }

    /// `count` deliveries per rolling `hours` hours.
    pub const fn per_hours(count: u32, hours: u64) -> Self {
        Self::new(count, Duration::from_secs(hours * HOUR.as_secs()))
    }

    /// `count` deliveries per rolling `days` days.
    pub const fn per_days(count: u32, days: u64) -> Self {
        Self::new(count, Duration::from_secs(days * DAY.as_secs()))
    }

    /// "Once ever", modelled as one per ten years so every key still gets a TTL.
    pub const fn once_ever() -> Self {
        Self::per_days(1, 3650)
    }

    /// The period in whole milliseconds, the unit both stores keep time in.
    pub(crate) fn period_ms(&self) -> i64 {
        i64::try_from(self.period.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Every cap that applies to one delivery to one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Caps {
    /// All brands together; default 1 per rolling 24 h.
    pub person_day: Window,
    /// All brands together; default 3 per rolling 7 days.
    pub person_week: Window,
    /// Per brand; default 1 per rolling 7 days.
    pub person_brand: Window,
    /// Per offer (the offer's `caps.per_person`); default once ever.
    pub person_offer: Window,
    /// Per geofence: no second offer triggered at the same fence within 24 h.
    pub person_fence: Window,
}

impl Default for Caps {
    /// The deployment defaults from the product brief.
    fn default() -> Self {
        Self {
            person_day: Window::per_hours(1, 24),
            person_week: Window::per_days(3, 7),
            person_brand: Window::per_days(1, 7),
            person_offer: Window::once_ever(),
            person_fence: Window::per_hours(1, 24),
        }
    }
}

/// An offer's budget: deliveries allowed in total and per UTC day (`None`: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Budget {
    /// Deliveries allowed over the offer's life.
    pub total: Option<u64>,
    /// Deliveries allowed per UTC calendar day.
    pub daily: Option<u64>,
}

impl Budget {
    /// No budget at all: the claim skips the budget step (and its round trip).
    pub fn is_unlimited(&self) -> bool {
        self.total.is_none() && self.daily.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_deployment_caps() {
        let caps = Caps::default();
        assert_eq!(caps.person_day, Window::new(1, DAY));
        assert_eq!(caps.person_week, Window::new(3, 7 * DAY));
        assert_eq!(caps.person_brand, Window::new(1, 7 * DAY));
        assert_eq!(caps.person_offer.count, 1);
        assert_eq!(caps.person_offer.period, 3650 * DAY);
        assert_eq!(caps.person_fence, Window::new(1, DAY));
    }
}
