//! Durable storage behind small per-concept traits, combined as one [`Store`], so a
//! PostgreSQL implementation ([`postgres`]) sits beside SQLite without touching its callers. Every
//! admin write takes the acting key and the time of the change and records the audit entry
//! in the same transaction as the change: no change without its record.
//!
//! The store keeps no clock: every time it records (audit entries, `received_at`, consent
//! times, the timestamps inside minted ids) comes from the caller. Rules that do not depend
//! on the database live in [`shared`], for every backend to reuse.

pub mod audit;
pub mod brands;
pub mod changelog;
pub mod decisions;
pub mod events;
pub mod fences;
pub mod health;
pub mod offers;
pub mod people;
pub mod postgres;
pub mod replay;
pub mod rows;
mod same_sql;
pub mod sessions;
pub mod shared;
pub mod sqlite;
pub mod support;
pub mod webhooks;

pub use crate::decisions::{Prior, StoredDecision};
pub use crate::offers::results::ResultCounts;
pub use audit::AuditStore;
pub use brands::{Brand, BrandStore};
pub use changelog::{CatalogChange, ChangeLogStore, ChangeWatcher, ChangedEntity};
pub use decisions::DecisionStore;
pub use events::{Applied, EventStore};
pub use fences::{FencePage, FenceStore, Upserted};
pub use health::Health;
pub use offers::OfferStore;
pub use people::{Erase, PeopleStore};
pub use replay::ReplayStore;
pub use sessions::SessionStore;
pub use support::SupportStore;
pub use webhooks::WebhookStore;

/// Every store trait, for `use crate::store::prelude::*;` where a store is called: a trait's
/// methods can be called only where the trait is in scope.
pub mod prelude {
    pub use super::{
        AuditStore, BrandStore, ChangeLogStore, DecisionStore, EventStore, FenceStore, Health,
        OfferStore, PeopleStore, ReplayStore, SessionStore, Store, SupportStore, WebhookStore,
    };
}

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

/// The whole storage interface: every concept's trait. Callers hold an `Arc<dyn Store>` and
/// bring the traits they call into scope with [`prelude`].
pub trait Store:
    Health
    + BrandStore
    + FenceStore
    + OfferStore
    + PeopleStore
    + EventStore
    + DecisionStore
    + SupportStore
    + AuditStore
    + ChangeLogStore
    + SessionStore
    + WebhookStore
    + ReplayStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: Health
        + BrandStore
        + FenceStore
        + OfferStore
        + PeopleStore
        + EventStore
        + DecisionStore
        + SupportStore
        + AuditStore
        + ChangeLogStore
        + SessionStore
        + WebhookStore
        + ReplayStore
        + Send
        + Sync
        + 'static
{
}
