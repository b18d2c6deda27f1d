//! An offer's targeting: which fences, when, in what weather, for whose habits and
//! audience, and whom it excludes. Each block is optional; an absent block does not
//! constrain.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Targeting rules; an absent block does not constrain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Targeting {
    /// Which of the brand's fences (by id or tag); absent: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fences: Option<FenceTargeting>,
    /// Days and local hours at the fence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// Weather at the spot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weather: Option<WeatherRule>,
    /// The person's habits at the fence or brand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub habit: Option<HabitRule>,
    /// Who the person is: follows, interests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// Purchases that rule the person out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Exclude>,
    /// When in a visit the offer fires: `enter` (absent: any check-in inside, as before),
    /// `dwell` after `min_minutes` in the fence, or `exit` within `within_minutes` after
    /// leaving a fence the offer targets (docs/visits.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// Faster than this (m/s) is "in motion"; default 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100)]
    pub max_speed_mps: Option<f64>,
}

/// When in a visit an offer fires. Other keys beside `type` and the variant's minutes are
/// ignored: the OpenAPI generator cannot mark a tagged variant closed, and the contract must
/// accept what its schema allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Trigger {
    /// Any check-in inside a targeted fence (the default).
    Enter,
    /// Once the person's visit to the fence has lasted `min_minutes`.
    Dwell {
        /// Minutes in the fence, 1 to 1440.
        #[serde(deserialize_with = "crate::domain::whole::required")]
        #[schema(minimum = 1, maximum = 1440)]
        min_minutes: u32,
    },
    /// At a check-in inside one of the brand's fences within `within_minutes` after the
    /// person left a fence the offer targets.
    Exit {
        /// Minutes since the exit, 1 to 120.
        #[serde(deserialize_with = "crate::domain::whole::required")]
        #[schema(minimum = 1, maximum = 120)]
        within_minutes: u32,
    },
}

/// Fence selection by id or tag (either matches); name at least one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FenceTargeting {
    /// Fence ids of this brand.
    #[serde(default)]
    pub ids: Vec<Uuid>,
    /// Fence tags.
    #[serde(default)]
    #[schema(schema_with = crate::domain::schemas::tags)]
    pub tags: Vec<String>,
}

/// Day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// Local days and hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Days it runs; absent: every day.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub days: Option<Vec<Day>>,
    /// Local time ranges; absent: all day. `from` after `to` wraps past midnight.
    #[serde(default)]
    pub hours: Option<Vec<HourRange>>,
}

/// `from` (inclusive) to `to` (exclusive), local `HH:MM`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HourRange {
    /// Start, `HH:MM`.
    #[schema(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
    pub from: String,
    /// End, `HH:MM` (`24:00` allowed); differs from `from`.
    #[schema(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
    pub to: String,
}

/// Weather rule; unknown weather never passes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeatherRule {
    /// At least this temperature (°C).
    #[serde(default)]
    #[schema(minimum = -60, maximum = 60)]
    pub min_temp_c: Option<f64>,
    /// At most this temperature (°C); not below `min_temp_c`.
    #[serde(default)]
    #[schema(minimum = -60, maximum = 60)]
    pub max_temp_c: Option<f64>,
    /// One of these conditions.
    #[serde(default)]
    #[schema(schema_with = conditions_or_null)]
    pub conditions: Option<Vec<String>>,
}

/// Where habits are counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HabitScope {
    /// Visits to the matched fence.
    #[default]
    Fence,
    /// Visits to any of the brand's fences.
    Brand,
}

/// Habit rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HabitRule {
    /// Visits per week over the last 28 days, at least.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub min_visits_per_week: Option<f64>,
    /// Fence or brand.
    #[serde(default)]
    pub scope: HabitScope,
    /// Lapsed regulars: at least this many days since the previous visit.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 56)]
    pub min_days_since_visit: Option<f64>,
    /// Current visit has lasted at least this long (seconds).
    #[serde(default, deserialize_with = "crate::domain::whole::optional")]
    #[schema(minimum = 0, maximum = 86400)]
    pub min_dwell_s: Option<u32>,
}

/// Audience rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Must (true) or must not (false) follow the brand.
    #[serde(default)]
    pub follows_brand: Option<bool>,
    /// Has stated at least one of these interests.
    #[serde(default)]
    #[schema(schema_with = crate::domain::schemas::tags_or_null)]
    pub interests_any: Option<Vec<String>>,
}

/// Exclusions by purchase history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exclude {
    /// Bought something in these categories…
    #[serde(default)]
    pub purchased_categories: Vec<String>,
    /// …or these SKUs…
    #[serde(default)]
    pub purchased_skus: Vec<String>,
    /// …within this many days (default 30).
    #[serde(default, deserialize_with = "crate::domain::whole::optional")]
    #[schema(minimum = 1, maximum = 365)]
    pub purchased_within_days: Option<u32>,
}

/// A list of weather conditions ([`CONDITIONS`](super::validate::CONDITIONS)), or `null`.
fn conditions_or_null() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::domain::schemas::list(
        crate::domain::schemas::one_of(super::validate::CONDITIONS.iter().copied()),
        true,
    )
}
