//! The offer form: every block of the API's `OfferSpec` as form fields, read back into an
//! `OfferSpec` for `CatalogService::create_offer` / `update_offer` (the API's own calls), and
//! an offer shown as the form again for editing. A service refusal names fields by JSON
//! pointer (`/targeting/weather/min_temp_c`); [`field_of`] says which form field shows it.
//!
//! Over 400 lines: every block of the spec has its form field, its reading back and its
//! pointer here, kept in step in one place.

use crate::error::FieldError;
use crate::offers::{
    Audience, Budget, Day, Exclude, FenceTargeting, HabitRule, HabitScope, HourRange, OfferCaps,
    OfferSpec, OfferStatus, PerPersonCap, Product, Redemption, Schedule, Targeting, Trigger,
    WeatherRule, validate::CONDITIONS,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// The days of the week as the form names them.
pub const DAYS: &[(&str, &str)] = &[
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];

/// The offer form, every value as typed (so a refused form comes back as it was sent).
#[derive(Debug, Clone, Serialize)]
pub struct OfferForm {
    pub name: String,
    pub status: String,
    pub title: String,
    pub body: String,
    pub value: String,
    pub valid_from: String,
    pub valid_until: String,
    /// Fence ids ticked in the list of the brand's fences.
    pub fence_ids: Vec<String>,
    pub fence_tags: String,
    pub days: Vec<String>,
    /// `HH:MM-HH:MM`, several separated by commas.
    pub hours: String,
    pub min_temp_c: String,
    pub max_temp_c: String,
    pub conditions: Vec<String>,
    pub min_visits_per_week: String,
    pub habit_scope: String,
    pub min_days_since_visit: String,
    pub min_dwell_s: String,
    /// `""` (either), `yes` or `no`.
    pub follows_brand: String,
    pub interests_any: String,
    pub exclude_categories: String,
    pub exclude_skus: String,
    pub exclude_within_days: String,
    pub max_speed_mps: String,
    /// `enter` (default), `dwell` or `exit` (docs/visits.md).
    pub trigger: String,
    /// The trigger's minutes: `min_minutes` for dwell, `within_minutes` for exit.
    pub trigger_minutes: String,
    pub cap_count: String,
    pub cap_period_days: String,
    pub budget_total: String,
    pub budget_daily: String,
    pub holdout_pct: String,
    pub code_prefix: String,
    pub code_valid_hours: String,
    pub product_skus: String,
    pub product_categories: String,
    /// The sample moment the preview renders the copy for.
    pub sample_fence: String,
    pub sample_temp_c: String,
    pub sample_condition: String,
    pub sample_item: String,
    pub sample_distance_m: String,
}

impl Default for OfferForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            status: "active".into(),
            title: String::new(),
            body: String::new(),
            value: "1".into(),
            valid_from: String::new(),
            valid_until: String::new(),
            fence_ids: Vec::new(),
            fence_tags: String::new(),
            days: Vec::new(),
            hours: String::new(),
            min_temp_c: String::new(),
            max_temp_c: String::new(),
            conditions: Vec::new(),
            min_visits_per_week: String::new(),
            habit_scope: "fence".into(),
            min_days_since_visit: String::new(),
            min_dwell_s: String::new(),
            follows_brand: String::new(),
            interests_any: String::new(),
            exclude_categories: String::new(),
            exclude_skus: String::new(),
            exclude_within_days: String::new(),
            max_speed_mps: String::new(),
            trigger: "enter".into(),
            trigger_minutes: String::new(),
            cap_count: String::new(),
            cap_period_days: String::new(),
            budget_total: String::new(),
            budget_daily: String::new(),
            holdout_pct: "0".into(),
            code_prefix: String::new(),
            code_valid_hours: String::new(),
            product_skus: String::new(),
            product_categories: String::new(),
            sample_fence: String::new(),
            sample_temp_c: "30".into(),
            sample_condition: "clear".into(),
            sample_item: "cola-330".into(),
            sample_distance_m: "80".into(),
        }
    }
}

