//! An offer's results: totals against the holdout, the lift in words, and the days of a
//! period (brand for its own offers, admin, support). Not a read of any one person's data,
//! so it is not in the read log.

use super::{SupportService, bad};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::offers::results::{OfferResults, Period, results};
use crate::services::{grant, id_path};
use chrono::{Duration, NaiveDate};

/// Days a period may span at most (a leap year).
pub const MAX_DAYS: i64 = 366;

/// Days a period spans when `from` is not given: `to` and the 29 days before it.
pub const DEFAULT_DAYS: i64 = 30;

/// The period asked for: both days included, UTC; either may be left out.
#[derive(Debug, Clone, Copy, Default)]
pub struct DaysAsk {
    /// The first day (default: `DEFAULT_DAYS` days up to `to`).
    pub from: Option<NaiveDate>,
    /// The last day (default: today, UTC).
    pub to: Option<NaiveDate>,
}

impl SupportService {
    /// An offer's deliveries, opens, dismissals, redemptions and conversions against the
    /// holdout, with lift and what it means in words, and the same counts per day of the
    /// period `days` (brand for its own offers, admin, support).
    pub async fn results(
        &self,
        who: &Principal,
        raw: &str,
        id: &str,
        days: DaysAsk,
    ) -> Result<OfferResults, ApiError> {
        let brand = grant(self.store.as_ref(), who, raw, false).await?;
        let id = id_path(id, "offer")?;
        let period = self.period(days)?;
        self.store
            .get_offer(brand.id(), id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("offer `{id}` not found")))?;
        let window = Duration::days(self.attribution_days);
        let counts = self.store.offer_results(id, window).await?;
        let start = period.from.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = start + Duration::days((period.to - period.from).num_days() + 1);
        let daily = self.store.offer_daily(id, start, end, window).await?;
        Ok(results(id, self.attribution_days, counts, period, &daily))
    }

    /// The period asked for, with its defaults, or a 400 naming the parameter.
    fn period(&self, days: DaysAsk) -> Result<Period, ApiError> {
        // Days are counted from 1970 to 9999: the times the store keeps, written as dates.
        let first = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
        for (name, day) in [("from", days.from), ("to", days.to)] {
            if let Some(d) = day.filter(|d| *d < first || *d > last) {
                return Err(bad(
                    name,
                    format!("`{d}` is not a day from 1970-01-01 to 9999-12-31"),
                ));
            }
        }
        let to = days.to.unwrap_or_else(|| self.now().date_naive());
        let from = days
            .from
            .unwrap_or_else(|| (to - Duration::days(DEFAULT_DAYS - 1)).max(first));
        if from > to {
            return Err(bad("to", "`to` must not be before `from`".into()));
        }
        let span = (to - from).num_days() + 1;
        if span > MAX_DAYS {
            return Err(bad(
                "from",
                format!("the period is {span} days; it may span at most {MAX_DAYS} days"),
            ));
        }
        Ok(Period {
            from,
            to,
            time_zone: "UTC".into(),
        })
    }
}
