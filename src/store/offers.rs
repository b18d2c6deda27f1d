//! A brand's offers.

use super::StoreResult;
use crate::auth::Principal;
use crate::domain::BrandId;
use crate::offers::{Offer, OfferSpec};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Offers, scoped by brand. A deleted offer is retired: gone from these reads, kept for
/// results, labels and audit.
#[async_trait]
pub trait OfferStore: Send + Sync {
    /// Creates an offer at `now` (its id carries that time).
    async fn create_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        spec: OfferSpec,
        now: DateTime<Utc>,
    ) -> StoreResult<Offer>;
    /// One live offer of a brand.
    async fn get_offer(&self, brand: &BrandId, id: Uuid) -> StoreResult<Option<Offer>>;
    /// A page of a brand's live offers in id order.
    async fn list_offers(
        &self,
        brand: &BrandId,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Offer>>;
    /// Replaces an offer's spec at `now`; `None` if it does not exist.
    async fn update_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        spec: OfferSpec,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Offer>>;
    /// Retires an offer at `now`; `None` if missing.
    async fn delete_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Offer>>;
    /// Every live offer (start-up load of the engine).
    async fn all_offers(&self) -> StoreResult<Vec<Offer>>;
}