impl OfferForm {
    /// The form from its posted pairs (repeated names for the ticked boxes); also returns
    /// the CSRF token and which button was pressed.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> (Self, String, String) {
        let mut f = Self {
            status: String::new(),
            value: String::new(),
            habit_scope: String::new(),
            holdout_pct: String::new(),
            sample_temp_c: String::new(),
            sample_condition: String::new(),
            sample_item: String::new(),
            sample_distance_m: String::new(),
            ..Self::default()
        };
        let (mut csrf, mut action) = (String::new(), String::new());
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "csrf" => &mut csrf,
                "action" => &mut action,
                "fence_ids" => {
                    f.fence_ids.push(v);
                    continue;
                }
                "days" => {
                    f.days.push(v);
                    continue;
                }
                "conditions" => {
                    f.conditions.push(v);
                    continue;
                }
                "name" => &mut f.name,
                "status" => &mut f.status,
                "title" => &mut f.title,
                "body" => &mut f.body,
                "value" => &mut f.value,
                "valid_from" => &mut f.valid_from,
                "valid_until" => &mut f.valid_until,
                "fence_tags" => &mut f.fence_tags,
                "hours" => &mut f.hours,
                "min_temp_c" => &mut f.min_temp_c,
                "max_temp_c" => &mut f.max_temp_c,
                "min_visits_per_week" => &mut f.min_visits_per_week,
                "habit_scope" => &mut f.habit_scope,
                "min_days_since_visit" => &mut f.min_days_since_visit,
                "min_dwell_s" => &mut f.min_dwell_s,
                "follows_brand" => &mut f.follows_brand,
                "interests_any" => &mut f.interests_any,
                "exclude_categories" => &mut f.exclude_categories,
                "exclude_skus" => &mut f.exclude_skus,
                "exclude_within_days" => &mut f.exclude_within_days,
                "max_speed_mps" => &mut f.max_speed_mps,
                "trigger" => &mut f.trigger,
                "trigger_minutes" => &mut f.trigger_minutes,
                "cap_count" => &mut f.cap_count,
                "cap_period_days" => &mut f.cap_period_days,
                "budget_total" => &mut f.budget_total,
                "budget_daily" => &mut f.budget_daily,
                "holdout_pct" => &mut f.holdout_pct,
                "code_prefix" => &mut f.code_prefix,
                "code_valid_hours" => &mut f.code_valid_hours,
                "product_skus" => &mut f.product_skus,
                "product_categories" => &mut f.product_categories,
                "sample_fence" => &mut f.sample_fence,
                "sample_temp_c" => &mut f.sample_temp_c,
                "sample_condition" => &mut f.sample_condition,
                "sample_item" => &mut f.sample_item,
                "sample_distance_m" => &mut f.sample_distance_m,
                _ => continue,
            };
            *slot = v;
        }
        (f, csrf, action)
    }

    /// An offer as the form shows it for editing.
    pub fn from_spec(s: &OfferSpec) -> Self {
        let t = &s.targeting;
        let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        let whole = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        let list = |v: &[String]| v.join(", ");
        let when = |v: Option<DateTime<Utc>>| {
            v.map(|d| d.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default()
        };
        let weather = t.weather.clone().unwrap_or_default();
        let habit = t.habit.clone().unwrap_or_default();
        let audience = t.audience.clone().unwrap_or_default();
        let exclude = t.exclude.clone().unwrap_or_default();
        let fences = t.fences.clone().unwrap_or_default();
        let cap = s.caps.per_person.as_ref();
        let product = s.product.clone().unwrap_or_default();
        Self {
            name: s.name.clone(),
            status: match s.status {
                OfferStatus::Active => "active",
                OfferStatus::Paused => "paused",
            }
            .into(),
            title: s.title.clone(),
            body: s.body.clone(),
            value: s.value.to_string(),
            valid_from: when(s.valid_from),
            valid_until: when(s.valid_until),
            fence_ids: fences.ids.iter().map(Uuid::to_string).collect(),
            fence_tags: list(&fences.tags),
            days: t
                .schedule
                .as_ref()
                .and_then(|s| s.days.as_ref())
                .map(|d| d.iter().map(|d| day_name(*d).to_string()).collect())
                .unwrap_or_default(),
            hours: t
                .schedule
                .as_ref()
                .and_then(|s| s.hours.as_ref())
                .map(|h| {
                    h.iter()
                        .map(|r| format!("{}-{}", r.from, r.to))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            min_temp_c: num(weather.min_temp_c),
            max_temp_c: num(weather.max_temp_c),
            conditions: weather.conditions.unwrap_or_default(),
            min_visits_per_week: num(habit.min_visits_per_week),
            habit_scope: match habit.scope {
                HabitScope::Fence => "fence",
                HabitScope::Brand => "brand",
            }
            .into(),
            min_days_since_visit: num(habit.min_days_since_visit),
            min_dwell_s: whole(habit.min_dwell_s.map(u64::from)),
            follows_brand: match audience.follows_brand {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }
            .into(),
            interests_any: list(&audience.interests_any.unwrap_or_default()),
            exclude_categories: list(&exclude.purchased_categories),
            exclude_skus: list(&exclude.purchased_skus),
            exclude_within_days: whole(exclude.purchased_within_days.map(u64::from)),
            max_speed_mps: num(t.max_speed_mps),
            trigger: match t.trigger {
                None | Some(Trigger::Enter) => "enter",
                Some(Trigger::Dwell { .. }) => "dwell",
                Some(Trigger::Exit { .. }) => "exit",
            }
            .into(),
            trigger_minutes: match t.trigger {
                Some(Trigger::Dwell { min_minutes: m } | Trigger::Exit { within_minutes: m }) => {
                    m.to_string()
                }
                _ => String::new(),
            },
            cap_count: whole(cap.map(|c| u64::from(c.count))),
            cap_period_days: whole(cap.and_then(|c| c.period_days).map(u64::from)),
            budget_total: whole(s.budget.total),
            budget_daily: whole(s.budget.daily),
            holdout_pct: s.holdout_pct.to_string(),
            code_prefix: s
                .redemption
                .as_ref()
                .map(|r| r.code_prefix.clone())
                .unwrap_or_default(),
            code_valid_hours: whole(s.redemption.as_ref().map(|r| u64::from(r.valid_hours))),
            product_skus: list(&product.skus),
            product_categories: list(&product.categories),
            ..Self::default()
        }
    }

    /// The form as the API's offer document; what cannot be read (a number that is not
    /// one) is named by the pointer of the field it would fill.
    pub fn to_spec(&self) -> Result<OfferSpec, Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut r = Reader { errs: &mut errs };
        let fence_ids: Vec<Uuid> = self
            .fence_ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| match id.trim().parse() {
                Ok(id) => Some(id),
                Err(_) => {
                    r.errs.push(FieldError::new(
                        format!("/targeting/fences/ids/{i}"),
                        format!("`{id}` is not a fence id"),
                    ));
                    None
                }
            })
            .collect();
        let fence_tags = words(&self.fence_tags);
        let fences = (!fence_ids.is_empty() || !fence_tags.is_empty()).then_some(FenceTargeting {
            ids: fence_ids,
            tags: fence_tags,
        });
        let days: Vec<Day> = self
            .days
            .iter()
            .filter_map(|d| match d.as_str() {
                "mon" => Some(Day::Mon),
                "tue" => Some(Day::Tue),
                "wed" => Some(Day::Wed),
                "thu" => Some(Day::Thu),
                "fri" => Some(Day::Fri),
                "sat" => Some(Day::Sat),
                "sun" => Some(Day::Sun),
                _ => None,
            })
            .collect();
        let mut hours = Vec::new();
        for (i, range) in words(&self.hours).iter().enumerate() {
            match range.split_once('-') {
                Some((from, to)) => hours.push(HourRange {
                    from: from.trim().to_string(),
                    to: to.trim().to_string(),
                }),
                None => r.errs.push(FieldError::new(
                    format!("/targeting/schedule/hours/{i}"),
                    format!("`{range}` is not a range like 11:00-19:00"),
                )),
            }
        }
        let schedule = (!days.is_empty() || !hours.is_empty()).then(|| Schedule {
            days: (!days.is_empty()).then_some(days),
            hours: (!hours.is_empty()).then_some(hours),
        });
        let min_temp_c = r.float(&self.min_temp_c, "/targeting/weather/min_temp_c");
        let max_temp_c = r.float(&self.max_temp_c, "/targeting/weather/max_temp_c");
        let conditions: Vec<String> = self
            .conditions
            .iter()
            .filter(|c| CONDITIONS.contains(&c.as_str()))
            .cloned()
            .collect();
        let weather = (min_temp_c.is_some() || max_temp_c.is_some() || !conditions.is_empty())
            .then(|| WeatherRule {
                min_temp_c,
                max_temp_c,
                conditions: (!conditions.is_empty()).then_some(conditions),
            });
        let min_visits_per_week = r.float(
            &self.min_visits_per_week,
            "/targeting/habit/min_visits_per_week",
        );
        let min_days_since_visit = r.float(
            &self.min_days_since_visit,
            "/targeting/habit/min_days_since_visit",
        );
        let min_dwell_s = r.whole(&self.min_dwell_s, "/targeting/habit/min_dwell_s");
        let habit = (min_visits_per_week.is_some()
            || min_days_since_visit.is_some()
            || min_dwell_s.is_some())
        .then(|| HabitRule {
            min_visits_per_week,
            scope: if self.habit_scope == "brand" {
                HabitScope::Brand
            } else {
                HabitScope::Fence
            },
            min_days_since_visit,
            min_dwell_s: min_dwell_s.map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
        });
        let follows_brand = match self.follows_brand.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        };
        let interests = words(&self.interests_any);
        let audience = (follows_brand.is_some() || !interests.is_empty()).then(|| Audience {
            follows_brand,
            interests_any: (!interests.is_empty()).then_some(interests),
        });
        let purchased_categories = words(&self.exclude_categories);
        let purchased_skus = words(&self.exclude_skus);
        let within = r.whole(
            &self.exclude_within_days,
            "/targeting/exclude/purchased_within_days",
        );
        let exclude =
            (!purchased_categories.is_empty() || !purchased_skus.is_empty() || within.is_some())
                .then(|| Exclude {
                    purchased_categories,
                    purchased_skus,
                    purchased_within_days: within.map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
                });
        let max_speed_mps = r.float(&self.max_speed_mps, "/targeting/max_speed_mps");
        let trigger = self.trigger_spec(&mut r);
        let cap_count = r.whole(&self.cap_count, "/caps/per_person/count");
        let cap_period = r.whole(&self.cap_period_days, "/caps/per_person/period_days");
        if cap_count.is_none() && cap_period.is_some() {
            r.errs.push(FieldError::new(
                "/caps/per_person/count",
                "say how many deliveries the period allows",
            ));
        }
        let per_person = cap_count.map(|count| PerPersonCap {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            period_days: cap_period.map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
        });
        let budget = Budget {
            total: r.whole(&self.budget_total, "/budget/total"),
            daily: r.whole(&self.budget_daily, "/budget/daily"),
        };
        let code_hours = r.whole(&self.code_valid_hours, "/redemption/valid_hours");
        let code_prefix = self.code_prefix.trim();
        let redemption = match (code_prefix.is_empty(), code_hours) {
            (true, None) => None,
            (false, Some(h)) => Some(Redemption {
                code_prefix: code_prefix.to_string(),
                valid_hours: u32::try_from(h).unwrap_or(u32::MAX),
            }),
            (true, Some(_)) => {
                r.errs.push(FieldError::new(
                    "/redemption/code_prefix",
                    "give the code a prefix, or clear the hours",
                ));
                None
            }
            (false, None) => {
                r.errs.push(FieldError::new(
                    "/redemption/valid_hours",
                    "say how many hours a code stays valid",
                ));
                None
            }
        };
        let skus = words(&self.product_skus);
        let categories = words(&self.product_categories);
        let product =
            (!skus.is_empty() || !categories.is_empty()).then_some(Product { skus, categories });
        let value = r.float(&self.value, "/value").unwrap_or(1.0);
        let holdout_pct = r.float(&self.holdout_pct, "/holdout_pct").unwrap_or(0.0);
        let valid_from = r.time(&self.valid_from, "/valid_from");
        let valid_until = r.time(&self.valid_until, "/valid_until");
        let status = if self.status == "paused" {
            OfferStatus::Paused
        } else {
            OfferStatus::Active
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(OfferSpec {
            name: self.name.trim().to_string(),
            status,
            title: self.title.clone(),
            body: self.body.clone(),
            value,
            valid_from,
            valid_until,
            targeting: Targeting {
                fences,
                schedule,
                weather,
                habit,
                audience,
                exclude,
                trigger,
                max_speed_mps,
            },
            caps: OfferCaps { per_person },
            budget,
            holdout_pct,
            redemption,
            product,
        })
    }
}

