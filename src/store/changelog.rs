//! The catalog's change log, for replicas that share one database: every committed change to
//! a brand, fence or offer leaves a row naming what changed, and each process reads the rows
//! after the last one it applied to bring its in-memory catalog up to date. A backend that one
//! process owns alone (SQLite) keeps no such log: its in-process change feed is enough.

use super::StoreResult;
use crate::domain::BrandId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// What kind of thing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangedEntity {
    /// A brand (its name).
    Brand,
    /// A fence.
    Fence,
    /// An offer.
    Offer,
}

impl ChangedEntity {
    /// The name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Brand => "brand",
            Self::Fence => "fence",
            Self::Offer => "offer",
        }
    }

    /// The entity a stored name stands for.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "brand" => Some(Self::Brand),
            "fence" => Some(Self::Fence),
            "offer" => Some(Self::Offer),
            _ => None,
        }
    }
}

/// One row of the log: the thing changed, not its new state (readers read that from the
/// store, so a reader that applies a row late still gets the latest state).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogChange {
    /// Position in the log; rows become visible in this order.
    pub seq: i64,
    /// When the change was committed (the writer's clock).
    pub at: DateTime<Utc>,
    /// What kind of thing changed.
    pub entity: ChangedEntity,
    /// Its brand (for a brand, itself).
    pub brand: BrandId,
    /// Its id (a fence's or offer's UUID, or the brand id).
    pub id: String,
}

/// Waits for the database to say that a change may have been committed.
#[async_trait]
pub trait ChangeWatcher: Send {
    /// Returns after a notification (`true`), or when notifications may have been missed
    /// (`false`: the connection was lost and re-established): read the log either way.
    async fn wait(&mut self) -> StoreResult<bool>;
}

/// Reading the change log.
#[async_trait]
pub trait ChangeLogStore: Send + Sync {
    /// Rows after `after`, oldest first, at most `limit`; `None` when this backend keeps no
    /// shared log.
    async fn changes_after(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Option<Vec<CatalogChange>>>;
    /// The last row's `seq` (0 for an empty log); `None` when this backend keeps no log.
    async fn last_change(&self) -> StoreResult<Option<i64>>;
    /// A watcher of new rows; `None` when this backend keeps no log.
    async fn watch_changes(&self) -> StoreResult<Option<Box<dyn ChangeWatcher>>>;
}
