//! Readiness: a read round trip, and a write through the group commit.

use super::{SqliteStore, commit, db_err};
use crate::store::{Health, StoreResult};
use async_trait::async_trait;

#[async_trait]
impl Health for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn write_probe(&self) -> StoreResult<()> {
        self.commit.write(commit::WriteProbe).await.map(drop)
    }
}
