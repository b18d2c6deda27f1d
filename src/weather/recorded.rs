//! Recorded weather for offline demo runs.
//!
//! Demos and load tests must not depend on the network or on today's sky, so
//! they replay Open-Meteo answers recorded earlier. Each point gets the
//! recording nearest to it, provided it is within `max_distance_km`.
//!
//! About 300 lines, 65 of them tests.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::wire::CurrentBlock;
use super::{Weather, WeatherLookup, WeatherProvider, reason, valid_coordinates};

/// Default reach of a recording: about a metro area.
const DEFAULT_MAX_DISTANCE_KM: f64 = 50.0;

/// Why recordings could not be loaded. Loading happens at start-up, so it
/// fails loudly instead of silently serving "no-recording" everywhere.
#[derive(Debug, thiserror::Error)]
pub enum RecordedError {
    /// A file or the directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A recording is not JSON of the expected shape.
    #[error("cannot parse recording {origin}: {source}")]
    Parse {
        /// File name, or `"<string>"` for [`RecordedWeather::from_json_str`].
        origin: String,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A recording parsed but lacks a location or usable weather.
    #[error("invalid recording {origin}: {reason}")]
    Invalid {
        /// File name, or `"<string>"`.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No recording was found at all (an empty directory is a misconfiguration).
    #[error("no recordings in {origin}")]
    Empty {
        /// The directory, or `"<string>"`.
        origin: String,
    },
}

/// One recording on disk: a raw Open-Meteo response (whose top-level
/// `latitude`/`longitude` are Open-Meteo's grid point), optionally with an
/// added `location` naming the place it was recorded for, which wins.
#[derive(Debug, Deserialize)]
struct RecordingFile {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    utc_offset_seconds: Option<i64>,
    current: CurrentBlock,
}

#[derive(Debug, Deserialize)]
struct Location {
    #[serde(alias = "lat")]
    latitude: f64,
    #[serde(alias = "lon", alias = "lng")]
    longitude: f64,
}

/// A file holds one recording or an array of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<RecordingFile>),
    One(Box<RecordingFile>),
}

#[derive(Clone, Debug)]
struct Recording {
    lat: f64,
    lon: f64,
    weather: Weather,
}

/// Provider answering from recorded Open-Meteo responses (nearest recording
/// within `max_distance_km`, else Unknown `"no-recording"`).
///
/// The answer keeps the recording's `observed_at`, so a trace shows that the
/// weather is replayed, not live.
#[derive(Clone, Debug)]
pub struct RecordedWeather {
    recordings: Vec<Recording>,
    max_distance_km: f64,
}

impl RecordedWeather {
    /// Loads every `*.json` file in `dir` (not recursive, sorted by name).
    /// Each file holds one recording or an array of recordings.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, RecordedError> {
        let dir = dir.as_ref();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RecordedError::Io { path, source }
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if path.is_file()
                && path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                files.push(path);
            }
        }
        files.sort();
        let mut recordings = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).map_err(io(path))?;
            recordings.extend(parse_recordings(&text, &path.display().to_string())?);
        }
        Self::from_recordings(recordings, &dir.display().to_string())
    }

    /// Parses recordings from a JSON string: one recording object or an array.
    pub fn from_json_str(json: &str) -> Result<Self, RecordedError> {
        let recordings = parse_recordings(json, "<string>")?;
        Self::from_recordings(recordings, "<string>")
    }

    /// Changes how far (km) a recording reaches; default 50 km.
    pub fn with_max_distance_km(mut self, km: f64) -> Self {
        self.max_distance_km = km;
        self
    }

    /// Number of recordings loaded.
    pub fn len(&self) -> usize {
        self.recordings.len()
    }

    /// True when no recording is loaded (never after a successful load).
    pub fn is_empty(&self) -> bool {
        self.recordings.is_empty()
    }

    fn from_recordings(recordings: Vec<Recording>, origin: &str) -> Result<Self, RecordedError> {
        if recordings.is_empty() {
            return Err(RecordedError::Empty {
                origin: origin.to_string(),
            });
        }
        Ok(RecordedWeather {
            recordings,
            max_distance_km: DEFAULT_MAX_DISTANCE_KM,
        })
    }

    /// The nearest recording's answer; a linear scan, since demo sets hold
    /// tens of recordings, not thousands.
    fn nearest(&self, lat: f64, lon: f64) -> WeatherLookup {
        let best = self
            .recordings
            .iter()
            .map(|r| (haversine_km(lat, lon, r.lat, r.lon), r))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((km, r)) if km <= self.max_distance_km => WeatherLookup::Known(r.weather.clone()),
            _ => WeatherLookup::unknown(reason::NO_RECORDING),
        }
    }
}

