//! Brands and API keys.

use super::StoreResult;
use crate::auth::{ApiKeyRecord, Principal};
use crate::domain::BrandId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A brand.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Brand {
    /// Id used in URLs.
    #[schema(value_type = String)]
    pub id: BrandId,
    /// Display name (`brand.name` in offer copy).
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Brands and the keys that act for them.
#[async_trait]
pub trait BrandStore: Send + Sync {
    /// Creates a brand, audited at `brand.created_at`; `Conflict` if the id exists.
    async fn create_brand(&self, actor: &Principal, brand: &Brand) -> StoreResult<()>;
    /// One brand.
    async fn get_brand(&self, id: &BrandId) -> StoreResult<Option<Brand>>;
    /// All brands, in id order.
    async fn list_brands(&self) -> StoreResult<Vec<Brand>>;
    /// Stores a key record, audited at `key.created_at`; `actor` is `None` when made from the
    /// command line. `Conflict` if the id exists.
    async fn create_key(&self, actor: Option<&Principal>, key: &ApiKeyRecord) -> StoreResult<()>;
    /// Finds a key by its public id.
    async fn find_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>>;
}
