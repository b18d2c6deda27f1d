//! Write-time validation of offers: every problem named by its JSON pointer.
//!
//! About 300 lines, 60 of them tests.

use super::{OfferSpec, Trigger, creative};
use crate::domain::check_tag;
use crate::error::FieldError;

/// Largest budget (total or daily) accepted, in deliveries: far beyond any campaign, and
/// well inside every integer type the stores and the limiter keep it in.
pub const MAX_BUDGET: u64 = 1_000_000_000;

/// Weather conditions a rule may name.
pub const CONDITIONS: &[&str] = &[
    "clear",
    "cloudy",
    "fog",
    "drizzle",
    "rain",
    "snow",
    "thunderstorm",
];

/// Checks an offer; returns every problem found.
pub fn validate_offer(spec: &OfferSpec) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut bad = |p: &str, r: String| errs.push(FieldError::new(p, r));
    if spec.name.trim().is_empty() || spec.name.chars().count() > 200 {
        bad("/name", "name must be 1-200 characters".into());
    }
    for (field, src, part) in [
        ("/title", &spec.title, creative::Part::Title),
        ("/body", &spec.body, creative::Part::Body),
    ] {
        if let Err(e) = creative::check(src, part) {
            bad(field, e);
        }
    }
    if !spec.value.is_finite() || spec.value < 0.0 || spec.value > 1_000_000.0 {
        bad("/value", "value must be a number from 0 to 1000000".into());
    }
    if let (Some(from), Some(until)) = (spec.valid_from, spec.valid_until)
        && from >= until
    {
        bad(
            "/valid_until",
            "valid_until must be after valid_from".into(),
        );
    }
    if !(0.0..=50.0).contains(&spec.holdout_pct) {
        bad(
            "/holdout_pct",
            "holdout_pct must be between 0 and 50".into(),
        );
    }
    let t = &spec.targeting;
    if let Some(f) = &t.fences {
        if f.ids.is_empty() && f.tags.is_empty() {
            bad(
                "/targeting/fences",
                "name at least one fence id or tag, or leave the block out".into(),
            );
        }
        for (i, tag) in f.tags.iter().enumerate() {
            if let Err(e) = check_tag(tag) {
                bad(&format!("/targeting/fences/tags/{i}"), e);
            }
        }
    }
    if let Some(s) = &t.schedule {
        if s.days.as_ref().is_some_and(Vec::is_empty) {
            bad(
                "/targeting/schedule/days",
                "name at least one day, or leave days out".into(),
            );
        }
        for (i, h) in s.hours.iter().flatten().enumerate() {
            let from = parse_hhmm(&h.from);
            let to = parse_hhmm(&h.to);
            if from.is_none() {
                bad(
                    &format!("/targeting/schedule/hours/{i}/from"),
                    format!("`{}` is not HH:MM", h.from),
                );
            }
            if to.is_none() {
                bad(
                    &format!("/targeting/schedule/hours/{i}/to"),
                    format!("`{}` is not HH:MM", h.to),
                );
            }
            if from.is_some() && from == to {
                bad(
                    &format!("/targeting/schedule/hours/{i}"),
                    "from and to must differ".into(),
                );
            }
        }
    }
    if let Some(w) = &t.weather {
        for (field, v) in [("min_temp_c", w.min_temp_c), ("max_temp_c", w.max_temp_c)] {
            if let Some(v) = v
                && (!v.is_finite() || !(-60.0..=60.0).contains(&v))
            {
                bad(
                    &format!("/targeting/weather/{field}"),
                    format!("{v} °C is not a plausible temperature (-60..60)"),
                );
            }
        }
        if let (Some(lo), Some(hi)) = (w.min_temp_c, w.max_temp_c)
            && lo > hi
        {
            bad(
                "/targeting/weather/max_temp_c",
                format!("max_temp_c {hi} is below min_temp_c {lo}"),
            );
        }
        for (i, c) in w.conditions.iter().flatten().enumerate() {
            if !CONDITIONS.contains(&c.as_str()) {
                bad(
                    &format!("/targeting/weather/conditions/{i}"),
                    format!(
                        "unknown condition `{c}`; use one of {}",
                        CONDITIONS.join(", ")
                    ),
                );
            }
        }
    }
    if let Some(h) = &t.habit {
        if let Some(v) = h.min_visits_per_week
            && (!v.is_finite() || !(0.0..=100.0).contains(&v))
        {
            bad(
                "/targeting/habit/min_visits_per_week",
                "must be between 0 and 100".into(),
            );
        }
        if let Some(v) = h.min_days_since_visit
            && (!v.is_finite() || !(0.0..=56.0).contains(&v))
        {
            bad(
                "/targeting/habit/min_days_since_visit",
                "must be between 0 and 56 (habits cover 56 days)".into(),
            );
        }
        if h.min_dwell_s.is_some_and(|d| d > 86_400) {
            bad(
                "/targeting/habit/min_dwell_s",
                "must be at most 86400 seconds".into(),
            );
        }
    }
    if let Some(a) = &t.audience {
        for (i, tag) in a.interests_any.iter().flatten().enumerate() {
            if let Err(e) = check_tag(tag) {
                bad(&format!("/targeting/audience/interests_any/{i}"), e);
            }
        }
    }
    if let Some(e) = &t.exclude
        && e.purchased_within_days.is_some_and(|d| d == 0 || d > 365)
    {
        bad(
            "/targeting/exclude/purchased_within_days",
            "must be between 1 and 365".into(),
        );
    }
    match t.trigger {
        Some(Trigger::Dwell { min_minutes }) if !(1..=1440).contains(&min_minutes) => bad(
            "/targeting/trigger/min_minutes",
            "must be between 1 and 1440 minutes".into(),
        ),
        Some(Trigger::Exit { within_minutes }) if !(1..=120).contains(&within_minutes) => bad(
            "/targeting/trigger/within_minutes",
            "must be between 1 and 120 minutes (closed visits are kept 2 hours)".into(),
        ),
        _ => {}
    }
    if let Some(v) = t.max_speed_mps
        && (!v.is_finite() || !(0.0..=100.0).contains(&v))
    {
        bad(
            "/targeting/max_speed_mps",
            "must be between 0 and 100 m/s".into(),
        );
    }
    if let Some(p) = &spec.caps.per_person {
        if !(1..=1000).contains(&p.count) {
            bad(
                "/caps/per_person/count",
                "must be between 1 and 1000".into(),
            );
        }
        if p.period_days.is_some_and(|d| d == 0 || d > 3650) {
            bad(
                "/caps/per_person/period_days",
                "must be between 1 and 3650".into(),
            );
        }
    }
    for (field, v) in [("total", spec.budget.total), ("daily", spec.budget.daily)] {
        if v == Some(0) {
            bad(
                &format!("/budget/{field}"),
                "a budget of 0 would never deliver; pause the offer instead".into(),
            );
        } else if v.is_some_and(|n| n > MAX_BUDGET) {
            bad(
                &format!("/budget/{field}"),
                format!("must be between 1 and {MAX_BUDGET}"),
            );
        }
    }
    if let (Some(total), Some(daily)) = (spec.budget.total, spec.budget.daily)
        && daily > total
    {
        bad(
            "/budget/daily",
            format!("daily budget {daily} exceeds the total {total}"),
        );
    }
    if let Some(r) = &spec.redemption {
        let ok = (1..=12).contains(&r.code_prefix.len())
            && r.code_prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok {
            bad(
                "/redemption/code_prefix",
                "must be 1-12 uppercase letters or digits".into(),
            );
        }
        if !(1..=720).contains(&r.valid_hours) {
            bad(
                "/redemption/valid_hours",
                "must be between 1 and 720 hours".into(),
            );
        }
    }
    errs
}

