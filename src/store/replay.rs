//! What a backtest reads: a brand's recorded decisions and every brand's deliveries, in time
//! order, a page at a time (docs/backtest.md).

use super::StoreResult;
use crate::decisions::replay::{LiveDelivery, LiveDeliveryQuery, MomentQuery, RecordedMoment};
use async_trait::async_trait;

/// Time-ordered reads for replays.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// A page of the brand's recorded decisions whose trace is still kept, oldest first.
    async fn recorded_moments(&self, q: &MomentQuery) -> StoreResult<Vec<RecordedMoment>>;
    /// A page of deliveries for the virtual limiter, oldest first ([`LiveDeliveryQuery`]).
    async fn live_deliveries(&self, q: &LiveDeliveryQuery) -> StoreResult<Vec<LiveDelivery>>;
}
