//! Weather context for offer decisions.
//!
//! The decision path asks one question, "what is the weather at this point right
//! now?", and must get an answer in milliseconds whatever the upstream does. So
//! every provider answers with a [`WeatherLookup`]: either [`WeatherLookup::Known`]
//! or [`WeatherLookup::Unknown`] with a short machine-readable reason that ends up
//! in the decision trace. Providers never return errors and never panic on bad
//! upstream data: "unknown weather" is a normal input for the decision rules.
//!
//! Implementations:
//! - [`OpenMeteo`]: live Open-Meteo API behind a per-cell cache, single-flight,
//!   a per-call time budget and a circuit breaker.
//! - [`RecordedWeather`]: recorded Open-Meteo answers for offline demo runs.
//! - [`FixedWeather`]: one given answer, for test decisions ("Try it").
//! - [`SeasonalWeather`]: a seeded seasonal climate, for simulations (`geoffer simulate`).
//!
//! [`LoggedWeather`] wraps any of them and keeps the per-cell, per-hour [`WeatherLog`] that
//! backtests read.

mod breaker;
mod cache;
mod condition;
mod config;
mod fixed;
mod grid;
mod log;
mod open_meteo;
mod recorded;
mod seasonal;
mod stats;
mod upstream;
mod wire;

use chrono::{DateTime, Utc};

pub use breaker::BreakerState;
pub use condition::Condition;
pub use config::{
    DEFAULT_BASE_URL, ENV_BASE_URL, ENV_BUDGET_MS, ENV_TTL_SECS, OpenMeteoConfig, OpenMeteoError,
};
pub use fixed::FixedWeather;
pub use grid::GridCell;
pub use log::{LoggedWeather, WeatherLog, WeatherLogEntry, hour_of, logged_weather};
pub use open_meteo::OpenMeteo;
pub use recorded::{RecordedError, RecordedWeather};
pub use seasonal::{Climate, SeasonalWeather};
pub use stats::WeatherStats;

/// Current conditions at one place, as the decision rules consume them.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Weather {
    /// Air temperature 2 m above ground, °C.
    pub temp_c: f64,
    /// Apparent ("feels like") temperature, °C; falls back to `temp_c` when the
    /// upstream omits it, because a hot-day rule is better fed the air
    /// temperature than nothing.
    pub feels_like_c: f64,
    /// Precipitation over the preceding interval, mm.
    pub precipitation_mm: f64,
    /// Coarse sky/precipitation family derived from the WMO weather code.
    pub condition: Condition,
    /// Whether the sun is up at the place (Open-Meteo's `is_day`).
    pub is_day: bool,
    /// When the upstream observed/modelled these values; `None` when the
    /// upstream time could not be read (the values are still usable).
    pub observed_at: Option<DateTime<Utc>>,
}

/// What the decision sees: the weather, or why it is not known.
///
/// `reason` is one of the constants in [`reason`] so that traces and metrics
/// can group on it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum WeatherLookup {
    /// The weather is known.
    Known(Weather),
    /// The weather is not known; `reason` says why (for the decision trace).
    Unknown {
        /// Short kebab-case cause, e.g. `"timeout"` or `"circuit-open"`.
        reason: String,
    },
}

impl WeatherLookup {
    /// Builds an `Unknown` answer; a helper so call sites stay one-liners.
    pub fn unknown(reason: impl Into<String>) -> Self {
        WeatherLookup::Unknown {
            reason: reason.into(),
        }
    }

    /// The weather, when known.
    pub fn known(&self) -> Option<&Weather> {
        match self {
            WeatherLookup::Known(w) => Some(w),
            WeatherLookup::Unknown { .. } => None,
        }
    }

    /// The reason, when unknown.
    pub fn reason(&self) -> Option<&str> {
        match self {
            WeatherLookup::Known(_) => None,
            WeatherLookup::Unknown { reason } => Some(reason),
        }
    }

    /// True when the weather is known.
    pub fn is_known(&self) -> bool {
        matches!(self, WeatherLookup::Known(_))
    }
}

/// The reasons a lookup can be [`WeatherLookup::Unknown`], as constants so the
/// decision code, tests and dashboards spell them the same way.
pub mod reason {
    /// The per-call budget ran out before the upstream answered.
    pub const TIMEOUT: &str = "timeout";
    /// The upstream was unreachable or answered with a non-2xx status.
    pub const UPSTREAM_ERROR: &str = "upstream-error";
    /// The upstream answered 2xx but the body was not usable weather.
    pub const BAD_RESPONSE: &str = "bad-response";
    /// The circuit breaker is open: no network call was attempted.
    pub const CIRCUIT_OPEN: &str = "circuit-open";
    /// Latitude/longitude were not finite or out of range.
    pub const INVALID_COORDINATES: &str = "invalid-coordinates";
    /// Recorded weather has no recording close enough to the point.
    pub const NO_RECORDING: &str = "no-recording";
}

/// A source of current weather for the decision path.
///
/// Implementations must answer quickly (the caller does not add its own
/// timeout) and must turn every failure into [`WeatherLookup::Unknown`].
#[async_trait::async_trait]
pub trait WeatherProvider: Send + Sync + 'static {
    /// Current weather at `lat`/`lon` (WGS84 degrees).
    async fn current(&self, lat: f64, lon: f64) -> WeatherLookup;

    /// Short provider name for logs and the decision trace.
    fn name(&self) -> &'static str;

    /// Counters for metrics export; providers without counters report zeros,
    /// so the service can export stats from any `dyn WeatherProvider`.
    fn stats(&self) -> WeatherStats {
        WeatherStats::default()
    }
}

/// True when `lat`/`lon` are finite WGS84 degrees; shared by the providers so
/// they reject the same inputs.
pub(crate) fn valid_coordinates(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_helpers_expose_weather_or_reason() {
        let w = Weather {
            temp_c: 20.0,
            feels_like_c: 19.0,
            precipitation_mm: 0.0,
            condition: Condition::Clear,
            is_day: true,
            observed_at: None,
        };
        let known = WeatherLookup::Known(w.clone());
        assert_eq!(known.known(), Some(&w));
        assert_eq!(known.reason(), None);
        assert!(known.is_known());
        let unknown = WeatherLookup::unknown(reason::TIMEOUT);
        assert_eq!(unknown.reason(), Some("timeout"));
        assert!(!unknown.is_known());
    }

    #[test]
    fn coordinates_outside_wgs84_or_not_finite_are_invalid() {
        assert!(valid_coordinates(52.52, 13.40));
        assert!(valid_coordinates(-90.0, 180.0));
        assert!(!valid_coordinates(90.1, 0.0));
        assert!(!valid_coordinates(0.0, -180.5));
        assert!(!valid_coordinates(f64::NAN, 0.0));
        assert!(!valid_coordinates(0.0, f64::INFINITY));
    }
}
