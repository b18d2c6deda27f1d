//! The catalog's change log on PostgreSQL: rows written inside each change's transaction,
//! serialized by a transaction-level advisory lock, announced with `NOTIFY geoffer_catalog`.

use super::{PgStore, Tx, db_err, from_ms, ms};
use crate::domain::BrandId;
use crate::store::StoreResult;
use crate::store::changelog::{CatalogChange, ChangeLogStore, ChangeWatcher, ChangedEntity};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgListener;

/// The channel replicas LISTEN on.
pub const CHANNEL: &str = "geoffer_catalog";

/// The advisory lock every change-log writer holds until it commits ("geof"). An identity
/// column hands out numbers at insert time, not at commit: without the lock, a transaction
/// that took 7 and commits after one that took 8 would be skipped by a reader that already
/// moved past 8. With it, the rows commit one writer at a time, in `seq` order.
const LOG_LOCK: i64 = 0x6765_6f66;

/// A row of the log as read back (for tests and diagnostics).
pub type CatalogChangeRow = CatalogChange;

/// Adds one row per id to the log inside `tx` and notifies listeners at commit.
pub(super) async fn record(
    tx: &mut Tx<'_>,
    at: DateTime<Utc>,
    entity: ChangedEntity,
    brand: &BrandId,
    ids: &[String],
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOG_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO catalog_changes (at, entity, brand_id, entity_id)
         SELECT $1, $2, $3, id FROM UNNEST($4::text[]) AS id",
    )
    .bind(ms(at))
    .bind(entity.as_str())
    .bind(brand.as_str())
    .bind(ids)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    // Delivered at commit, and only if the transaction commits.
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ChangeLogStore for PgStore {
    async fn changes_after(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Option<Vec<CatalogChange>>> {
        let rows = sqlx::query(
            "SELECT seq, at, entity, brand_id, entity_id FROM catalog_changes
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let entity: String = r.get("entity");
            let brand: String = r.get("brand_id");
            out.push(CatalogChange {
                seq: r.get("seq"),
                at: from_ms(r.get("at")),
                entity: ChangedEntity::parse(&entity).ok_or_else(|| {
                    anyhow::anyhow!("unknown entity `{entity}` in catalog_changes")
                })?,
                brand: BrandId::parse(&brand).map_err(anyhow::Error::msg)?,
                id: r.get("entity_id"),
            });
        }
        Ok(Some(out))
    }

    async fn last_change(&self) -> StoreResult<Option<i64>> {
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM catalog_changes")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(Some(seq))
    }

    async fn watch_changes(&self) -> StoreResult<Option<Box<dyn ChangeWatcher>>> {
        let mut listener = PgListener::connect(&self.url).await.map_err(db_err)?;
        listener.listen(CHANNEL).await.map_err(db_err)?;
        Ok(Some(Box::new(Watcher { listener })))
    }
}

struct Watcher {
    listener: PgListener,
}

#[async_trait]
impl ChangeWatcher for Watcher {
    async fn wait(&mut self) -> StoreResult<bool> {
        // `try_recv` answers `None` when the connection was lost: it reconnects (and listens
        // again) on the next call, but whatever was notified meanwhile is gone.
        match self.listener.try_recv().await.map_err(db_err)? {
            Some(_) => Ok(true),
            None => Ok(false),
        }
    }
}
