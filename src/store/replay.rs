//! What a backtest reads: a brand's recorded decisions and every brand's deliveries, in time
//! order, a page at a time, and the per-cell, per-hour weather log (docs/backtest.md).

use super::StoreResult;
use crate::decisions::replay::{LiveDelivery, LiveDeliveryQuery, MomentQuery, RecordedMoment};
use crate::domain::WeatherLogEntry;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Time-ordered reads for replays.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// A page of the brand's recorded decisions whose trace is still kept, oldest first.
    async fn recorded_moments(&self, q: &MomentQuery) -> StoreResult<Vec<RecordedMoment>>;
    /// A page of deliveries for the virtual limiter, oldest first ([`LiveDeliveryQuery`]).
    async fn live_deliveries(&self, q: &LiveDeliveryQuery) -> StoreResult<Vec<LiveDelivery>>;
    /// Keeps these cell-hours of the weather log; a cell-hour already kept stays as it was
    /// (the first answer of the hour). Returns how many were new.
    async fn record_weather(&self, entries: &[WeatherLogEntry]) -> StoreResult<u64>;
    /// The weather log's entries of the hour starting at `hour`, every cell.
    async fn weather_log(&self, hour: DateTime<Utc>) -> StoreResult<Vec<WeatherLogEntry>>;
    /// Deletes the weather log's hours before `before` (retention); returns how many rows.
    async fn purge_weather_log(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
