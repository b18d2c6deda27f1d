//! An offer's results: what the treated group did, what the holdout (control) did, and the
//! lift between them with a 95% confidence interval (two-proportion, normal approximation);
//! the same counts day by day over a period, and the lift told in one sentence
//! ([`super::summary`]).

use super::summary::{Verdict, summarize};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

/// Raw counts behind an offer's results.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResultCounts {
    /// Deliveries (treated group).
    pub deliveries: u64,
    /// Opened.
    pub opened: u64,
    /// Dismissed.
    pub dismissed: u64,
    /// Redeemed.
    pub redeemed: u64,
    /// Deliveries followed by a redemption or a purchase at the brand within the window.
    pub conversions: u64,
    /// People held out (control group).
    pub holdout: u64,
    /// Held-out people who bought at the brand within the window.
    pub holdout_conversions: u64,
}

/// The treated group: people who were sent the offer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Treated {
    /// Deliveries.
    pub deliveries: u64,
    /// Opened.
    pub opens: u64,
    /// Dismissed.
    pub dismissals: u64,
    /// Redeemed.
    pub redemptions: u64,
    /// Redeemed, or bought at the brand within the attribution window.
    pub conversions: u64,
    /// conversions / deliveries.
    pub conversion_rate: Option<f64>,
}

/// The control group: people held out who would have received it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Control {
    /// People held out.
    pub held_out: u64,
    /// Of them, bought at the brand within the window after the held-out decision.
    pub conversions: u64,
    /// conversions / held_out.
    pub conversion_rate: Option<f64>,
}

/// Treated minus control.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Lift {
    /// Difference of conversion rates (percentage points / 100).
    pub absolute: f64,
    /// 95% interval of the absolute lift.
    pub absolute_ci95: [f64; 2],
    /// Absolute lift / control rate (absent when the control rate is 0).
    pub relative: Option<f64>,
    /// The absolute interval divided by the control rate.
    pub relative_ci95: Option<[f64; 2]>,
}

/// One day of an offer's life: what happened on it (UTC day), each counted on the day it
/// happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct DayResults {
    /// The day (UTC), `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// Offers delivered that day.
    pub deliveries: u64,
    /// Deliveries opened that day.
    pub opens: u64,
    /// Deliveries dismissed that day.
    pub dismissals: u64,
    /// Deliveries redeemed that day.
    pub redemptions: u64,
    /// Deliveries that converted that day: the earlier of their redemption and the first
    /// purchase at the brand within the attribution window after the delivery.
    pub conversions: u64,
}

impl DayResults {
    /// A day with nothing on it.
    pub fn empty(date: NaiveDate) -> Self {
        Self {
            date,
            ..Default::default()
        }
    }
}

/// The days `daily` covers: `from` to `to`, both included, as UTC days.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Period {
    /// The first day.
    pub from: NaiveDate,
    /// The last day (included).
    pub to: NaiveDate,
    /// The time zone the days are counted in: always `UTC`.
    #[schema(example = "UTC")]
    pub time_zone: String,
}

/// Everything `GET …/offers/{id}/results` answers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OfferResults {
    /// The offer.
    pub offer_id: uuid::Uuid,
    /// Attribution window in days.
    pub attribution_window_days: i64,
    /// Treated group (over the offer's whole life).
    pub treated: Treated,
    /// Control group (over the offer's whole life).
    pub control: Control,
    /// Lift, when both groups have people.
    pub lift: Option<Lift>,
    /// What the lift means, in one sentence for a marketer.
    pub summary: String,
    /// The sentence's conclusion, for a program.
    pub verdict: Verdict,
    /// The days `daily` covers.
    pub period: Period,
    /// One entry per day of `period`, oldest first, days without activity included (zeros).
    pub daily: Vec<DayResults>,
}

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

fn rate(k: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| k as f64 / n as f64)
}

/// Every day of `period`, oldest first: the counted days as they are, the others zeros.
pub fn every_day(period: &Period, counted: &[DayResults]) -> Vec<DayResults> {
    period
        .from
        .iter_days()
        .take_while(|d| *d <= period.to)
        .map(|d| {
            counted
                .iter()
                .find(|c| c.date == d)
                .copied()
                .unwrap_or_else(|| DayResults::empty(d))
        })
        .collect()
}

/// Builds the results from raw counts and the counted days of `period`.
pub fn results(
    offer_id: uuid::Uuid,
    window_days: i64,
    c: ResultCounts,
    period: Period,
    counted: &[DayResults],
) -> OfferResults {
    let pt = rate(c.conversions, c.deliveries);
    let pc = rate(c.holdout_conversions, c.holdout);
    let lift = pt.zip(pc).map(|(pt, pc)| {
        let diff = pt - pc;
        let se =
            (pt * (1.0 - pt) / c.deliveries as f64 + pc * (1.0 - pc) / c.holdout as f64).sqrt();
        let ci = [diff - Z95 * se, diff + Z95 * se];
        Lift {
            absolute: diff,
            absolute_ci95: ci,
            relative: (pc > 0.0).then(|| diff / pc),
            relative_ci95: (pc > 0.0).then(|| [ci[0] / pc, ci[1] / pc]),
        }
    });
    let (verdict, summary) = summarize(&c, lift.as_ref(), window_days);
    OfferResults {
        offer_id,
        attribution_window_days: window_days,
        summary,
        verdict,
        daily: every_day(&period, counted),
        period,
        treated: Treated {
            deliveries: c.deliveries,
            opens: c.opened,
            dismissals: c.dismissed,
            redemptions: c.redeemed,
            conversions: c.conversions,
            conversion_rate: pt,
        },
        control: Control {
            held_out: c.holdout,
            conversions: c.holdout_conversions,
            conversion_rate: pc,
        },
        lift,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 7, d).unwrap()
    }

    fn july() -> Period {
        Period {
            from: day(1),
            to: day(3),
            time_zone: "UTC".into(),
        }
    }

    #[test]
    fn every_day_of_the_period_is_listed_with_zeros_between_the_counted_ones() {
        let counted = [DayResults {
            deliveries: 4,
            opens: 2,
            ..DayResults::empty(day(2))
        }];
        let days = every_day(&july(), &counted);
        assert_eq!(
            days,
            [
                DayResults::empty(day(1)),
                counted[0],
                DayResults::empty(day(3))
            ]
        );
    }

    #[test]
    fn lift_matches_a_hand_computation() {
        // 30/100 treated vs 10/100 control: diff 0.2, se = sqrt(.3*.7/100 + .1*.9/100) = sqrt(.003)
        let c = ResultCounts {
            deliveries: 100,
            conversions: 30,
            holdout: 100,
            holdout_conversions: 10,
            ..Default::default()
        };
        let r = results(uuid::Uuid::nil(), 7, c, july(), &[]);
        let l = r.lift.unwrap();
        let se = 0.003f64.sqrt();
        assert!((l.absolute - 0.2).abs() < 1e-12);
        assert!((l.absolute_ci95[0] - (0.2 - Z95 * se)).abs() < 1e-12);
        assert!((l.relative.unwrap() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn no_lift_without_a_control_group() {
        let c = ResultCounts {
            deliveries: 10,
            conversions: 3,
            ..Default::default()
        };
        assert!(results(uuid::Uuid::nil(), 7, c, july(), &[]).lift.is_none());
    }
}
