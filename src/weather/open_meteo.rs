//! Live weather from the Open-Meteo forecast API.
//!
//! One `current()` call: validate the point, snap it to a ~5 km [`GridCell`],
//! answer from the cell cache if possible, otherwise join the fetch already
//! running for the cell or (if the breaker allows) start one in a background
//! task. The caller waits for that fetch at most until its budget ends. The
//! fetch itself is not cancelled by an impatient caller: it finishes, fills the
//! cache and informs the breaker, so the next person in that cell gets an
//! answer from memory.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tracing::{debug, warn};

use super::breaker::{Admission, Breaker};
use super::cache::{CellTable, Completion, Pending, Slot};
use super::config::{OpenMeteoConfig, OpenMeteoError};
use super::grid::GridCell;
use super::stats::Counters;
use super::upstream::Upstream;
use super::{WeatherLookup, WeatherProvider, WeatherStats, reason, valid_coordinates};
use crate::clock::{Clock, SystemClock};

/// Open-Meteo provider with cell cache, single-flight, budget and breaker.
///
/// Cheap to clone (shared state); build one per process so all requests share
/// the cache and the breaker. `current()` must run inside a Tokio runtime
/// because misses spawn the upstream call as a task.
#[derive(Clone)]
pub struct OpenMeteo {
    inner: Arc<Inner>,
}

struct Inner {
    upstream: Upstream,
    config: OpenMeteoConfig,
    clock: Arc<dyn Clock>,
    table: Mutex<CellTable>,
    breaker: Mutex<Breaker>,
    counters: Counters,
}

/// Outcome of the synchronous part of a lookup.
enum Start {
    Answered(WeatherLookup),
    Wait(Pending),
}