#[async_trait::async_trait]
impl WeatherProvider for RecordedWeather {
    async fn current(&self, lat: f64, lon: f64) -> WeatherLookup {
        if !valid_coordinates(lat, lon) {
            return WeatherLookup::unknown(reason::INVALID_COORDINATES);
        }
        self.nearest(lat, lon)
    }

    fn name(&self) -> &'static str {
        "recorded"
    }
}

fn parse_recordings(json: &str, origin: &str) -> Result<Vec<Recording>, RecordedError> {
    let parsed: OneOrMany = serde_json::from_str(json).map_err(|source| RecordedError::Parse {
        origin: origin.to_string(),
        source,
    })?;
    let files = match parsed {
        OneOrMany::Many(files) => files,
        OneOrMany::One(file) => vec![*file],
    };
    files.into_iter().map(|f| to_recording(f, origin)).collect()
}

fn to_recording(file: RecordingFile, origin: &str) -> Result<Recording, RecordedError> {
    let invalid = |reason: String| RecordedError::Invalid {
        origin: origin.to_string(),
        reason,
    };
    let (lat, lon) = match (&file.location, file.latitude, file.longitude) {
        (Some(loc), _, _) => (loc.latitude, loc.longitude),
        (None, Some(lat), Some(lon)) => (lat, lon),
        _ => return Err(invalid("no location and no latitude/longitude".into())),
    };
    if !valid_coordinates(lat, lon) {
        return Err(invalid(format!("coordinates out of range: {lat}, {lon}")));
    }
    let weather = file
        .current
        .to_weather(file.utc_offset_seconds.unwrap_or(0))
        .map_err(|e| invalid(e.to_string()))?;
    Ok(Recording { lat, lon, weather })
}

/// Great-circle distance in km (mean Earth radius), accurate to well under
/// a percent at the distances that matter here.
pub(crate) fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather::Condition;

    const TWO_CITIES: &str = r#"[
        {"latitude": 52.52, "longitude": 13.41,
         "current": {"time": "2026-07-14T15:00", "temperature_2m": 31.2,
                     "apparent_temperature": 33.0, "precipitation": 0.0,
                     "weather_code": 1, "is_day": 1}},
        {"latitude": 48.14, "longitude": 11.58, "location": {"lat": 48.137, "lon": 11.575},
         "current": {"time": "2026-07-14T15:00", "temperature_2m": 18.0,
                     "precipitation": 2.4, "weather_code": 63, "is_day": 1}}
    ]"#;

    #[test]
    fn haversine_matches_a_known_distance() {
        let km = haversine_km(52.52, 13.405, 48.137, 11.575); // Berlin - Munich
        assert!((km - 504.0).abs() < 5.0, "{km}");
        assert_eq!(haversine_km(1.0, 2.0, 1.0, 2.0), 0.0);
    }

    #[tokio::test]
    async fn each_point_gets_the_nearest_recording_within_reach() {
        let rec = RecordedWeather::from_json_str(TWO_CITIES).unwrap();
        assert_eq!(rec.len(), 2);
        let berlin = rec.current(52.40, 13.10).await;
        assert_eq!(berlin.known().unwrap().temp_c, 31.2);
        let munich = rec.current(48.2, 11.6).await;
        assert_eq!(munich.known().unwrap().condition, Condition::Rain);
        let paris = rec.current(48.85, 2.35).await;
        assert_eq!(paris.reason(), Some(reason::NO_RECORDING));
        let far = rec.with_max_distance_km(2000.0).current(48.85, 2.35).await;
        assert!(far.is_known());
    }

    #[test]
    fn a_single_object_is_one_recording() {
        let one = r#"{"location": {"latitude": 1.0, "longitude": 2.0},
                      "current": {"temperature_2m": 25, "weather_code": 95}}"#;
        assert_eq!(RecordedWeather::from_json_str(one).unwrap().len(), 1);
    }

    #[test]
    fn broken_or_empty_recordings_fail_at_load_time() {
        let cases = [
            ("[]", "Empty"),
            ("not json", "Parse"),
            (
                r#"{"current": {"temperature_2m": 25, "weather_code": 1}}"#,
                "Invalid",
            ),
            (
                r#"{"latitude": 1, "longitude": 2, "current": {"weather_code": 1}}"#,
                "Invalid",
            ),
            (
                r#"{"latitude": 91, "longitude": 2, "current": {"temperature_2m": 1, "weather_code": 1}}"#,
                "Invalid",
            ),
        ];
        for (json, kind) in cases {
            let err = RecordedWeather::from_json_str(json).unwrap_err();
            assert!(format!("{err:?}").starts_with(kind), "{json}: {err:?}");
        }
    }
}
