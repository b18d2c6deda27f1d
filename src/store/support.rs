//! Support reads: deliveries, offer labels, a person's timeline.

use super::StoreResult;
use crate::decisions::{Delivery, DeliveryFilter, DeliveryKey, Labels, TimelineQuery, TimelineRow};
use async_trait::async_trait;
use uuid::Uuid;

/// What support staff read back.
#[async_trait]
pub trait SupportStore: Send + Sync {
    /// Up to `limit` deliveries newest first ((created_at, id) descending), after `after`.
    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;
    /// One delivery.
    async fn get_delivery(&self, id: Uuid) -> StoreResult<Option<Delivery>>;
    /// Brand and name of these offers, retired ones included; unknown ids are left out.
    async fn offer_labels(&self, ids: &[String]) -> StoreResult<Labels>;
    /// A page of a person's timeline, oldest first ((at, kind, key) ascending).
    async fn timeline(&self, q: &TimelineQuery) -> StoreResult<Vec<TimelineRow>>;
}
