//! Readiness: a read round trip, and a committed write.

use super::{PgStore, db_err};
use crate::store::health::PoolStats;
use crate::store::{Health, StoreResult};
use async_trait::async_trait;

#[async_trait]
impl Health for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn write_probe(&self) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO write_probe (id, at) VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        )
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    fn pool_stats(&self) -> Option<PoolStats> {
        Some(PoolStats {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
            acquires: self.acquire_waits().0,
            acquire_wait_us: self.acquire_waits().1,
        })
    }
}
