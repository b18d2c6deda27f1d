//! Targeting rules. Every rule answers pass or fail with the actual and the expected value and a
//! sentence support staff can read ("weather: needs ≥ 28 °C, was 18 °C").
//!
//! Long (about 500 lines, a third of it tests) because every rule family lives here with its
//! sentence. Rule ids and verdicts are the trace's types (`decisions::trace`).

use super::input::Activity;
pub use crate::decisions::trace::{RuleId, RuleOutcome, plain_number};
use crate::habits::HabitFeatures;
use crate::offers::{Day, HabitScope, Offer, OfferStatus, validate::parse_hhmm};
use crate::people::Profile;
use crate::weather::WeatherLookup;
use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::{Value, json};

/// Speed above which a person is "in motion" when an offer names no limit (m/s, ~25 km/h).
pub const DEFAULT_MAX_SPEED_MPS: f64 = 7.0;
/// Purchase look-back of an `exclude` block that names none.
pub const DEFAULT_EXCLUDE_DAYS: u32 = 30;

fn outcome(
    rule: RuleId,
    passed: bool,
    expected: Value,
    actual: Value,
    text: String,
) -> RuleOutcome {
    RuleOutcome {
        rule,
        passed,
        expected,
        actual,
        text,
    }
}

/// Everything the rules may look at.
pub struct Moment<'a> {
    /// Decision time.
    pub now: DateTime<Utc>,
    /// Local time at the fence.
    pub local: DateTime<Tz>,
    /// Weather at the spot (Unknown when not fetched or not available).
    pub weather: &'a WeatherLookup,
    /// Habits at the matched fence (None without personalization consent).
    pub fence_habit: Option<&'a HabitFeatures>,
    /// Habits at the brand.
    pub brand_habit: Option<&'a HabitFeatures>,
    /// Follows, interests, purchases (None without personalization consent).
    pub profile: Option<&'a Profile>,
    /// Reported speed.
    pub speed_mps: Option<f64>,
    /// Reported activity.
    pub activity: Option<Activity>,
    /// Purchases this recent suppress offers for the same SKU or category.
    pub retargeting_days: i64,
}

/// Evaluates every rule the offer sets, in a fixed order.
pub fn evaluate(offer: &Offer, m: &Moment) -> Vec<RuleOutcome> {
    let s = &offer.spec;
    let t = &s.targeting;
    let mut out = Vec::new();
    let active = s.status == OfferStatus::Active;
    out.push(outcome(
        RuleId::Status,
        active,
        json!("active"),
        json!(s.status),
        if active {
            "status: offer is active".into()
        } else {
            "status: offer is paused".into()
        },
    ));
    if let Some(from) = s.valid_from {
        let ok = m.now >= from;
        out.push(outcome(
            RuleId::ValidFrom,
            ok,
            json!(from),
            json!(m.now),
            if ok {
                format!("validity: valid from {}", from.to_rfc3339())
            } else {
                format!(
                    "validity: starts {}, it was {}",
                    from.to_rfc3339(),
                    m.now.to_rfc3339()
                )
            },
        ));
    }
    if let Some(until) = s.valid_until {
        let ok = m.now <= until;
        out.push(outcome(
            RuleId::ValidUntil,
            ok,
            json!(until),
            json!(m.now),
            if ok {
                format!("validity: valid until {}", until.to_rfc3339())
            } else {
                format!(
                    "validity: ended {}, it was {}",
                    until.to_rfc3339(),
                    m.now.to_rfc3339()
                )
            },
        ));
    }
    motion(
        t.max_speed_mps.unwrap_or(DEFAULT_MAX_SPEED_MPS),
        m,
        &mut out,
    );
    if let Some(sch) = &t.schedule {
        schedule(sch, m, &mut out);
    }
    if let Some(w) = &t.weather {
        weather(w, m, &mut out);
    }
    if let Some(h) = &t.habit {
        habit(h, m, &mut out);
    }
    if let Some(a) = &t.audience {
        audience(offer, a, m, &mut out);
    }
    if let Some(e) = &t.exclude {
        exclude(e, m, &mut out);
    }
    if let Some(p) = &s.product {
        retargeting(p, m, &mut out);
    }
    out
}

/// No chasing: a recent purchase of what the offer promotes rules it out.
fn retargeting(p: &crate::offers::Product, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let since = m.now - Duration::days(m.retargeting_days);
    let hit = m.profile.and_then(|pr| {
        pr.purchases.iter().find(|x| {
            x.at >= since
                && (x.sku.as_ref().is_some_and(|s| p.skus.contains(s))
                    || x.category
                        .as_ref()
                        .is_some_and(|c| p.categories.contains(c)))
        })
    });
    let text = match hit {
        Some(x) => format!(
            "no retargeting: bought {} on {}, within {} days",
            x.sku.clone().or(x.category.clone()).unwrap_or_default(),
            x.at.format("%Y-%m-%d"),
            m.retargeting_days
        ),
        None => format!(
            "no retargeting: nothing it promotes bought within {} days",
            m.retargeting_days
        ),
    };
    out.push(outcome(
        RuleId::RetargetingRecentPurchase,
        hit.is_none(),
        json!({"skus": p.skus, "categories": p.categories, "within_days": m.retargeting_days}),
        json!(hit.map(|x| json!({"sku": x.sku, "category": x.category, "at": x.at}))),
        text,
    ));
}

