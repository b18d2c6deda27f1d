//! A row of the per-cell, per-hour weather log, as the store keeps it: plain values, so the
//! store and the weather module (neither may import the other) share it. `weather::log`
//! builds it from a `Weather` and reads it back (docs/weather.md, "The weather log").

use chrono::{DateTime, Utc};

/// One grid cell's conditions in one UTC hour, as the weather rules read them.
#[derive(Debug, Clone, PartialEq)]
pub struct WeatherLogEntry {
    /// The start of the UTC hour.
    pub hour: DateTime<Utc>,
    /// The ~5 km grid cell's row (`weather::GridCell::row`).
    pub cell_row: i32,
    /// The cell's column in its row (`weather::GridCell::col`).
    pub cell_col: i32,
    /// Air temperature, °C.
    pub temp_c: f64,
    /// Apparent temperature, °C.
    pub feels_like_c: f64,
    /// Precipitation, mm.
    pub precipitation_mm: f64,
    /// Sky and precipitation family (`weather::Condition::as_str`).
    pub condition: String,
    /// Sun up.
    pub is_day: bool,
}
