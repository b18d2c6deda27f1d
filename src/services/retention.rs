//! Decision traces are detailed (rounded location, habits, weather) and only needed while a
//! question about the decision is still likely, so they are purged after a retention period.
//! The decision row (outcome, reason) and its delivery stay: "no lost deliveries". The
//! per-cell, per-hour weather log, which backtests read beside the traces, is kept as long.
//! Webhook messages delivered or given up are deleted after 30 days, with their attempts.

use crate::clock::Clock;
use crate::store::{Store, StoreResult};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the background task purges.
pub const EVERY: Duration = Duration::from_secs(3_600);

/// Purges every trace of a decision made more than `keep` before the clock's now, and the
/// weather log's hours as old; returns how many traces. The background task calls exactly
/// this; tests call it after moving the clock.
pub async fn purge_expired(
    store: &dyn Store,
    clock: &dyn Clock,
    keep: chrono::Duration,
) -> StoreResult<u64> {
    let now = clock.now();
    let traces = store.purge_traces(now - keep, now).await?;
    store.purge_weather_log(now - keep).await?;
    Ok(traces)
}

/// How long delivered and given-up webhook messages (and their attempts) are kept.
pub const WEBHOOK_KEEP: chrono::Duration = chrono::Duration::days(30);

/// Deletes the webhook messages delivered or given up more than [`WEBHOOK_KEEP`] before the
/// clock's now, with their attempts; messages still waiting stay.
pub async fn purge_webhook_messages(store: &dyn Store, clock: &dyn Clock) -> StoreResult<u64> {
    store
        .purge_webhook_messages(clock.now() - WEBHOOK_KEEP)
        .await
}

/// Purges now and then every [`EVERY`] until `stop` changes or its sender is dropped.
pub fn spawn(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keep: chrono::Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        // After a long pause (laptop sleep) one purge catches up; a burst would add nothing.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    match purge_expired(store.as_ref(), clock.as_ref(), keep).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(purged = n, "decision traces past retention purged"),
                        // The next tick retries; traces only live a little longer meanwhile.
                        Err(e) => tracing::warn!(error = %e, "purging decision traces failed"),
                    }
                    match purge_webhook_messages(store.as_ref(), clock.as_ref()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(purged = n, "webhook messages past retention purged"),
                        Err(e) => tracing::warn!(error = %e, "purging webhook messages failed"),
                    }
                }
                _ = stop.changed() => break,
            }
        }
    })
}
