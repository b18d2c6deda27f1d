//! Open-Meteo's JSON wire format and its conversion to [`Weather`].
//!
//! Shared by the live client and the recorded-weather provider so a recording
//! is read exactly like a live answer.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::{Condition, Weather};

/// Why an Open-Meteo body could not be turned into weather.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// The body is not JSON of the expected shape.
    #[error("malformed body: {0}")]
    Json(#[from] serde_json::Error),
    /// A value the decision cannot do without is null or absent.
    #[error("missing or non-finite `current.{0}`")]
    Missing(&'static str),
    /// `weather_code` is outside the codes Open-Meteo documents.
    #[error("unmapped WMO weather code {0}")]
    UnknownCode(f64),
}

/// The parts of `GET /v1/forecast?current=...` this service reads.
#[derive(Debug, Deserialize)]
pub(crate) struct ForecastResponse {
    /// Offset of `current.time` from UTC; 0 for the default GMT time zone.
    #[serde(default)]
    pub(crate) utc_offset_seconds: Option<i64>,
    /// The `current` block requested with `current=...`.
    pub(crate) current: CurrentBlock,
}

/// Open-Meteo's `current` block. Every value is optional on the wire because
/// Open-Meteo sends `null` for values its models lack at a point.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CurrentBlock {
    #[serde(default)]
    time: Option<WireTime>,
    #[serde(default)]
    temperature_2m: Option<f64>,
    #[serde(default)]
    apparent_temperature: Option<f64>,
    #[serde(default)]
    precipitation: Option<f64>,
    /// A float on the wire type so `1.0` is accepted; must be integral.
    #[serde(default)]
    weather_code: Option<f64>,
    #[serde(default)]
    is_day: Option<f64>,
}

/// `time` is ISO 8601 without offset by default, or seconds since the epoch
/// when `timeformat=unixtime` is used.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum WireTime {
    Unix(i64),
    Text(String),
}

/// Parses a full forecast body into weather.
pub(crate) fn parse_forecast(body: &[u8]) -> Result<Weather, WireError> {
    let response: ForecastResponse = serde_json::from_slice(body)?;
    response
        .current
        .to_weather(response.utc_offset_seconds.unwrap_or(0))
}

impl CurrentBlock {
    /// Converts to [`Weather`]; `utc_offset_seconds` is the response's offset
    /// of `time` from UTC.
    ///
    /// Temperature and weather code are required (the rules key on them).
    /// Apparent temperature falls back to the air temperature, precipitation
    /// to 0, `is_day` to true, and an unreadable time to `None`: a usable
    /// answer with a documented fallback beats an unknown one.
    pub(crate) fn to_weather(&self, utc_offset_seconds: i64) -> Result<Weather, WireError> {
        let temp_c = finite(self.temperature_2m).ok_or(WireError::Missing("temperature_2m"))?;
        let code = finite(self.weather_code).ok_or(WireError::Missing("weather_code"))?;
        let condition = wmo_condition(code).ok_or(WireError::UnknownCode(code))?;
        Ok(Weather {
            temp_c,
            feels_like_c: finite(self.apparent_temperature).unwrap_or(temp_c),
            precipitation_mm: finite(self.precipitation).unwrap_or(0.0).max(0.0),
            condition,
            is_day: finite(self.is_day).is_none_or(|v| v != 0.0),
            observed_at: self
                .time
                .as_ref()
                .and_then(|t| t.to_utc(utc_offset_seconds)),
        })
    }
}

impl WireTime {
    fn to_utc(&self, utc_offset_seconds: i64) -> Option<DateTime<Utc>> {
        match self {
            WireTime::Unix(secs) => DateTime::from_timestamp(*secs, 0),
            WireTime::Text(s) => {
                if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
                    return Some(dt.with_timezone(&Utc));
                }
                let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                    .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
                    .ok()?;
                let utc = local
                    .checked_sub_signed(chrono::TimeDelta::try_seconds(utc_offset_seconds)?)?;
                Some(utc.and_utc())
            }
        }
    }
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

fn wmo_condition(code: f64) -> Option<Condition> {
    if code.fract() != 0.0 || !(0.0..=f64::from(u16::MAX)).contains(&code) {
        return None;
    }
    Condition::from_wmo(code as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const REAL: &str = r#"{"latitude":52.52,"longitude":13.419998,"generationtime_ms":0.05,
        "utc_offset_seconds":0,"timezone":"GMT","timezone_abbreviation":"GMT","elevation":38.0,
        "current_units":{"time":"iso8601","interval":"seconds","temperature_2m":"°C",
        "apparent_temperature":"°C","precipitation":"mm","weather_code":"wmo code","is_day":""},
        "current":{"time":"2026-07-14T15:00","interval":900,"temperature_2m":31.2,
        "apparent_temperature":33.0,"precipitation":0.0,"weather_code":1,"is_day":1}}"#;

    #[test]
    fn a_real_open_meteo_answer_is_mapped_field_by_field() {
        let w = parse_forecast(REAL.as_bytes()).unwrap();
        assert_eq!(w.temp_c, 31.2);
        assert_eq!(w.feels_like_c, 33.0);
        assert_eq!(w.precipitation_mm, 0.0);
        assert_eq!(w.condition, Condition::Clear);
        assert!(w.is_day);
        assert_eq!(
            w.observed_at,
            Some(Utc.with_ymd_and_hms(2026, 7, 14, 15, 0, 0).unwrap())
        );
    }

    #[test]
    fn local_time_is_converted_to_utc_with_the_response_offset() {
        let body = r#"{"utc_offset_seconds":7200,"current":{"time":"2026-07-14T17:15",
            "temperature_2m":20,"weather_code":3,"is_day":0}}"#;
        let w = parse_forecast(body.as_bytes()).unwrap();
        assert_eq!(
            w.observed_at,
            Some(Utc.with_ymd_and_hms(2026, 7, 14, 15, 15, 0).unwrap())
        );
        assert!(!w.is_day);
        assert_eq!(w.condition, Condition::Cloudy);
    }

    #[test]
    fn optional_values_fall_back_and_bad_times_become_none() {
        let body = r#"{"current":{"time":"yesterday","temperature_2m":-3.5,
            "apparent_temperature":null,"weather_code":73.0}}"#;
        let w = parse_forecast(body.as_bytes()).unwrap();
        assert_eq!(w.feels_like_c, -3.5);
        assert_eq!(w.precipitation_mm, 0.0);
        assert_eq!(w.condition, Condition::Snow);
        assert!(w.is_day);
        assert_eq!(w.observed_at, None);
    }

    #[test]
    fn unusable_bodies_are_errors_not_panics() {
        for body in [
            "",
            "<html>oops</html>",
            "{}",
            r#"{"current":null}"#,
            r#"{"current":{"temperature_2m":"hot","weather_code":1}}"#,
            r#"{"current":{"temperature_2m":null,"weather_code":1}}"#,
            r#"{"current":{"temperature_2m":20.0}}"#,
            r#"{"current":{"temperature_2m":20.0,"weather_code":4}}"#,
            r#"{"current":{"temperature_2m":20.0,"weather_code":1.5}}"#,
            r#"{"current":{"temperature_2m":20.0,"weather_code":-1}}"#,
        ] {
            assert!(parse_forecast(body.as_bytes()).is_err(), "{body}");
        }
    }
}