impl OfferForm {
    /// The trigger as the form names it; a dwell or exit needs its minutes.
    fn trigger_spec(&self, r: &mut Reader) -> Option<Trigger> {
        let pointer = match self.trigger.as_str() {
            "dwell" => "/targeting/trigger/min_minutes",
            "exit" => "/targeting/trigger/within_minutes",
            _ => return None,
        };
        let minutes = r.whole(&self.trigger_minutes, pointer);
        let Some(m) = minutes else {
            if self.trigger_minutes.trim().is_empty() {
                r.errs.push(FieldError::new(
                    pointer,
                    String::from("say how many minutes"),
                ));
            }
            return None;
        };
        let m = u32::try_from(m).unwrap_or(u32::MAX);
        Some(if self.trigger == "dwell" {
            Trigger::Dwell { min_minutes: m }
        } else {
            Trigger::Exit { within_minutes: m }
        })
    }
}

/// Reads numbers and times out of form fields, naming what is not one.
struct Reader<'a> {
    errs: &'a mut Vec<FieldError>,
}

impl Reader<'_> {
    fn float(&mut self, s: &str, pointer: &str) -> Option<f64> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match s.replace(',', ".").parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                self.errs
                    .push(FieldError::new(pointer, format!("`{s}` is not a number")));
                None
            }
        }
    }

    fn whole(&mut self, s: &str, pointer: &str) -> Option<u64> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        match s.parse::<u64>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.errs.push(FieldError::new(
                    pointer,
                    format!("`{s}` is not a whole number"),
                ));
                None
            }
        }
    }

    fn time(&mut self, s: &str, pointer: &str) -> Option<DateTime<Utc>> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let parsed = DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                    .map(|n| n.and_utc())
            });
        if parsed.is_none() {
            self.errs.push(FieldError::new(
                pointer,
                format!("`{s}` is not a date and time like 2026-07-14T09:00 (UTC)"),
            ));
        }
        parsed
    }
}

