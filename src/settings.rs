//! Configuration: defaults < optional TOML file < `GEOFFER_*` environment < command-line flags.
//! Clap merges the last two (each flag has an environment twin); this module adds the first two.
//!
//! About 400 lines, 55 of them tests: one list of settings, each named in the struct, its
//! default, the file's keys and the overrides, so the four stay in step in one place.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// A value that must never be printed, not even in `Debug` (database and Redis URLs carry passwords).
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Effective settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    pub bind: String,
    /// `sqlite://path` (default under `./data/`).
    pub database_url: Secret,
    /// Redis for the rate limiter; `None` uses the in-process twin.
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key, so deployments and tests can share one Redis.
    pub redis_key_prefix: String,
    /// Open-Meteo base URL.
    pub weather_url: String,
    /// Serve recorded weather from this directory instead of calling Open-Meteo.
    pub weather_dir: Option<PathBuf>,
    /// Most time a check-in waits for weather (ms).
    pub weather_budget_ms: u64,
    /// Most time a check-in waits for the limiter (ms).
    pub limiter_timeout_ms: u64,
    /// Largest JSON body in general (bytes).
    pub body_limit_bytes: usize,
    /// Largest geofence import body (bytes).
    pub import_limit_bytes: usize,
    /// Grace period for in-flight requests on shutdown (s).
    pub shutdown_timeout_s: u64,
    /// Decisions waiting to be recorded before check-ins are refused with 503 (overload).
    pub decision_queue_capacity: usize,
    /// Check-ins decided at once; more wait for a turn.
    pub max_concurrent_checkins: usize,
    /// Longest a check-in waits for a turn before a 503 (ms).
    pub checkin_queue_wait_ms: u64,
    /// Requests per app per rolling minute on the device endpoints (check-ins, batches,
    /// nearby fences), counted per process; past it 429. 0: no limit.
    pub app_requests_per_minute: u32,
    /// Log format.
    pub log_format: LogFormat,
    /// Local quiet hours `HH:MM-HH:MM` (no offers inside), or `off`.
    pub quiet_hours: String,
    /// Offers below this relevance do not qualify (1.0: place alone is enough).
    pub min_relevance: f64,
    /// A jump between two check-ins inside fences faster than this (km/h) is implausible.
    pub max_plausible_speed_kmh: f64,
    /// A visit dwells once it has lasted this long (minutes; docs/visits.md).
    pub visit_dwell_minutes: u32,
    /// An open visit with no check-in there for this long ends (minutes; docs/visits.md).
    pub visit_timeout_minutes: u32,
    /// Decision traces older than this are purged (the decision and its delivery stay).
    pub trace_retention_days: u32,
    /// Offers per person per rolling 24 h, all brands together.
    pub cap_person_day: u32,
    /// Offers per person per rolling 7 days, all brands together.
    pub cap_person_week: u32,
    /// Offers per person per brand per rolling 7 days.
    pub cap_person_brand: u32,
    /// Offers per person triggered at one geofence per rolling 24 h.
    pub cap_person_fence: u32,
    /// PostgreSQL: most connections per process.
    pub pg_pool_max: u32,
    /// PostgreSQL: connections kept open while idle.
    pub pg_pool_min: u32,
    /// PostgreSQL: longest wait for a pooled connection before the store answers
    /// "unavailable" (ms).
    pub pg_acquire_timeout_ms: u64,
    /// Longest the server waits for a request's head after accepting a connection or
    /// finishing the previous request, before answering 408 (ms).
    pub client_request_timeout_ms: u64,
    /// With a shared database: the oldest the in-memory catalog may be (ms since it last
    /// caught up with the change log) before `/readyz` fails and check-ins answer 503.
    pub catalog_max_lag_ms: u64,
    /// How long a console session lasts after sign-in (hours).
    pub console_session_hours: u32,
    /// The console map's basemap: a tile URL template (`https://tile.example/{z}/{x}/{y}.png`);
    /// `None` draws fences on a plain background and contacts no tile server.
    pub console_tile_url: Option<String>,
    /// The attribution the tile provider asks for (HTML allowed, e.g. a link).
    pub console_tile_attribution: Option<String>,
    /// Allow webhook endpoints at `http://127.0.0.1` and `http://[::1]` (tests, local
    /// development); otherwise only `https://` to public addresses.
    pub webhook_allow_loopback_http: bool,
    /// Longest a webhook request may take, connect to last byte (ms).
    pub webhook_timeout_ms: u64,
    /// How often the webhook sender looks for due messages (ms); 0 starts no sender.
    pub webhook_poll_ms: u64,
    /// Messages the sender claims per poll.
    pub webhook_batch: u32,
    /// Consecutive failed attempts after which an endpoint is disabled.
    pub webhook_disable_after_failures: u32,
    /// Hours an endpoint may fail without a success before it is disabled.
    pub webhook_disable_after_hours: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: Secret::new("sqlite://data/geoffer.db"),
            redis_url: None,
            redis_key_prefix: "geoffer:".into(),
            weather_url: "https://api.open-meteo.com".into(),
            weather_dir: None,
            weather_budget_ms: 250,
            limiter_timeout_ms: 50,
            body_limit_bytes: 1 << 20,
            import_limit_bytes: 256 << 20,
            shutdown_timeout_s: 30,
            decision_queue_capacity: crate::checkins::writer::DEFAULT_QUEUE_CAPACITY,
            max_concurrent_checkins: crate::checkins::admission::DEFAULT_MAX_CONCURRENT,
            checkin_queue_wait_ms: crate::checkins::admission::DEFAULT_QUEUE_WAIT_MS,
            app_requests_per_minute: 0,
            log_format: LogFormat::Pretty,
            quiet_hours: "21:00-08:00".into(),
            min_relevance: 1.0,
            max_plausible_speed_kmh: crate::checkins::engine::DEFAULT_MAX_PLAUSIBLE_SPEED_KMH,
            visit_dwell_minutes: 10,
            visit_timeout_minutes: 30,
            trace_retention_days: 90,
            cap_person_day: 1,
            cap_person_week: 3,
            cap_person_brand: 1,
            cap_person_fence: 1,
            pg_pool_max: 16,
            pg_pool_min: 2,
            pg_acquire_timeout_ms: 3_000,
            catalog_max_lag_ms: 5_000,
            client_request_timeout_ms: 5_000,
            console_session_hours: 12,
            console_tile_url: None,
            console_tile_attribution: None,
            webhook_allow_loopback_http: false,
            webhook_timeout_ms: 10_000,
            webhook_poll_ms: 1_000,
            webhook_batch: 50,
            webhook_disable_after_failures: 20,
            webhook_disable_after_hours: 24,
        }
    }
}

