//! The per-cell, per-hour weather log (docs/weather.md, "The weather log"): the conditions
//! the rules read, kept once per grid cell and hour, so that a backtest can give the weather
//! to moments whose decision never fetched it (no offer asked then). It holds no person data:
//! a cell, an hour and the conditions there.
//!
//! [`LoggedWeather`] wraps the deployment's provider and notes every known answer in a
//! [`WeatherLog`], deduplicated in memory per cell and hour: a check-in adds no store write.
//! `services::weather_log` writes what the log holds to the store in batches.

use super::{Condition, GridCell, Weather, WeatherLookup, WeatherProvider, WeatherStats};
use crate::clock::Clock;
pub use crate::domain::WeatherLogEntry;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Most entries waiting for the store: about one hour of 10,000 busy cells and then some.
/// Past it (the store has been failing for a long time), new cell-hours are not kept.
const MAX_PENDING: usize = 50_000;

/// The cell and the weather the rules read, from a log entry; `None` for a condition this
/// version cannot read.
pub fn logged_weather(e: &WeatherLogEntry) -> Option<(GridCell, Weather)> {
    let cell = GridCell {
        row: e.cell_row,
        col: e.cell_col,
    };
    let weather = Weather {
        temp_c: e.temp_c,
        feels_like_c: e.feels_like_c,
        precipitation_mm: e.precipitation_mm,
        condition: Condition::parse(&e.condition)?,
        is_day: e.is_day,
        observed_at: None,
    };
    Some((cell, weather))
}

/// The start of `at`'s UTC hour.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

/// The cell-hours seen lately and the entries not yet written to the store.
#[derive(Debug, Default)]
struct State {
    seen: HashSet<(i64, GridCell)>,
    latest_hour_ms: i64,
    pending: Vec<WeatherLogEntry>,
}

/// Cell-hours noted in memory until the store has them.
#[derive(Debug, Default)]
pub struct WeatherLog {
    state: Mutex<State>,
}

impl WeatherLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every mutation leaves the state consistent; a poisoned lock still guards valid data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes `w` for `cell` at `at`, unless that cell's hour is already noted.
    pub fn note(&self, cell: GridCell, at: DateTime<Utc>, w: &Weather) {
        let hour = hour_of(at);
        let hour_ms = hour.timestamp_millis();
        let mut s = self.lock();
        if hour_ms > s.latest_hour_ms {
            // A new hour: only it and the one before (late answers) are remembered.
            s.latest_hour_ms = hour_ms;
            s.seen.retain(|(h, _)| *h >= hour_ms - 3_600_000);
        }
        if s.pending.len() >= MAX_PENDING || !s.seen.insert((hour_ms, cell)) {
            return;
        }
        s.pending.push(WeatherLogEntry {
            hour,
            cell_row: cell.row,
            cell_col: cell.col,
            temp_c: w.temp_c,
            feels_like_c: w.feels_like_c,
            precipitation_mm: w.precipitation_mm,
            condition: w.condition.as_str().to_string(),
            is_day: w.is_day,
        });
    }

    /// The entries not yet written, handed to the writer.
    pub fn take(&self) -> Vec<WeatherLogEntry> {
        std::mem::take(&mut self.lock().pending)
    }

    /// Entries the writer could not write, kept for its next try.
    pub fn put_back(&self, mut entries: Vec<WeatherLogEntry>) {
        let mut s = self.lock();
        entries.append(&mut s.pending);
        entries.truncate(MAX_PENDING);
        s.pending = entries;
    }
}

/// A provider that notes its known answers in a [`WeatherLog`] at the clock's hour.
pub struct LoggedWeather {
    inner: Arc<dyn WeatherProvider>,
    log: Arc<WeatherLog>,
    clock: Arc<dyn Clock>,
}

impl LoggedWeather {
    /// `inner`, noting its answers in `log`.
    pub fn new(
        inner: Arc<dyn WeatherProvider>,
        log: Arc<WeatherLog>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { inner, log, clock }
    }
}

#[async_trait::async_trait]
impl WeatherProvider for LoggedWeather {
    async fn current(&self, lat: f64, lon: f64) -> WeatherLookup {
        let answer = self.inner.current(lat, lon).await;
        if let WeatherLookup::Known(w) = &answer {
            self.log.note(GridCell::of(lat, lon), self.clock.now(), w);
        }
        answer
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn stats(&self) -> WeatherStats {
        self.inner.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hot(temp_c: f64) -> Weather {
        Weather {
            temp_c,
            feels_like_c: temp_c,
            precipitation_mm: 0.0,
            condition: Condition::Clear,
            is_day: true,
            observed_at: None,
        }
    }

    #[test]
    fn a_cell_is_noted_once_per_hour_and_the_first_answer_is_kept() {
        let log = WeatherLog::new();
        let (a, b) = (GridCell::of(40.749, -73.986), GridCell::of(51.5, -0.12));
        let t = DateTime::parse_from_rfc3339("2026-07-15T19:05:00Z")
            .unwrap()
            .to_utc();
        log.note(a, t, &hot(30.0));
        log.note(a, t + TimeDelta::minutes(50), &hot(31.0));
        log.note(b, t, &hot(20.0));
        log.note(a, t + TimeDelta::minutes(60), &hot(32.0));
        let got = log.take();
        let seen: Vec<(GridCell, DateTime<Utc>, f64)> = got
            .iter()
            .map(|e| (logged_weather(e).unwrap().0, e.hour, e.temp_c))
            .collect();
        let (h19, h20) = (hour_of(t), hour_of(t) + TimeDelta::hours(1));
        assert_eq!(seen, [(a, h19, 30.0), (b, h19, 20.0), (a, h20, 32.0)]);
        assert!(
            log.take().is_empty(),
            "taken entries are not handed out twice"
        );
        log.note(a, t, &hot(33.0));
        assert!(
            log.take().is_empty(),
            "a cell-hour already written is not noted again"
        );
        log.put_back(got);
        assert_eq!(
            log.take().len(),
            3,
            "what the writer could not write is kept"
        );
    }
}
