//! Targeting rules. Every rule answers pass or fail with the actual and the expected value and a
//! sentence support staff can read ("weather: needs ≥ 28 °C, was 18 °C").
//!
//! Long (about 670 lines, half of it tests) because every rule family lives here with its
//! sentence, and a test pins the trace bytes of every rule's values. Rule ids, verdicts and
//! their values ([`Fact`]) are the trace's types (`decisions::trace`).

use super::input::Activity;
pub use super::triggers::VisitFacts;
use super::triggers::trigger;
pub use crate::decisions::trace::{Fact, RuleId, RuleOutcome, plain_number};
use crate::habits::HabitFeatures;
use crate::offers::{Day, HabitScope, Offer, OfferStatus, validate::parse_hhmm};
use crate::people::Profile;
use crate::weather::WeatherLookup;
use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use std::borrow::Cow;

/// Speed above which a person is "in motion" when an offer names no limit (m/s, ~25 km/h).
pub const DEFAULT_MAX_SPEED_MPS: f64 = 7.0;
/// Purchase look-back of an `exclude` block that names none.
pub const DEFAULT_EXCLUDE_DAYS: u32 = 30;

pub(super) fn outcome(
    rule: RuleId,
    passed: bool,
    expected: Fact,
    actual: Fact,
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
    /// The person's visits, as the triggers read them.
    pub visit: VisitFacts,
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
        Fact::name("active"),
        Fact::name(status_name(s.status)),
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
            Fact::Time(from),
            Fact::Time(m.now),
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
            Fact::Time(until),
            Fact::Time(m.now),
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
    if let Some(tr) = t.trigger {
        trigger(tr, m, &mut out);
    }
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
        Fact::Purchases {
            categories: p.categories.clone(),
            skus: p.skus.clone(),
            within_days: m.retargeting_days,
        },
        purchase(hit),
        text,
    ));
}

fn motion(max: f64, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let driving = m.activity == Some(Activity::Automotive);
    out.push(outcome(
        RuleId::MotionActivity,
        !driving,
        Fact::name("not automotive"),
        m.activity.map(Activity::as_str).into(),
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
        Fact::Number(max),
        m.speed_mps.into(),
        format!(
            "speed: needs ≤ {} m/s, was {} m/s",
            plain_number(max),
            plain_number(speed)
        ),
    ));
}

/// The purchase a rule found, as the trace keeps it (`null` when none).
fn purchase(hit: Option<&crate::people::Purchase>) -> Fact {
    hit.map_or(Fact::None, |x| Fact::Purchase {
        at: x.at,
        category: x.category.clone(),
        sku: x.sku.clone(),
    })
}

/// The status as the offer API names it.
fn status_name(s: OfferStatus) -> &'static str {
    match s {
        OfferStatus::Active => "active",
        OfferStatus::Paused => "paused",
    }
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
            Fact::Texts(days.iter().map(|d| Cow::Borrowed(day_name(*d))).collect()),
            Fact::name(day_name(today)),
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
        let text = format!("schedule: needs {} local, was {local}", ranges.join(" or "));
        out.push(outcome(
            RuleId::ScheduleHours,
            ok,
            Fact::Texts(ranges.into_iter().map(Cow::Owned).collect()),
            Fact::Text(Cow::Owned(local)),
            text,
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
                Fact::name("known weather"),
                Fact::Text(Cow::Owned(reason.clone())),
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
            Fact::Number(min),
            Fact::Number(known.temp_c),
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
            Fact::Number(max),
            Fact::Number(known.temp_c),
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
            Fact::texts(conds),
            Fact::name(now),
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
            Fact::name("personalization consent"),
            Fact::Bool(false),
            "habit: no personalization consent, so habits are not used".into(),
        ));
        return;
    };
    if let Some(min) = h.min_visits_per_week {
        out.push(outcome(
            RuleId::HabitMinVisitsPerWeek,
            f.visits_per_week >= min,
            Fact::Number(min),
            Fact::Number(f.visits_per_week),
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
            Fact::Number(min),
            f.days_since_last_visit.into(),
            format!("habit: needs ≥ {min} days since the last visit to {scope}, had {had}"),
        ));
    }
    if let Some(min) = h.min_dwell_s {
        out.push(outcome(
            RuleId::HabitMinDwell,
            f.dwell_s >= i64::from(min),
            Fact::from(min),
            Fact::Int(f.dwell_s),
            format!("habit: needs ≥ {min} s at {scope}, was {} s", f.dwell_s),
        ));
    }
}

