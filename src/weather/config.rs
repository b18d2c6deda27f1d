//! Configuration knobs of the Open-Meteo provider.

use std::time::Duration;

/// Public Open-Meteo endpoint, used when `GEOFFER_WEATHER_URL` is unset.
pub const DEFAULT_BASE_URL: &str = "https://api.open-meteo.com";
/// Environment variable with the upstream base URL (no `/v1/forecast`), so
/// tests, demos and a paid Open-Meteo host can be swapped in.
pub const ENV_BASE_URL: &str = "GEOFFER_WEATHER_URL";
/// Environment variable overriding the per-call budget, in milliseconds.
pub const ENV_BUDGET_MS: &str = "GEOFFER_WEATHER_BUDGET_MS";
/// Environment variable overriding the cache TTL, in seconds.
pub const ENV_TTL_SECS: &str = "GEOFFER_WEATHER_TTL_SECS";

/// Why an [`OpenMeteo`](super::OpenMeteo) provider could not be built. Only
/// construction fails; lookups never do.
#[derive(Debug, thiserror::Error)]
pub enum OpenMeteoError {
    /// The base URL does not parse as an absolute http(s) URL.
    #[error("invalid weather base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The offending URL.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An environment knob holds something other than a number.
    #[error("invalid value {value:?} for {key}: expected a whole number")]
    InvalidSetting {
        /// The environment variable.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// The HTTP client could not be built (e.g. TLS initialisation).
    #[error("cannot build HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Everything tunable about the live provider. `Default` holds production
/// values; tests shrink the durations.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenMeteoConfig {
    /// Base URL, e.g. `https://api.open-meteo.com` (path `/v1/forecast` is
    /// appended).
    pub base_url: String,
    /// Longest a `current()` call may take; past it the answer is "timeout"
    /// while the upstream call continues in the background. Default 250 ms.
    pub budget: Duration,
    /// How long a successful answer is reused for its cell. Default 15 min,
    /// matching Open-Meteo's 15-minute `current` interval.
    pub ttl: Duration,
    /// How long a failed answer is reused, so a failing cell is not retried
    /// on every request; zero disables. Default 1 s: longer would hide a
    /// recovered upstream from that cell after the breaker has closed.
    pub negative_ttl: Duration,
    /// Most cells kept in memory. Default 10 000 (≈ a country's busy cells).
    pub max_entries: usize,
    /// Hard limit of one background upstream call; it counts as a failure for
    /// the breaker when hit. Default 3 s.
    pub upstream_timeout: Duration,
    /// Consecutive upstream failures that open the breaker. Default 5.
    pub failure_threshold: u32,
    /// While the breaker is open, one probe call is let through this often.
    /// Default 1 s, so a recovered upstream is noticed within a couple of
    /// seconds at the cost of one request per interval while it is down.
    pub probe_interval: Duration,
}

impl Default for OpenMeteoConfig {
    fn default() -> Self {
        OpenMeteoConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            budget: Duration::from_millis(250),
            ttl: Duration::from_secs(15 * 60),
            negative_ttl: Duration::from_secs(1),
            max_entries: 10_000,
            upstream_timeout: Duration::from_secs(3),
            failure_threshold: 5,
            probe_interval: Duration::from_secs(1),
        }
    }
}

impl OpenMeteoConfig {
    /// Defaults overridden by `GEOFFER_WEATHER_URL`, `GEOFFER_WEATHER_BUDGET_MS`
    /// and `GEOFFER_WEATHER_TTL_SECS` when set and non-empty.
    pub fn from_env() -> Result<Self, OpenMeteoError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Like [`OpenMeteoConfig::from_env`] but reading through `lookup`, so
    /// tests need not mutate the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, OpenMeteoError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let number = |key: &'static str| -> Result<Option<u64>, OpenMeteoError> {
            get(key)
                .map(|value| {
                    value
                        .parse()
                        .map_err(|_| OpenMeteoError::InvalidSetting { key, value })
                })
                .transpose()
        };
        let mut config = OpenMeteoConfig::default();
        if let Some(url) = get(ENV_BASE_URL) {
            config.base_url = url;
        }
        if let Some(ms) = number(ENV_BUDGET_MS)? {
            config.budget = Duration::from_millis(ms);
        }
        if let Some(secs) = number(ENV_TTL_SECS)? {
            config.ttl = Duration::from_secs(secs);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_knobs_keep_the_documented_defaults() {
        let c = OpenMeteoConfig::from_lookup(|_| None).unwrap();
        assert_eq!(c, OpenMeteoConfig::default());
        assert_eq!(c.base_url, "https://api.open-meteo.com");
        assert_eq!(c.budget, Duration::from_millis(250));
        assert_eq!(c.ttl, Duration::from_secs(900));
    }

    #[test]
    fn set_knobs_override_the_defaults() {
        let c = OpenMeteoConfig::from_lookup(|key| match key {
            ENV_BASE_URL => Some("http://127.0.0.1:9000".into()),
            ENV_BUDGET_MS => Some(" 100 ".into()),
            ENV_TTL_SECS => Some("60".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:9000");
        assert_eq!(c.budget, Duration::from_millis(100));
        assert_eq!(c.ttl, Duration::from_secs(60));
    }

    #[test]
    fn a_non_numeric_knob_is_a_start_up_error() {
        let err = OpenMeteoConfig::from_lookup(|key| (key == ENV_BUDGET_MS).then(|| "fast".into()))
            .unwrap_err();
        assert!(matches!(
            err,
            OpenMeteoError::InvalidSetting {
                key: ENV_BUDGET_MS,
                ..
            }
        ));
    }
}