/// Items separated by commas (or, for single words, spaces), trimmed, empties dropped.
fn words(s: &str) -> Vec<String> {
    s.split(',')
        .flat_map(|part| {
            let part = part.trim();
            // `11:00-19:00 22:00-23:00` or `a b`: spaces separate too.
            part.split_whitespace().map(str::to_string)
        })
        .filter(|w| !w.is_empty())
        .collect()
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

/// Which form field shows a service error's JSON pointer (`form`: the top of the form).
pub fn field_of(pointer: &str) -> &'static str {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["name", ..] => "name",
        ["status", ..] => "status",
        ["title", ..] => "title",
        ["body", ..] => "body",
        ["value", ..] => "value",
        ["valid_from", ..] => "valid_from",
        ["valid_until", ..] => "valid_until",
        ["holdout_pct", ..] => "holdout_pct",
        ["targeting", "fences", "ids", ..] => "fence_ids",
        ["targeting", "fences", "tags", ..] => "fence_tags",
        ["targeting", "fences", ..] => "fences",
        ["targeting", "schedule", "days", ..] => "days",
        ["targeting", "schedule", ..] => "hours",
        ["targeting", "weather", "min_temp_c", ..] => "min_temp_c",
        ["targeting", "weather", "max_temp_c", ..] => "max_temp_c",
        ["targeting", "weather", ..] => "conditions",
        ["targeting", "habit", "min_visits_per_week", ..] => "min_visits_per_week",
        ["targeting", "habit", "min_days_since_visit", ..] => "min_days_since_visit",
        ["targeting", "habit", "min_dwell_s", ..] => "min_dwell_s",
        ["targeting", "habit", ..] => "habit_scope",
        ["targeting", "audience", "interests_any", ..] => "interests_any",
        ["targeting", "audience", ..] => "follows_brand",
        ["targeting", "exclude", "purchased_skus", ..] => "exclude_skus",
        ["targeting", "exclude", "purchased_within_days", ..] => "exclude_within_days",
        ["targeting", "exclude", ..] => "exclude_categories",
        ["targeting", "max_speed_mps", ..] => "max_speed_mps",
        ["targeting", "trigger", _, ..] => "trigger_minutes",
        ["targeting", "trigger", ..] => "trigger",
        ["caps", "per_person", "period_days", ..] => "cap_period_days",
        ["caps", ..] => "cap_count",
        ["budget", "daily", ..] => "budget_daily",
        ["budget", ..] => "budget_total",
        ["redemption", "valid_hours", ..] => "code_valid_hours",
        ["redemption", ..] => "code_prefix",
        ["product", "categories", ..] => "product_categories",
        ["product", ..] => "product_skus",
        _ => "form",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_land_on_their_fields() {
        assert_eq!(field_of("/targeting/weather/min_temp_c"), "min_temp_c");
        assert_eq!(field_of("/targeting/fences/ids/2"), "fence_ids");
        assert_eq!(field_of("/targeting/schedule/hours/0/from"), "hours");
        assert_eq!(field_of("/caps/per_person/count"), "cap_count");
        assert_eq!(field_of("/body"), "body");
        assert_eq!(field_of(""), "form");
    }

    #[test]
    fn a_filled_form_round_trips_through_the_spec() {
        let mut f = OfferForm {
            name: "Hot days".into(),
            title: "Cold {{ fence.name }}".into(),
            body: "It's {{ weather.temp_c }}".into(),
            fence_tags: "corner-store".into(),
            days: vec!["mon".into(), "fri".into()],
            hours: "11:00-19:00, 22:00-02:00".into(),
            min_temp_c: "28".into(),
            conditions: vec!["clear".into()],
            follows_brand: "yes".into(),
            cap_count: "1".into(),
            cap_period_days: "30".into(),
            budget_total: "1000".into(),
            code_prefix: "CHILL".into(),
            code_valid_hours: "4".into(),
            holdout_pct: "10".into(),
            ..OfferForm::default()
        };
        let spec = f.to_spec().unwrap();
        assert_eq!(crate::offers::validate_offer(&spec), vec![]);
        let back = OfferForm::from_spec(&spec);
        f.value = back.value.clone();
        assert_eq!(back.to_spec().unwrap(), spec);
        assert_eq!(back.hours, "11:00-19:00, 22:00-02:00");
    }

    #[test]
    fn a_word_for_a_number_is_named_at_its_field() {
        let f = OfferForm {
            min_temp_c: "hot".into(),
            ..OfferForm::default()
        };
        let errs = f.to_spec().unwrap_err();
        assert_eq!(errs[0].pointer, "/targeting/weather/min_temp_c");
    }
}
