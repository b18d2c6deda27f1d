//! A brand's geofences.

use super::StoreResult;
use crate::auth::Principal;
use crate::domain::BrandId;
use crate::fences::{Fence, FenceDraft};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One page request over fences.
#[derive(Debug, Clone, Default)]
pub struct FencePage {
    /// Only fences carrying this tag.
    pub tag: Option<String>,
    /// Fences with ids after this one (the cursor).
    pub after: Option<Uuid>,
    /// Page size.
    pub limit: u32,
}

/// What an import did to one fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new fence.
    Created,
    /// An existing fence with the same `external_id` was replaced.
    Updated,
}

/// Fences, scoped by brand: a brand never reads or changes another's.
#[async_trait]
pub trait FenceStore: Send + Sync {
    /// Creates fences at `now`, all or nothing. With `upsert`, a draft whose `external_id`
    /// exists for the brand replaces that fence (keeping its id); without it that is a
    /// `Conflict`.
    async fn put_fences(
        &self,
        actor: &Principal,
        brand: &BrandId,
        drafts: Vec<FenceDraft>,
        upsert: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(Fence, Upserted)>>;
    /// One fence of a brand.
    async fn get_fence(&self, brand: &BrandId, id: Uuid) -> StoreResult<Option<Fence>>;
    /// A page of a brand's fences in id order.
    async fn list_fences(&self, brand: &BrandId, page: &FencePage) -> StoreResult<Vec<Fence>>;
    /// Replaces a fence at `now`; `None` if it does not exist.
    async fn update_fence(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        draft: FenceDraft,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Fence>>;
    /// Deletes a fence, audited at `now`; `None` if it did not exist.
    async fn delete_fence(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Fence>>;
    /// Every fence (start-up load of the index).
    async fn all_fences(&self) -> StoreResult<Vec<Fence>>;
    /// Which of these ids are not fences of the brand.
    async fn missing_fences(&self, brand: &BrandId, ids: &[Uuid]) -> StoreResult<Vec<Uuid>>;
}
