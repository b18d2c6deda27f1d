//! Durable storage behind one trait, so a PostgreSQL implementation can sit beside SQLite
//! without touching handlers. Every write takes the acting key and records the audit entry in
//! the same transaction as the change: no change without its record.

pub mod sqlite;

use crate::audit::{AuditEntry, AuditQuery};
use crate::audit::{ReadEntry, ReadQuery, ReadRecord};
use crate::auth::{ApiKeyRecord, Principal};
use crate::decisions::{
    DecisionRecord, Delivery, DeliveryFilter, DeliveryKey, Labels, TimelineQuery, TimelineRow,
};
pub use crate::decisions::{Prior, StoredDecision};
use crate::domain::BrandId;
use crate::events::Event;
use crate::fences::{Fence, FenceDraft};
pub use crate::offers::results::ResultCounts;
use crate::offers::{Offer, OfferSpec};
use crate::people::{Consent, ConsentInput, PersonId, Profile};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Storage failures callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken, or a state change makes no sense.
    #[error("{0}")]
    Conflict(String),
    /// The thing the request refers to does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database cannot record (or answer) right now: disk full, read-only file, I/O
    /// error, locked past the busy timeout. Nothing was changed; a retry may succeed.
    #[error("the database cannot record right now: {0:#}")]
    Unavailable(anyhow::Error),
    /// Anything else: the database is corrupt, or the query is wrong.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

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

/// What applying an event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Recorded, with its effect; the brand it concerned, if any.
    Accepted {
        /// Brand of the delivery, purchase or follow.
        brand: Option<String>,
    },
    /// Seen before (same app and event id): nothing changed.
    Duplicate,
}

/// How much of a person to erase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erase {
    /// Personalization withdrawn: follows, interests, traits, purchases.
    Profile,
    /// Location withdrawn: the profile plus events and decisions; deliveries de-identified.
    History,
    /// Erasure request: all of it, consent records included.
    Everything,
}

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

/// The storage interface.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip for /readyz.
    async fn ping(&self) -> StoreResult<()>;

    /// Whether the store can record right now, for /readyz: a small committed write through
    /// the same path as decisions. `Unavailable` when the disk is full or the database is
    /// read-only.
    async fn write_probe(&self) -> StoreResult<()> {
        self.ping().await
    }

    /// Creates a brand; `Conflict` if the id exists.
    async fn create_brand(&self, actor: &Principal, brand: &Brand) -> StoreResult<()>;
    /// One brand.
    async fn get_brand(&self, id: &BrandId) -> StoreResult<Option<Brand>>;
    /// All brands.
    async fn list_brands(&self) -> StoreResult<Vec<Brand>>;

    /// Stores a key record; `actor` is `None` when made from the command line.
    async fn create_key(&self, actor: Option<&Principal>, key: &ApiKeyRecord) -> StoreResult<()>;
    /// Finds a key by its public id.
    async fn find_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>>;

    /// Creates fences, all or nothing. With `upsert`, a draft whose `external_id` exists for the
    /// brand replaces that fence (keeping its id); without it that is a `Conflict`.
    async fn put_fences(
        &self,
        actor: &Principal,
        brand: &BrandId,
        drafts: Vec<FenceDraft>,
        upsert: bool,
    ) -> StoreResult<Vec<(Fence, Upserted)>>;
    /// One fence of a brand.
    async fn get_fence(&self, brand: &BrandId, id: Uuid) -> StoreResult<Option<Fence>>;
    /// A page of a brand's fences in id order.
    async fn list_fences(&self, brand: &BrandId, page: &FencePage) -> StoreResult<Vec<Fence>>;
    /// Replaces a fence; `None` if it does not exist.
    async fn update_fence(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        draft: FenceDraft,
    ) -> StoreResult<Option<Fence>>;
    /// Deletes a fence; `None` if it did not exist.
    async fn delete_fence(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
    ) -> StoreResult<Option<Fence>>;
    /// Every fence (start-up load of the index).
    async fn all_fences(&self) -> StoreResult<Vec<Fence>>;
    /// Which of these ids are not fences of the brand.
    async fn missing_fences(&self, brand: &BrandId, ids: &[Uuid]) -> StoreResult<Vec<Uuid>>;

    /// Creates an offer.
    async fn create_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        spec: OfferSpec,
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
    /// Replaces an offer's spec; `None` if it does not exist.
    async fn update_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        spec: OfferSpec,
    ) -> StoreResult<Option<Offer>>;
    /// Retires an offer (kept for results and audit, gone from the API); `None` if missing.
    async fn delete_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
    ) -> StoreResult<Option<Offer>>;
    /// Every live offer (start-up load of the engine).
    async fn all_offers(&self) -> StoreResult<Vec<Offer>>;

    /// The admin audit log, newest first.
    async fn list_changes(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;

    /// A person's consent, if they ever answered.
    async fn get_consent(&self, app: &str, user_id: &str) -> StoreResult<Option<Consent>>;
    /// Records a consent answer (and its history entry).
    async fn put_consent(
        &self,
        app: &str,
        user_id: &str,
        consent: &ConsentInput,
    ) -> StoreResult<Consent>;
    /// Follows, interests and purchases since `since`.
    async fn profile(&self, person: &PersonId, since: DateTime<Utc>) -> StoreResult<Profile>;
    /// Every recorded decision with this check-in id (one per app that used it).
    async fn decisions_by_checkin(&self, checkin_id: &str) -> StoreResult<Vec<StoredDecision>>;
    /// Records an event and applies its effect in one transaction; `Conflict` when the
    /// transition makes no sense, `NotFound` for an unknown delivery.
    async fn apply_event(
        &self,
        app: &str,
        person: &PersonId,
        event: &Event,
        body: &serde_json::Value,
    ) -> StoreResult<Applied>;
    /// Erases what is kept about a person, as far as `what` says.
    async fn erase(&self, person: &PersonId, what: Erase) -> StoreResult<()>;
    /// Keeps a receipt of an erasure (nothing else).
    async fn record_erasure(&self, receipt: &str) -> StoreResult<()>;
    /// Counts behind an offer's results, with purchases attributed within `window`.
    async fn offer_results(
        &self,
        offer: Uuid,
        window: chrono::Duration,
    ) -> StoreResult<ResultCounts>;
    /// Persists decisions (and their deliveries) in one transaction. A decision whose
    /// (app, check-in) is already recorded, in the store or earlier in the same batch, is
    /// not saved again: its slot in the answer holds what was recorded first ([`Prior`]), for
    /// the caller to replay (a retry) or refuse (the id reused); new decisions get `None`.
    async fn save_decisions(&self, batch: Vec<DecisionRecord>) -> StoreResult<Vec<Option<Prior>>>;
    /// What is recorded for this app's check-in id, if it was decided before.
    async fn prior_decision(&self, app: &str, checkin_id: &str) -> StoreResult<Option<Prior>>;
    /// Replaces the trace of every decision made before `before` with null, noting `now` as
    /// the purge time; the decision rows and deliveries stay. Returns how many were purged.
    async fn purge_traces(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<u64>;

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
    /// A page of a person's timeline, oldest first.
    async fn timeline(&self, q: &TimelineQuery) -> StoreResult<Vec<TimelineRow>>;
    /// Records one read of a person's data.
    async fn record_read(&self, read: &ReadRecord) -> StoreResult<()>;
    /// The read log, newest first.
    async fn list_reads(&self, q: &ReadQuery) -> StoreResult<Vec<ReadEntry>>;
}