/// The optional TOML file: any subset of the settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    bind: Option<String>,
    database_url: Option<Secret>,
    redis_url: Option<Secret>,
    redis_key_prefix: Option<String>,
    weather_url: Option<String>,
    weather_dir: Option<PathBuf>,
    weather_budget_ms: Option<u64>,
    limiter_timeout_ms: Option<u64>,
    body_limit_bytes: Option<usize>,
    import_limit_bytes: Option<usize>,
    shutdown_timeout_s: Option<u64>,
    decision_queue_capacity: Option<usize>,
    max_concurrent_checkins: Option<usize>,
    checkin_queue_wait_ms: Option<u64>,
    app_requests_per_minute: Option<u32>,
    log_format: Option<LogFormat>,
    quiet_hours: Option<String>,
    min_relevance: Option<f64>,
    max_plausible_speed_kmh: Option<f64>,
    visit_dwell_minutes: Option<u32>,
    visit_timeout_minutes: Option<u32>,
    trace_retention_days: Option<u32>,
    cap_person_day: Option<u32>,
    cap_person_week: Option<u32>,
    cap_person_brand: Option<u32>,
    cap_person_fence: Option<u32>,
    pg_pool_max: Option<u32>,
    pg_pool_min: Option<u32>,
    pg_acquire_timeout_ms: Option<u64>,
    catalog_max_lag_ms: Option<u64>,
    client_request_timeout_ms: Option<u64>,
    console_session_hours: Option<u32>,
    console_tile_url: Option<String>,
    console_tile_attribution: Option<String>,
    webhook_allow_loopback_http: Option<bool>,
    webhook_timeout_ms: Option<u64>,
    webhook_poll_ms: Option<u64>,
    webhook_batch: Option<u32>,
    webhook_disable_after_failures: Option<u32>,
    webhook_disable_after_hours: Option<u32>,
}

