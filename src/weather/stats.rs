//! Counters for the weather provider.
//!
//! Kept as plain atomics and a plain snapshot struct so this module needs no
//! metrics library; the service copies a [`WeatherStats`] snapshot into its own
//! Prometheus registry (counters are monotonic, so `inc_by(delta)` or a
//! collector reading the snapshot both work).

use std::sync::atomic::{AtomicU64, Ordering};

use super::BreakerState;

/// Snapshot of provider counters since start-up (all monotonic except the
/// `cache_entries` and `breaker_state` gauges).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WeatherStats {
    /// Lookups answered from a fresh cached answer.
    pub hits: u64,
    /// Lookups answered from a cached recent failure (no upstream call).
    pub negative_hits: u64,
    /// Lookups that found nothing cached (joined or started a fetch, or were
    /// rejected by the breaker).
    pub misses: u64,
    /// Misses that joined an upstream call already in flight (single-flight).
    pub coalesced: u64,
    /// Upstream HTTP calls started.
    pub upstream_calls: u64,
    /// Upstream calls that failed (status, transport, body or hard timeout).
    pub upstream_errors: u64,
    /// Lookups that ran out of budget and answered "timeout".
    pub timeouts: u64,
    /// Times the breaker went from closed/half-open to open.
    pub breaker_opens: u64,
    /// Misses answered "circuit-open" without a network call.
    pub breaker_rejections: u64,
    /// Cache entries evicted to stay within the size bound.
    pub evictions: u64,
    /// Entries currently cached (gauge).
    pub cache_entries: u64,
    /// Current breaker state (gauge).
    pub breaker_state: BreakerState,
}

/// Live counters behind [`WeatherStats`]; relaxed ordering is enough because
/// each counter is independent and only read for reporting.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) negative_hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) upstream_calls: AtomicU64,
    pub(crate) upstream_errors: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) breaker_opens: AtomicU64,
    pub(crate) breaker_rejections: AtomicU64,
    pub(crate) evictions: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Snapshot of the counters plus the gauges supplied by the provider.
    pub(crate) fn snapshot(
        &self,
        cache_entries: usize,
        breaker_state: BreakerState,
    ) -> WeatherStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WeatherStats {
            hits: get(&self.hits),
            negative_hits: get(&self.negative_hits),
            misses: get(&self.misses),
            coalesced: get(&self.coalesced),
            upstream_calls: get(&self.upstream_calls),
            upstream_errors: get(&self.upstream_errors),
            timeouts: get(&self.timeouts),
            breaker_opens: get(&self.breaker_opens),
            breaker_rejections: get(&self.breaker_rejections),
            evictions: get(&self.evictions),
            cache_entries: cache_entries as u64,
            breaker_state,
        }
    }
}
