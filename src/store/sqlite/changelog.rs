//! SQLite keeps no shared change log: one process owns the file, and its in-process change
//! feed carries every change to its catalog.

use super::SqliteStore;
use crate::store::StoreResult;
use crate::store::changelog::{CatalogChange, ChangeLogStore, ChangeWatcher};
use async_trait::async_trait;

#[async_trait]
impl ChangeLogStore for SqliteStore {
    async fn changes_after(
        &self,
        _after: i64,
        _limit: u32,
    ) -> StoreResult<Option<Vec<CatalogChange>>> {
        Ok(None)
    }

    async fn last_change(&self) -> StoreResult<Option<i64>> {
        Ok(None)
    }

    async fn watch_changes(&self) -> StoreResult<Option<Box<dyn ChangeWatcher>>> {
        Ok(None)
    }
}
