//! An offer's lift against its holdout, told in one sentence a marketer can act on: does the
//! offer make people buy, is it too early to say, or does it make no difference that shows?

use super::results::{Lift, ResultCounts};
use serde::Serialize;
use utoipa::ToSchema;

/// What the comparison with the holdout shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nobody got the offer, nobody was held out, or either group is under [`MIN_GROUP`].
    NotEnoughData,
    /// The 95% interval of the lift includes no difference.
    NoMeasurableEffect,
    /// The whole 95% interval is above zero: people who got the offer convert more.
    Works,
    /// The whole 95% interval is below zero: people who got the offer convert less.
    Backfires,
}

/// The fewest people in each group before a comparison is told: below it the normal
/// approximation behind the interval is not to be trusted.
pub const MIN_GROUP: u64 = 30;

/// "1 person" / "3 people".
fn people(n: u64) -> String {
    if n == 1 {
        "1 person".into()
    } else {
        format!("{n} people")
    }
}

/// A share (0.041) as percentage points with one decimal ("4.1"), never "-0.0".
fn points(x: f64) -> String {
    let v = (x * 1000.0).round() / 10.0;
    if v == 0.0 {
        "0.0".into()
    } else {
        format!("{v:.1}")
    }
}

/// The verdict on an offer and the sentence that says it, from its counts and lift.
pub fn summarize(c: &ResultCounts, lift: Option<&Lift>, window_days: i64) -> (Verdict, String) {
    let not_enough = |why: String| {
        (
            Verdict::NotEnoughData,
            format!("Not enough data yet: {why}"),
        )
    };
    if c.deliveries == 0 {
        return not_enough("nobody has received this offer.".into());
    }
    if c.holdout == 0 {
        return not_enough(format!(
            "{} got this offer but nobody was held out, so there is no one to compare them \
             with (give the offer a holdout percentage).",
            people(c.deliveries)
        ));
    }
    let Some(lift) = lift.filter(|_| c.deliveries >= MIN_GROUP && c.holdout >= MIN_GROUP) else {
        return not_enough(format!(
            "{} got this offer and {} held out; a fair comparison needs at least {MIN_GROUP} \
             in each group.",
            people(c.deliveries),
            if c.holdout == 1 {
                "1 was".to_string()
            } else {
                format!("{} were", c.holdout)
            }
        ));
    };
    let days = if window_days == 1 {
        "1 day".to_string()
    } else {
        format!("{window_days} days")
    };
    let treated = c.conversions as f64 / c.deliveries as f64;
    let control = c.holdout_conversions as f64 / c.holdout as f64;
    let [lo, hi] = lift.absolute_ci95;
    let rates = format!(
        "{}% against {}% within {days}; 95% interval {} to {} points",
        points(treated),
        points(control),
        points(lo),
        points(hi)
    );
    if lo > 0.0 {
        (
            Verdict::Works,
            format!(
                "People who got this offer bought or redeemed {} percentage points more often \
                 than the holdout ({rates}): the offer likely works.",
                points(lift.absolute)
            ),
        )
    } else if hi < 0.0 {
        (
            Verdict::Backfires,
            format!(
                "People who got this offer bought or redeemed {} percentage points less often \
                 than the holdout ({rates}): the offer may be putting people off.",
                points(-lift.absolute)
            ),
        )
    } else {
        (
            Verdict::NoMeasurableEffect,
            format!(
                "No measurable effect: people who got this offer bought or redeemed about as \
                 often as the holdout ({rates}, which includes no difference)."
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offers::results::results;

    /// The verdict and sentence for `k` of `n` treated and `kc` of `nc` held out converting.
    fn told(n: u64, k: u64, nc: u64, kc: u64) -> (Verdict, String) {
        let c = ResultCounts {
            deliveries: n,
            conversions: k,
            holdout: nc,
            holdout_conversions: kc,
            ..Default::default()
        };
        let period = super::super::results::Period {
            from: chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            time_zone: "UTC".into(),
        };
        let r = results(uuid::Uuid::nil(), 7, c, period, &[]);
        (r.verdict, r.summary)
    }

    #[test]
    fn an_offer_nobody_received_has_not_enough_data() {
        let (v, s) = told(0, 0, 40, 4);
        assert_eq!(v, Verdict::NotEnoughData);
        assert_eq!(s, "Not enough data yet: nobody has received this offer.");
    }

    #[test]
    fn an_offer_without_a_holdout_says_there_is_no_one_to_compare_with() {
        let (v, s) = told(1, 1, 0, 0);
        assert_eq!(v, Verdict::NotEnoughData);
        assert!(
            s.starts_with("Not enough data yet: 1 person got this offer but nobody was held out"),
            "{s}"
        );
        assert!(s.contains("holdout percentage"), "{s}");
    }

    #[test]
    fn small_groups_have_not_enough_data_and_say_how_many_are_needed() {
        let (v, s) = told(12, 6, 1, 0);
        assert_eq!(v, Verdict::NotEnoughData);
        assert_eq!(
            s,
            "Not enough data yet: 12 people got this offer and 1 was held out; a fair \
             comparison needs at least 30 in each group."
        );
    }

    #[test]
    fn a_lift_whose_whole_interval_is_above_zero_likely_works() {
        // 30/100 vs 10/100: lift 20 points, interval 20 ± 1.96 × sqrt(.003) ≈ 9.3 to 30.7.
        let (v, s) = told(100, 30, 100, 10);
        assert_eq!(v, Verdict::Works);
        assert_eq!(
            s,
            "People who got this offer bought or redeemed 20.0 percentage points more often \
             than the holdout (30.0% against 10.0% within 7 days; 95% interval 9.3 to 30.7 \
             points): the offer likely works."
        );
    }

    #[test]
    fn a_lift_whose_whole_interval_is_below_zero_may_be_putting_people_off() {
        let (v, s) = told(100, 10, 100, 30);
        assert_eq!(v, Verdict::Backfires);
        assert!(
            s.starts_with(
                "People who got this offer bought or redeemed 20.0 percentage points less often"
            ),
            "{s}"
        );
        assert!(s.contains("interval -30.7 to -9.3 points"), "{s}");
        assert!(s.ends_with("the offer may be putting people off."), "{s}");
    }

    #[test]
    fn an_interval_that_includes_zero_is_no_measurable_effect() {
        let (v, s) = told(40, 5, 40, 4);
        assert_eq!(v, Verdict::NoMeasurableEffect);
        assert!(s.starts_with("No measurable effect: "), "{s}");
        assert!(s.contains("12.5% against 10.0% within 7 days"), "{s}");
        // Nobody converting in either group is an interval of exactly zero: no effect either.
        assert_eq!(told(40, 0, 40, 0).0, Verdict::NoMeasurableEffect);
    }

    #[test]
    fn points_are_rounded_to_one_decimal_without_a_negative_zero() {
        assert_eq!(points(0.0412), "4.1");
        assert_eq!(points(-0.0001), "0.0");
        assert_eq!(points(-0.035), "-3.5");
    }
}