/// Minutes since midnight for `HH:MM` (`24:00` is 1440).
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example() -> serde_json::Value {
        json!({ "name": "Chilled drink on hot days", "status": "active",
          "title": "Ice-cold ChillCo is waiting",
          "body": "It's {{ weather.temp_c | round }}°C. Your usual {{ habit.usual_item }} is {{ distance_m }} m away at {{ fence.name }}.",
          "value": 1.0, "valid_from": "2026-06-01T00:00:00Z", "valid_until": "2027-06-01T00:00:00Z",
          "targeting": {
            "fences": { "ids": [], "tags": ["corner-store"] },
            "schedule": { "days": ["mon","tue","wed","thu","fri","sat","sun"], "hours": [{ "from": "11:00", "to": "19:00" }] },
            "weather": { "min_temp_c": 28, "max_temp_c": null, "conditions": ["clear","cloudy"] },
            "habit": { "min_visits_per_week": 2, "scope": "fence", "min_days_since_visit": null, "min_dwell_s": null },
            "audience": { "follows_brand": true, "interests_any": ["cold-drinks"] },
            "exclude": { "purchased_categories": ["soft-drinks"], "purchased_within_days": 30 },
            "max_speed_mps": 7 },
          "caps": { "per_person": { "count": 1, "period_days": 30 } },
          "budget": { "total": 10000, "daily": 500 },
          "holdout_pct": 10,
          "redemption": { "code_prefix": "CHILL", "valid_hours": 4 } })
    }

    #[test]
    fn the_api_example_offer_is_valid() {
        let spec: OfferSpec = serde_json::from_value(example()).unwrap();
        assert_eq!(validate_offer(&spec), vec![]);
    }

    #[test]
    fn inverted_temperatures_and_bad_percentages_are_named() {
        let mut v = example();
        v["targeting"]["weather"]["max_temp_c"] = json!(20);
        v["holdout_pct"] = json!(80);
        let spec: OfferSpec = serde_json::from_value(v).unwrap();
        let pointers: Vec<_> = validate_offer(&spec)
            .into_iter()
            .map(|e| e.pointer)
            .collect();
        assert_eq!(
            pointers,
            vec!["/holdout_pct", "/targeting/weather/max_temp_c"]
        );
    }

    #[test]
    fn unknown_fields_are_refused_by_the_parser() {
        let mut v = example();
        v["targeting"]["wether"] = json!({});
        assert!(serde_json::from_value::<OfferSpec>(v).is_err());
    }

    #[test]
    fn hours_parse_strictly() {
        assert_eq!(parse_hhmm("11:00"), Some(660));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        assert_eq!(parse_hhmm("24:01"), None);
        assert_eq!(parse_hhmm("7:00"), None);
    }
}
