//! Decision traces are detailed (rounded location, habits, weather) and only needed while a
//! question about the decision is still likely, so they are purged after a retention period.
//! The decision row (outcome, reason) and its delivery stay: "no lost deliveries".

use crate::clock::Clock;
use crate::store::{Store, StoreResult};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the background task purges.
pub const EVERY: Duration = Duration::from_secs(3_600);

/// Purges every trace of a decision made more than `keep` before the clock's now; returns how
/// many. The background task calls exactly this; tests call it after moving the clock.
pub async fn purge_expired(
    store: &dyn Store,
    clock: &dyn Clock,
    keep: chrono::Duration,
) -> StoreResult<u64> {
    let now = clock.now();
    store.purge_traces(now - keep, now).await
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
                }
                _ = stop.changed() => break,
            }
        }
    })
}