impl std::fmt::Debug for OpenMeteo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenMeteo")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl OpenMeteo {
    /// Provider for `base_url` (e.g. `https://api.open-meteo.com`) answering
    /// within `budget`, with every other knob at its default (see
    /// [`OpenMeteoConfig`]).
    pub fn new(base_url: &str, budget: Duration) -> Result<Self, OpenMeteoError> {
        let config = OpenMeteoConfig {
            base_url: base_url.to_string(),
            budget,
            ..OpenMeteoConfig::default()
        };
        Self::with_config(config, Arc::new(SystemClock))
    }

    /// Provider configured from the `GEOFFER_WEATHER_*` environment variables.
    pub fn from_env() -> Result<Self, OpenMeteoError> {
        Self::with_config(OpenMeteoConfig::from_env()?, Arc::new(SystemClock))
    }

    /// Provider with every knob explicit; `clock` drives cache expiry and the
    /// breaker probe interval (pass a [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn with_config(
        config: OpenMeteoConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OpenMeteoError> {
        let upstream = Upstream::new(&config.base_url, config.upstream_timeout)?;
        let inner = Inner {
            upstream,
            table: Mutex::new(CellTable::new(
                config.ttl,
                config.negative_ttl,
                config.max_entries,
            )),
            breaker: Mutex::new(Breaker::new(
                config.failure_threshold,
                config.probe_interval,
            )),
            counters: Counters::default(),
            clock,
            config,
        };
        Ok(OpenMeteo {
            inner: Arc::new(inner),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &OpenMeteoConfig {
        &self.inner.config
    }

    /// Counter snapshot for metrics export.
    pub fn stats(&self) -> WeatherStats {
        let entries = lock(&self.inner.table).len();
        let state = lock(&self.inner.breaker).state();
        self.inner.counters.snapshot(entries, state)
    }
}

#[async_trait::async_trait]
impl WeatherProvider for OpenMeteo {
    async fn current(&self, lat: f64, lon: f64) -> WeatherLookup {
        if !valid_coordinates(lat, lon) {
            return WeatherLookup::unknown(reason::INVALID_COORDINATES);
        }
        // Budget on tokio's clock (not the injectable one): it bounds real
        // waiting, while the injectable clock only ages cached data.
        let deadline = tokio::time::Instant::now() + self.inner.config.budget;
        let pending = match self.inner.start(GridCell::of(lat, lon)) {
            Start::Answered(answer) => return answer,
            Start::Wait(pending) => pending,
        };
        match tokio::time::timeout_at(deadline, wait(pending)).await {
            Ok(answer) => answer,
            Err(_) => {
                Counters::inc(&self.inner.counters.timeouts);
                WeatherLookup::unknown(reason::TIMEOUT)
            }
        }
    }

    fn name(&self) -> &'static str {
        "open-meteo"
    }

    fn stats(&self) -> WeatherStats {
        OpenMeteo::stats(self)
    }
}

impl Inner {
    /// Answers from memory, joins a running fetch, or starts one.
    fn start(self: &Arc<Self>, cell: GridCell) -> Start {
        let c = &self.counters;
        let now = self.clock.instant();
        let mut table = lock(&self.table);
        match table.lookup(cell, now) {
            Slot::Fresh(weather) => {
                Counters::inc(&c.hits);
                Start::Answered(WeatherLookup::Known(weather))
            }
            Slot::Negative(why) => {
                Counters::inc(&c.negative_hits);
                Start::Answered(WeatherLookup::Unknown { reason: why })
            }
            Slot::Pending(pending) => {
                Counters::inc(&c.misses);
                Counters::inc(&c.coalesced);
                Start::Wait(pending)
            }
            Slot::Miss => {
                Counters::inc(&c.misses);
                // Lock order is always table, then breaker.
                let admission = lock(&self.breaker).admit(now);
                if admission == Admission::Rejected {
                    Counters::inc(&c.breaker_rejections);
                    return Start::Answered(WeatherLookup::unknown(reason::CIRCUIT_OPEN));
                }
                if admission == Admission::Probe {
                    debug!(?cell, "weather breaker half-open: probing upstream");
                }
                let (completion, pending) = table.begin(cell);
                drop(table);
                Counters::inc(&c.upstream_calls);
                tokio::spawn(Arc::clone(self).fetch_and_complete(cell, completion));
                Start::Wait(pending)
            }
        }
    }

    /// Background task: one upstream call whose outcome feeds the breaker,
    /// the cache and every waiter, whether or not anyone still waits.
    async fn fetch_and_complete(self: Arc<Self>, cell: GridCell, completion: Completion) {
        let mut guard = AbandonGuard {
            inner: &self,
            cell,
            armed: true,
        };
        let outcome = self.upstream.fetch(cell).await;
        let now = self.clock.instant();
        let lookup = match outcome {
            Ok(weather) => {
                lock(&self.breaker).on_success();
                WeatherLookup::Known(weather)
            }
            Err(err) => {
                warn!(?cell, error = %err, "weather upstream call failed");
                self.record_failure(now);
                WeatherLookup::unknown(err.reason())
            }
        };
        let evicted = lock(&self.table).complete(cell, &lookup, now);
        self.counters
            .evictions
            .fetch_add(evicted as u64, std::sync::atomic::Ordering::Relaxed);
        guard.armed = false;
        completion.send_replace(Some(lookup));
    }

    fn record_failure(&self, now: tokio::time::Instant) {
        Counters::inc(&self.counters.upstream_errors);
        if lock(&self.breaker).on_failure(now) {
            Counters::inc(&self.counters.breaker_opens);
            warn!(
                probe_interval = ?self.config.probe_interval,
                "weather breaker opened: answering circuit-open without network, probing the upstream once per interval"
            );
        }
    }
}

/// Clears the pending mark and counts a failure if the fetch task ends
/// without completing (a panic or runtime shutdown), so the cell does not stay
/// "being fetched" forever and a half-open probe slot is not lost.
struct AbandonGuard<'a> {
    inner: &'a Inner,
    cell: GridCell,
    armed: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            lock(&self.inner.table).abandon(self.cell);
            self.inner.record_failure(self.inner.clock.instant());
        }
    }
}

/// Waits for a fetch; a fetch that vanished without an answer is an upstream
/// error from the caller's point of view.
async fn wait(mut pending: Pending) -> WeatherLookup {
    match pending.wait_for(Option::is_some).await {
        Ok(answer) => answer
            .clone()
            .unwrap_or_else(|| WeatherLookup::unknown(reason::UPSTREAM_ERROR)),
        Err(_) => WeatherLookup::unknown(reason::UPSTREAM_ERROR),
    }
}

/// Locks ignoring poisoning: the guarded state is updated in single
/// statements, so a panic elsewhere cannot leave it half-written.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invalid_coordinates_are_unknown_without_any_network() {
        // Port 9 (discard) on loopback: any request would fail, but none is made.
        let om = OpenMeteo::new("http://127.0.0.1:9", Duration::from_millis(50)).unwrap();
        let answer = om.current(f64::NAN, 13.4).await;
        assert_eq!(answer.reason(), Some(reason::INVALID_COORDINATES));
        assert_eq!(om.stats().upstream_calls, 0);
    }

    #[tokio::test]
    async fn an_unreachable_upstream_is_an_upstream_error_not_a_panic() {
        let config = OpenMeteoConfig {
            base_url: "http://127.0.0.1:9".into(),
            budget: Duration::from_secs(2),
            ..OpenMeteoConfig::default()
        };
        let om = OpenMeteo::with_config(config, Arc::new(SystemClock)).unwrap();
        let answer = om.current(52.52, 13.40).await;
        assert_eq!(answer.reason(), Some(reason::UPSTREAM_ERROR));
        assert_eq!(om.stats().upstream_errors, 1);
    }
}