/// Values from flags or their environment twins (already merged by clap).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--bind` / `GEOFFER_BIND`.
    pub bind: Option<String>,
    /// `--database-url` / `GEOFFER_DATABASE_URL`.
    pub database_url: Option<String>,
    /// `--redis-url` / `GEOFFER_REDIS_URL`.
    pub redis_url: Option<String>,
    /// `--redis-key-prefix` / `GEOFFER_REDIS_KEY_PREFIX`.
    pub redis_key_prefix: Option<String>,
    /// `--weather-url` / `GEOFFER_WEATHER_URL`.
    pub weather_url: Option<String>,
    /// `--weather-dir` / `GEOFFER_WEATHER_DIR`.
    pub weather_dir: Option<PathBuf>,
    /// `--log-format` / `GEOFFER_LOG_FORMAT`.
    pub log_format: Option<LogFormat>,
    /// `--quiet-hours` / `GEOFFER_QUIET_HOURS`.
    pub quiet_hours: Option<String>,
}

impl Settings {
    /// The plausible speed bound (km/h), once it is checked to be a positive number.
    pub fn max_plausible_speed(&self) -> anyhow::Result<f64> {
        let v = self.max_plausible_speed_kmh;
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            anyhow::bail!("max_plausible_speed_kmh must be a positive number of km/h, got {v}")
        }
    }

    /// The visit dwell and timeout (ms), once checked: 1 to 1440 minutes each.
    pub fn visit_times_ms(&self) -> anyhow::Result<(i64, i64)> {
        for (name, v) in [
            ("visit_dwell_minutes", self.visit_dwell_minutes),
            ("visit_timeout_minutes", self.visit_timeout_minutes),
        ] {
            if !(1..=1440).contains(&v) {
                anyhow::bail!("{name} must be between 1 and 1440 minutes, got {v}");
            }
        }
        let ms = |m: u32| i64::from(m) * 60_000;
        Ok((ms(self.visit_dwell_minutes), ms(self.visit_timeout_minutes)))
    }

    /// Quiet hours as minutes since local midnight, `None` when `off`.
    pub fn quiet_hours_minutes(&self) -> anyhow::Result<Option<(u32, u32)>> {
        if self.quiet_hours.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let hhmm = crate::offers::validate::parse_hhmm;
        let parsed = self
            .quiet_hours
            .split_once('-')
            .and_then(|(f, t)| Some((hhmm(f.trim())?, hhmm(t.trim())?)));
        match parsed {
            Some((f, t)) if f != t => Ok(Some((f, t))),
            _ => anyhow::bail!(
                "quiet_hours must be HH:MM-HH:MM or `off`, got `{}`",
                self.quiet_hours
            ),
        }
    }

    /// How long decision traces are kept; at least a day, so a purge never races the decision
    /// it would erase.
    pub fn trace_retention(&self) -> anyhow::Result<chrono::Duration> {
        anyhow::ensure!(
            (1..=36_500).contains(&self.trace_retention_days),
            "trace_retention_days must be 1-36500, got {}",
            self.trace_retention_days
        );
        Ok(chrono::Duration::days(i64::from(self.trace_retention_days)))
    }

    /// The deployment's per-person caps (an offer's own `caps.per_person` still replaces the
    /// per-offer one).
    pub fn caps(&self) -> crate::limits::Caps {
        use crate::limits::Window;
        crate::limits::Caps {
            person_day: Window::per_hours(self.cap_person_day, 24),
            person_week: Window::per_days(self.cap_person_week, 7),
            person_brand: Window::per_days(self.cap_person_brand, 7),
            person_fence: Window::per_hours(self.cap_person_fence, 24),
            ..crate::limits::Caps::default()
        }
    }

    /// How long a console session lasts; at least an hour, at most 30 days.
    pub fn console_session_ttl(&self) -> anyhow::Result<chrono::Duration> {
        anyhow::ensure!(
            (1..=720).contains(&self.console_session_hours),
            "console_session_hours must be 1-720, got {}",
            self.console_session_hours
        );
        Ok(chrono::Duration::hours(i64::from(
            self.console_session_hours,
        )))
    }

    /// Layers defaults, the file (if any) and the overrides.
    pub fn load(file: Option<&Path>, o: Overrides) -> anyhow::Result<Self> {
        let mut s = Settings::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading config file {}: {e}", path.display()))?;
            let f: FileSettings = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))?;
            s.apply_file(f);
        }
        s.apply_overrides(o);
        Ok(s)
    }

    fn apply_file(&mut self, f: FileSettings) {
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = f.$field { self.$field = v; } )* };
        }
        take!(
            bind,
            database_url,
            redis_key_prefix,
            weather_url,
            weather_budget_ms,
            limiter_timeout_ms,
            body_limit_bytes,
            import_limit_bytes,
            shutdown_timeout_s,
            decision_queue_capacity,
            max_concurrent_checkins,
            checkin_queue_wait_ms,
            app_requests_per_minute,
            log_format,
            quiet_hours,
            min_relevance,
            max_plausible_speed_kmh,
            visit_dwell_minutes,
            visit_timeout_minutes,
            trace_retention_days,
            cap_person_day,
            cap_person_week,
            cap_person_brand,
            cap_person_fence,
            pg_pool_max,
            pg_pool_min,
            pg_acquire_timeout_ms,
            catalog_max_lag_ms,
            client_request_timeout_ms,
            console_session_hours,
            webhook_allow_loopback_http,
            webhook_timeout_ms,
            webhook_poll_ms,
            webhook_batch,
            webhook_disable_after_failures,
            webhook_disable_after_hours
        );
        if f.console_tile_url.is_some() {
            self.console_tile_url = f.console_tile_url;
        }
        if f.console_tile_attribution.is_some() {
            self.console_tile_attribution = f.console_tile_attribution;
        }
        if f.redis_url.is_some() {
            self.redis_url = f.redis_url;
        }
        if f.weather_dir.is_some() {
            self.weather_dir = f.weather_dir;
        }
    }

    fn apply_overrides(&mut self, o: Overrides) {
        if let Some(v) = o.bind {
            self.bind = v;
        }
        if let Some(v) = o.database_url {
            self.database_url = Secret::new(v);
        }
        if let Some(v) = o.redis_url.filter(|v| !v.is_empty()) {
            self.redis_url = Some(Secret::new(v));
        }
        if let Some(v) = o.redis_key_prefix {
            self.redis_key_prefix = v;
        }
        if let Some(v) = o.weather_url {
            self.weather_url = v;
        }
        if o.weather_dir.is_some() {
            self.weather_dir = o.weather_dir;
        }
        if let Some(v) = o.log_format {
            self.log_format = v;
        }
        if let Some(v) = o.quiet_hours {
            self.quiet_hours = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("geoffer.toml");
        std::fs::write(&path, "bind = \"0.0.0.0:9000\"\nweather_budget_ms = 100\n").unwrap();
        let o = Overrides {
            bind: Some("127.0.0.1:1".into()),
            ..Default::default()
        };
        let s = Settings::load(Some(&path), o).unwrap();
        assert_eq!(s.bind, "127.0.0.1:1");
        assert_eq!(s.weather_budget_ms, 100);
        assert_eq!(s.limiter_timeout_ms, 50);
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let o = Overrides {
            redis_url: Some("redis://:hunter2@db:6379".into()),
            ..Default::default()
        };
        let s = Settings::load(None, o).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn trace_retention_and_caps_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("geoffer.toml");
        std::fs::write(&path, "trace_retention_days = 30\ncap_person_day = 2\n").unwrap();
        let s = Settings::load(Some(&path), Overrides::default()).unwrap();
        assert_eq!(s.trace_retention().unwrap(), chrono::Duration::days(30));
        assert_eq!(s.caps().person_day.count, 2);
        assert_eq!(
            s.caps().person_brand,
            crate::limits::Caps::default().person_brand
        );
        let zero = Settings {
            trace_retention_days: 0,
            ..Settings::default()
        };
        assert!(zero.trace_retention().is_err());
    }

    #[test]
    fn the_plausible_speed_comes_from_the_file_and_must_be_positive() {
        assert_eq!(Settings::default().max_plausible_speed().unwrap(), 300.0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("geoffer.toml");
        std::fs::write(&path, "max_plausible_speed_kmh = 950.0\n").unwrap();
        let s = Settings::load(Some(&path), Overrides::default()).unwrap();
        assert_eq!(s.max_plausible_speed().unwrap(), 950.0);
        let zero = Settings {
            max_plausible_speed_kmh: 0.0,
            ..Settings::default()
        };
        assert!(zero.max_plausible_speed().is_err());
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("geoffer.toml");
        std::fs::write(&path, "bnid = \"x\"\n").unwrap();
        assert!(Settings::load(Some(&path), Overrides::default()).is_err());
    }
}