fn motion(max: f64, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let driving = m.activity == Some(Activity::Automotive);
    out.push(outcome(
        RuleId::MotionActivity,
        !driving,
        json!("not automotive"),
        json!(m.activity),
        if driving {
            "in motion: the phone reports driving".into()
        } else {
            "not driving".into()
        },
    ));
    let speed = m.speed_mps.unwrap_or(0.0);
    out.push(outcome(
        RuleId::MotionMaxSpeed,
        speed <= max,
        json!(max),
        json!(m.speed_mps),
        format!(
            "speed: needs ≤ {} m/s, was {} m/s",
            plain_number(max),
            plain_number(speed)
        ),
    ));
}

fn day_of(w: Weekday) -> Day {
    match w {
        Weekday::Mon => Day::Mon,
        Weekday::Tue => Day::Tue,
        Weekday::Wed => Day::Wed,
        Weekday::Thu => Day::Thu,
        Weekday::Fri => Day::Fri,
        Weekday::Sat => Day::Sat,
        Weekday::Sun => Day::Sun,
    }
}

fn day_name(d: Day) -> &'static str {
    match d {
        Day::Mon => "mon",
        Day::Tue => "tue",
        Day::Wed => "wed",
        Day::Thu => "thu",
        Day::Fri => "fri",
        Day::Sat => "sat",
        Day::Sun => "sun",
    }
}

/// Is `minute` (since local midnight) inside `from..to`, wrapping past midnight when from > to?
pub fn in_range(minute: u32, from: u32, to: u32) -> bool {
    if from < to {
        (from..to).contains(&minute)
    } else {
        minute >= from || minute < to
    }
}

fn schedule(sch: &crate::offers::Schedule, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let today = day_of(m.local.weekday());
    if let Some(days) = &sch.days {
        let ok = days.contains(&today);
        out.push(outcome(
            RuleId::ScheduleDays,
            ok,
            json!(days),
            json!(today),
            format!(
                "schedule: runs on {}, local day was {}",
                days.iter()
                    .map(|d| day_name(*d))
                    .collect::<Vec<_>>()
                    .join(", "),
                day_name(today)
            ),
        ));
    }
    if let Some(hours) = &sch.hours {
        let minute = m.local.hour() * 60 + m.local.minute();
        let ok = hours
            .iter()
            .any(|h| match (parse_hhmm(&h.from), parse_hhmm(&h.to)) {
                (Some(f), Some(t)) => in_range(minute, f, t),
                _ => false,
            });
        let ranges: Vec<String> = hours
            .iter()
            .map(|h| format!("{}-{}", h.from, h.to))
            .collect();
        let local = m.local.format("%H:%M").to_string();
        out.push(outcome(
            RuleId::ScheduleHours,
            ok,
            json!(ranges),
            json!(local),
            format!("schedule: needs {} local, was {local}", ranges.join(" or ")),
        ));
    }
}

fn weather(w: &crate::offers::WeatherRule, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let known = match m.weather {
        WeatherLookup::Known(k) => k,
        WeatherLookup::Unknown { reason } => {
            out.push(outcome(
                RuleId::WeatherKnown,
                false,
                json!("known weather"),
                json!(reason),
                format!("weather: unknown ({reason}), so weather rules cannot pass"),
            ));
            return;
        }
    };
    if let Some(min) = w.min_temp_c {
        let ok = known.temp_c >= min;
        out.push(outcome(
            RuleId::WeatherMinTemp,
            ok,
            json!(min),
            json!(known.temp_c),
            format!(
                "weather: needs ≥ {} °C, was {} °C",
                plain_number(min),
                plain_number(known.temp_c)
            ),
        ));
    }
    if let Some(max) = w.max_temp_c {
        let ok = known.temp_c <= max;
        out.push(outcome(
            RuleId::WeatherMaxTemp,
            ok,
            json!(max),
            json!(known.temp_c),
            format!(
                "weather: needs ≤ {} °C, was {} °C",
                plain_number(max),
                plain_number(known.temp_c)
            ),
        ));
    }
    if let Some(conds) = &w.conditions {
        let now = known.condition.as_str();
        let ok = conds.iter().any(|c| c == now);
        out.push(outcome(
            RuleId::WeatherConditions,
            ok,
            json!(conds),
            json!(now),
            format!("weather: needs {}, was {now}", conds.join(" or ")),
        ));
    }
}

