//! Writes the per-cell, per-hour weather log (`weather::WeatherLog`) to the store in batches:
//! the weather provider notes each cell-hour once in memory, and this writes what it holds
//! every [`EVERY`], on shutdown, and before a backtest reads the log (docs/weather.md).

use crate::store::{Store, StoreResult};
use crate::weather::WeatherLog;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the log's new cell-hours are written.
pub const EVERY: Duration = Duration::from_secs(60);

/// Writes the cell-hours the log holds; returns how many were new to the store. On failure
/// they stay in the log for the next write.
pub async fn flush(store: &dyn Store, log: &WeatherLog) -> StoreResult<u64> {
    let entries = log.take();
    if entries.is_empty() {
        return Ok(0);
    }
    match store.record_weather(&entries).await {
        Ok(n) => Ok(n),
        Err(e) => {
            log.put_back(entries);
            Err(e)
        }
    }
}

/// Writes every [`EVERY`] until `stop` changes or its sender is dropped, then once more.
pub fn spawn(
    store: Arc<dyn Store>,
    log: Arc<WeatherLog>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = tick.tick() => false,
                _ = stop.changed() => true,
            };
            // The next tick retries; the entries wait in memory meanwhile.
            if let Err(e) = flush(store.as_ref(), &log).await {
                tracing::warn!(error = %e, "writing the weather log failed");
            }
            if stopping {
                break;
            }
        }
    })
}
