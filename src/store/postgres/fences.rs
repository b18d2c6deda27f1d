//! Fence rows. Imports write in multi-row statements: 100,000 fences in one transaction.
//! Every change adds its fences to the catalog's change log in the same transaction.

use super::{PgStore, Tx, audit, changelog, db_err, ms};
use crate::auth::Principal;
use crate::domain::{BrandId, RadiusM};
use crate::fences::{Fence, FenceDraft};
use crate::store::changelog::ChangedEntity;
use crate::store::rows::FenceRow;
use crate::store::shared::{self, Change};
use crate::store::{FencePage, FenceStore, StoreError, StoreResult, Upserted};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder};
use std::collections::HashMap;
use uuid::Uuid;

const COLUMNS: &str = "id, brand_id, name, geometry, radius_m, timezone, tags, external_id, max_accuracy_m, created_at, updated_at, version";

/// Rows per multi-row INSERT: 12 columns × 1,000 stays far under PostgreSQL's 65,535 parameters.
const CHUNK: usize = 1_000;

#[async_trait]
impl FenceStore for PgStore {
    async fn put_fences(
        &self,
        actor: &Principal,
        brand: &BrandId,
        drafts: Vec<FenceDraft>,
        upsert: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(Fence, Upserted)>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let existing = if upsert {
            existing_by_external_id(&mut tx, brand).await?
        } else {
            HashMap::new()
        };
        let plan = shared::plan_import(brand, drafts, &existing, now);
        let replaced_ids: Vec<String> = plan.replaced.iter().map(|f| f.id.to_string()).collect();
        for chunk in replaced_ids.chunks(CHUNK) {
            let mut qb: QueryBuilder<Postgres> =
                QueryBuilder::new("DELETE FROM geofences WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(id.clone());
            }
            qb.push(")");
            qb.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        let fences: Vec<&Fence> = plan.fences.iter().map(|(f, _)| f).collect();
        insert_rows(&mut tx, &fences).await.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(
                "a fence with this external_id already exists for the brand; use PUT to change it"
                    .into(),
            ),
            other => other,
        })?;
        audit::record_many(&mut tx, &plan.changes(actor, now)).await?;
        let ids: Vec<String> = plan.fences.iter().map(|(f, _)| f.id.to_string()).collect();
        changelog::record(&mut tx, now, ChangedEntity::Fence, brand, &ids).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(plan.fences)
    }

    async fn get_fence(&self, brand: &BrandId, id: Uuid) -> StoreResult<Option<Fence>> {
        let sql = format!("SELECT {COLUMNS} FROM geofences WHERE brand_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(brand.as_str())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(fence_from_row).transpose()
    }

    async fn list_fences(&self, brand: &BrandId, page: &FencePage) -> StoreResult<Vec<Fence>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM geofences g WHERE brand_id = "
        ));
        qb.push_bind(brand.as_str().to_string());
        if let Some(tag) = &page.tag {
            qb.push(" AND id IN (SELECT fence_id FROM geofence_tags WHERE brand_id = ")
                .push_bind(brand.as_str().to_string())
                .push(" AND tag = ")
                .push_bind(tag.clone())
                .push(")");
        }
        if let Some(after) = page.after {
            qb.push(" AND id > ").push_bind(after.to_string());
        }
        qb.push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(page.limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(fence_from_row).collect()
    }

    async fn update_fence(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        draft: FenceDraft,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Fence>> {
        let Some(old) = self.get_fence(brand, id).await? else {
            return Ok(None);
        };
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let new = shared::next_fence(&old, draft, now);
        sqlx::query("DELETE FROM geofences WHERE id = $1 AND version = $2")
            .bind(id.to_string())
            .bind(old.version)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_rows(&mut tx, &[&new]).await?;
        audit::record(&mut tx, &Change::fence(actor, now, Some(&old), Some(&new))).await?;
        changelog::record(&mut tx, now, ChangedEntity::Fence, brand, &[id.to_string()]).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(new))
    }

    async fn delete_fence(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Fence>> {
        let Some(old) = self.get_fence(brand, id).await? else {
            return Ok(None);
        };
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM geofences WHERE id = $1 AND brand_id = $2")
            .bind(id.to_string())
            .bind(brand.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        audit::record(&mut tx, &Change::fence(actor, now, Some(&old), None)).await?;
        changelog::record(&mut tx, now, ChangedEntity::Fence, brand, &[id.to_string()]).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(old))
    }

    async fn all_fences(&self) -> StoreResult<Vec<Fence>> {
        let sql = format!("SELECT {COLUMNS} FROM geofences ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(fence_from_row).collect()
    }

    async fn missing_fences(&self, brand: &BrandId, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        let wanted: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM geofences WHERE brand_id = $1 AND id = ANY($2::text[])",
        )
        .bind(brand.as_str())
        .bind(&wanted)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ids
            .iter()
            .filter(|id| !found.contains(&id.to_string()))
            .copied()
            .collect())
    }
}

async fn existing_by_external_id(
    tx: &mut Tx<'_>,
    brand: &BrandId,
) -> StoreResult<HashMap<String, Fence>> {
    let sql =
        format!("SELECT {COLUMNS} FROM geofences WHERE brand_id = $1 AND external_id IS NOT NULL");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(brand.as_str())
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    rows.iter()
        .map(|r| fence_from_row(r).map(|f| (f.draft.external_id.clone().unwrap_or_default(), f)))
        .collect()
}

async fn insert_rows(tx: &mut Tx<'_>, fences: &[&Fence]) -> StoreResult<()> {
    for chunk in fences.chunks(CHUNK) {
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("INSERT INTO geofences ({COLUMNS}) "));
        qb.push_values(chunk, |mut b, f| {
            let d = &f.draft;
            b.push_bind(f.id.to_string())
                .push_bind(f.brand.as_str().to_string())
                .push_bind(d.name.clone())
                .push_bind(serde_json::to_string(&d.geometry).unwrap_or_default())
                .push_bind(d.radius.map(RadiusM::metres))
                .push_bind(d.timezone.name())
                .push_bind(serde_json::to_string(&d.tags).unwrap_or_default())
                .push_bind(d.external_id.clone())
                .push_bind(d.max_accuracy.metres())
                .push_bind(ms(f.created_at))
                .push_bind(ms(f.updated_at))
                .push_bind(f.version);
        });
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
        let tags: Vec<(String, String, String)> = chunk
            .iter()
            .flat_map(|f| {
                f.draft
                    .tags
                    .iter()
                    .map(|t| (f.id.to_string(), f.brand.as_str().to_string(), t.clone()))
            })
            .collect();
        for tag_chunk in tags.chunks(CHUNK * 4) {
            let mut qb: QueryBuilder<Postgres> =
                QueryBuilder::new("INSERT INTO geofence_tags (fence_id, brand_id, tag) ");
            qb.push_values(tag_chunk, |mut b, (id, brand, tag)| {
                b.push_bind(id.clone())
                    .push_bind(brand.clone())
                    .push_bind(tag.clone());
            });
            qb.build().execute(&mut **tx).await.map_err(db_err)?;
        }
    }
    Ok(())
}

fn fence_from_row(r: &PgRow) -> StoreResult<Fence> {
    let row = FenceRow::from_row(r).map_err(db_err)?;
    Fence::try_from(row).map_err(StoreError::Other)
}