fn habit(h: &crate::offers::HabitRule, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let (scope, feats) = match h.scope {
        HabitScope::Fence => ("this store", m.fence_habit),
        HabitScope::Brand => ("this brand", m.brand_habit),
    };
    let Some(f) = feats else {
        out.push(outcome(
            RuleId::HabitPersonalization,
            false,
            json!("personalization consent"),
            json!(false),
            "habit: no personalization consent, so habits are not used".into(),
        ));
        return;
    };
    if let Some(min) = h.min_visits_per_week {
        out.push(outcome(
            RuleId::HabitMinVisitsPerWeek,
            f.visits_per_week >= min,
            json!(min),
            json!(f.visits_per_week),
            format!(
                "habit: needs ≥ {min} visits/week at {scope}, had {:.2}",
                f.visits_per_week
            ),
        ));
    }
    if let Some(min) = h.min_days_since_visit {
        let ok = f.days_since_last_visit.is_some_and(|d| d >= min);
        let had = f
            .days_since_last_visit
            .map_or("no earlier visit".to_string(), |d| format!("{d:.1} days"));
        out.push(outcome(
            RuleId::HabitMinDaysSinceVisit,
            ok,
            json!(min),
            json!(f.days_since_last_visit),
            format!("habit: needs ≥ {min} days since the last visit to {scope}, had {had}"),
        ));
    }
    if let Some(min) = h.min_dwell_s {
        out.push(outcome(
            RuleId::HabitMinDwell,
            f.dwell_s >= i64::from(min),
            json!(min),
            json!(f.dwell_s),
            format!("habit: needs ≥ {min} s at {scope}, was {} s", f.dwell_s),
        ));
    }
}

fn audience(offer: &Offer, a: &crate::offers::Audience, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let Some(p) = m.profile else {
        out.push(outcome(
            RuleId::AudiencePersonalization,
            false,
            json!("personalization consent"),
            json!(false),
            "audience: no personalization consent".into(),
        ));
        return;
    };
    if let Some(want) = a.follows_brand {
        let has = p.follows(&offer.brand);
        let text = if want {
            format!(
                "audience: must follow {}, {}",
                offer.brand,
                if has { "does" } else { "does not" }
            )
        } else {
            format!(
                "audience: must not follow {}, {}",
                offer.brand,
                if has { "does" } else { "does not" }
            )
        };
        out.push(outcome(
            RuleId::AudienceFollowsBrand,
            has == want,
            json!(want),
            json!(has),
            text,
        ));
    }
    if let Some(any) = &a.interests_any {
        let ok = any.iter().any(|i| p.interests.contains(i));
        out.push(outcome(
            RuleId::AudienceInterestsAny,
            ok,
            json!(any),
            json!(p.interests),
            format!(
                "audience: needs an interest in {}, has {}",
                any.join(" or "),
                if p.interests.is_empty() {
                    "none".to_string()
                } else {
                    p.interests.join(", ")
                }
            ),
        ));
    }
}

fn exclude(e: &crate::offers::Exclude, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let days = e.purchased_within_days.unwrap_or(DEFAULT_EXCLUDE_DAYS);
    let since = m.now - Duration::days(i64::from(days));
    let hit = m.profile.and_then(|p| {
        p.purchases.iter().find(|x| {
            x.at >= since
                && (x
                    .category
                    .as_ref()
                    .is_some_and(|c| e.purchased_categories.contains(c))
                    || x.sku.as_ref().is_some_and(|s| e.purchased_skus.contains(s)))
        })
    });
    let text = match hit {
        Some(x) => format!(
            "exclude: bought {} on {} (within {days} days)",
            x.sku.clone().or(x.category.clone()).unwrap_or_default(),
            x.at.format("%Y-%m-%d")
        ),
        None => format!("exclude: no matching purchase within {days} days"),
    };
    out.push(outcome(RuleId::ExcludePurchases, hit.is_none(), json!({"categories": e.purchased_categories, "skus": e.purchased_skus, "within_days": days}),
        json!(hit.map(|x| json!({"sku": x.sku, "category": x.category, "at": x.at}))), text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_without_trailing_zeros() {
        assert_eq!(plain_number(18.0), "18");
        assert_eq!(plain_number(31.4), "31.4");
        assert_eq!(plain_number(0.254), "0.25");
        assert_eq!(plain_number(-0.001), "0");
    }

    #[test]
    fn hour_ranges_wrap_past_midnight() {
        assert!(in_range(23 * 60, 22 * 60, 2 * 60));
        assert!(in_range(60, 22 * 60, 2 * 60));
        assert!(!in_range(12 * 60, 22 * 60, 2 * 60));
        assert!(in_range(11 * 60, 11 * 60, 19 * 60));
        assert!(!in_range(19 * 60, 11 * 60, 19 * 60));
    }
}