fn audience(offer: &Offer, a: &crate::offers::Audience, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let Some(p) = m.profile else {
        out.push(outcome(
            RuleId::AudiencePersonalization,
            false,
            Fact::name("personalization consent"),
            Fact::Bool(false),
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
            Fact::Bool(want),
            Fact::Bool(has),
            text,
        ));
    }
    if let Some(any) = &a.interests_any {
        let ok = any.iter().any(|i| p.interests.contains(i));
        out.push(outcome(
            RuleId::AudienceInterestsAny,
            ok,
            Fact::texts(any),
            Fact::texts(&p.interests),
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
    out.push(outcome(
        RuleId::ExcludePurchases,
        hit.is_none(),
        Fact::Purchases {
            categories: e.purchased_categories.clone(),
            skus: e.purchased_skus.clone(),
            within_days: i64::from(days),
        },
        purchase(hit),
        text,
    ));
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

    /// Every rule family and branch, written as the trace writes it: `expected` and `actual`
    /// must keep the bytes `json!` gave them before they were typed (`GOLDEN` was produced by
    /// this test run against the `json!` version of this file).
    #[test]
    fn rule_values_keep_the_trace_bytes_they_had_as_json() {
        use crate::habits::HabitFeatures;
        use crate::people::{Profile, Purchase};
        use crate::weather::{Condition, Weather, WeatherLookup};
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let now = at("2026-07-14T19:00:00.5Z");
        let spec = |status: &str, follows: bool| {
            serde_json::from_value(serde_json::json!({
                "name": "n", "title": "t", "body": "b", "status": status,
                "valid_from": "2026-06-01T00:00:00Z", "valid_until": "2026-07-01T12:30:00.123Z",
                "targeting": {
                    "schedule": { "days": ["sun", "tue"], "hours": [{ "from": "22:00", "to": "02:00" }, { "from": "11:00", "to": "19:00" }] },
                    "weather": { "min_temp_c": 28, "max_temp_c": 31.45, "conditions": ["clear", "cloudy"] },
                    "habit": { "min_visits_per_week": 2, "scope": "fence", "min_days_since_visit": 1.5, "min_dwell_s": 120 },
                    "audience": { "follows_brand": follows, "interests_any": ["cold-drinks", "tea"] },
                    "exclude": { "purchased_categories": ["soft-drinks"], "purchased_skus": ["cola-33"] },
                    "max_speed_mps": 2.5 },
                "product": { "skus": ["cola-33"], "categories": ["soft-drinks", "snacks"] }
            }))
            .unwrap()
        };
        let offer = |status, follows| Offer {
            id: uuid::Uuid::nil(),
            brand: crate::domain::BrandId::parse("chillco").unwrap(),
            spec: spec(status, follows),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let known = WeatherLookup::Known(Weather {
            temp_c: 30.04,
            feels_like_c: 30.0,
            precipitation_mm: 0.0,
            condition: Condition::Clear,
            is_day: true,
            observed_at: None,
        });
        let unknown = WeatherLookup::unknown("circuit-open");
        let habit = HabitFeatures {
            visits_per_week: 2.25,
            days_since_last_visit: Some(3.5),
            dwell_s: 95,
            ..Default::default()
        };
        let first_visit = HabitFeatures {
            days_since_last_visit: None,
            ..habit.clone()
        };
        let purchase = |sku: Option<&str>, category: Option<&str>| Purchase {
            brand: "chillco".into(),
            sku: sku.map(Into::into),
            category: category.map(Into::into),
            at: at("2026-07-10T08:00:00Z"),
        };
        let buyer = Profile {
            follows: vec![crate::domain::BrandId::parse("chillco").unwrap()],
            interests: vec!["tea".into(), "running".into()],
            purchases: vec![
                purchase(None, Some("snacks")),
                purchase(Some("cola-33"), None),
            ],
        };
        let nobody = Profile::default();
        let local = now.with_timezone(&chrono_tz::Europe::Paris);
        let moment = |weather, fence_habit, profile, speed_mps, activity| Moment {
            now,
            local,
            weather,
            fence_habit,
            brand_habit: None,
            profile,
            speed_mps,
            activity,
            retargeting_days: 14,
            visit: VisitFacts::default(),
        };
        let runs = [
            (
                offer("paused", false),
                moment(
                    &known,
                    Some(&habit),
                    Some(&buyer),
                    Some(1.25),
                    Some(Activity::Walking),
                ),
            ),
            (
                offer("active", true),
                moment(&unknown, None, None, None, None),
            ),
            (
                offer("active", true),
                moment(
                    &known,
                    Some(&first_visit),
                    Some(&nobody),
                    Some(f64::NAN),
                    Some(Activity::Automotive),
                ),
            ),
        ];
        let written: Vec<String> = runs
            .iter()
            .flat_map(|(o, m)| evaluate(o, m))
            .map(|r| {
                let rule = serde_json::to_string(&r.rule).unwrap();
                let expected = serde_json::to_string(&r.expected).unwrap();
                let actual = serde_json::to_string(&r.actual).unwrap();
                format!("{rule} {expected} {actual}")
            })
            .collect();
        let written = written.join("\n");
        println!("{written}");
        assert_eq!(written, GOLDEN.trim());
    }

    const GOLDEN: &str = r#"
"status" "active" "paused"
"valid_from" "2026-06-01T00:00:00Z" "2026-07-14T19:00:00.500Z"
"valid_until" "2026-07-01T12:30:00.123Z" "2026-07-14T19:00:00.500Z"
"motion.activity" "not automotive" "walking"
"motion.max_speed_mps" 2.5 1.25
"schedule.days" ["sun","tue"] "tue"
"schedule.hours" ["22:00-02:00","11:00-19:00"] "21:00"
"weather.min_temp_c" 28.0 30.04
"weather.max_temp_c" 31.45 30.04
"weather.conditions" ["clear","cloudy"] "clear"
"habit.min_visits_per_week" 2.0 2.25
"habit.min_days_since_visit" 1.5 3.5
"habit.min_dwell_s" 120 95
"audience.follows_brand" false true
"audience.interests_any" ["cold-drinks","tea"] ["tea","running"]
"exclude.purchases" {"categories":["soft-drinks"],"skus":["cola-33"],"within_days":30} {"at":"2026-07-10T08:00:00Z","category":null,"sku":"cola-33"}
"retargeting.recent_purchase" {"categories":["soft-drinks","snacks"],"skus":["cola-33"],"within_days":14} {"at":"2026-07-10T08:00:00Z","category":"snacks","sku":null}
"status" "active" "active"
"valid_from" "2026-06-01T00:00:00Z" "2026-07-14T19:00:00.500Z"
"valid_until" "2026-07-01T12:30:00.123Z" "2026-07-14T19:00:00.500Z"
"motion.activity" "not automotive" null
"motion.max_speed_mps" 2.5 null
"schedule.days" ["sun","tue"] "tue"
"schedule.hours" ["22:00-02:00","11:00-19:00"] "21:00"
"weather.known" "known weather" "circuit-open"
"habit.personalization" "personalization consent" false
"audience.personalization" "personalization consent" false
"exclude.purchases" {"categories":["soft-drinks"],"skus":["cola-33"],"within_days":30} null
"retargeting.recent_purchase" {"categories":["soft-drinks","snacks"],"skus":["cola-33"],"within_days":14} null
"status" "active" "active"
"valid_from" "2026-06-01T00:00:00Z" "2026-07-14T19:00:00.500Z"
"valid_until" "2026-07-01T12:30:00.123Z" "2026-07-14T19:00:00.500Z"
"motion.activity" "not automotive" "automotive"
"motion.max_speed_mps" 2.5 null
"schedule.days" ["sun","tue"] "tue"
"schedule.hours" ["22:00-02:00","11:00-19:00"] "21:00"
"weather.min_temp_c" 28.0 30.04
"weather.max_temp_c" 31.45 30.04
"weather.conditions" ["clear","cloudy"] "clear"
"habit.min_visits_per_week" 2.0 2.25
"habit.min_days_since_visit" 1.5 null
"habit.min_dwell_s" 120 95
"audience.follows_brand" true false
"audience.interests_any" ["cold-drinks","tea"] []
"exclude.purchases" {"categories":["soft-drinks"],"skus":["cola-33"],"within_days":30} null
"retargeting.recent_purchase" {"categories":["soft-drinks","snacks"],"skus":["cola-33"],"within_days":14} null
"#;
}
