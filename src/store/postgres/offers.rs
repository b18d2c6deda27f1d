//! Offer rows: the versioned spec document plus bookkeeping columns.

use super::{PgStore, audit, changelog, db_err, ms};
use crate::auth::Principal;
use crate::domain::BrandId;
use crate::offers::{Offer, OfferSpec, SPEC_VERSION};
use crate::store::changelog::ChangedEntity;
use crate::store::rows::OfferRow;
use crate::store::shared::{self, Change};
use crate::store::{OfferStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder};
use uuid::Uuid;

const COLUMNS: &str = "id, brand_id, spec_version, spec, created_at, updated_at, version";

#[async_trait]
impl OfferStore for PgStore {
    async fn create_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        spec: OfferSpec,
        now: DateTime<Utc>,
    ) -> StoreResult<Offer> {
        let offer = shared::new_offer(brand, spec, now);
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("INSERT INTO offers (id, brand_id, spec_version, spec, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(offer.id.to_string())
            .bind(brand.as_str())
            .bind(SPEC_VERSION)
            .bind(spec_json(&offer.spec))
            .bind(ms(offer.created_at))
            .bind(ms(offer.updated_at))
            .bind(offer.version)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::record(&mut tx, &Change::offer(actor, now, None, Some(&offer))).await?;
        changelog::record(
            &mut tx,
            now,
            ChangedEntity::Offer,
            brand,
            &[offer.id.to_string()],
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(offer)
    }

    async fn get_offer(&self, brand: &BrandId, id: Uuid) -> StoreResult<Option<Offer>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM offers WHERE brand_id = $1 AND id = $2 AND deleted_at IS NULL"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(brand.as_str())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(offer_from_row).transpose()
    }

    async fn list_offers(
        &self,
        brand: &BrandId,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Offer>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM offers WHERE deleted_at IS NULL AND brand_id = "
        ));
        qb.push_bind(brand.as_str().to_string());
        if let Some(after) = after {
            qb.push(" AND id > ").push_bind(after.to_string());
        }
        qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(offer_from_row).collect()
    }

    async fn update_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        spec: OfferSpec,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Offer>> {
        let Some(old) = self.get_offer(brand, id).await? else {
            return Ok(None);
        };
        let new = shared::next_offer(&old, spec, now);
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let done = sqlx::query("UPDATE offers SET spec_version = $1, spec = $2, updated_at = $3, version = $4 WHERE id = $5 AND version = $6")
            .bind(SPEC_VERSION)
            .bind(spec_json(&new.spec))
            .bind(ms(new.updated_at))
            .bind(new.version)
            .bind(id.to_string())
            .bind(old.version)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the offer changed while this update was applied; retry".into(),
            ));
        }
        audit::record(&mut tx, &Change::offer(actor, now, Some(&old), Some(&new))).await?;
        changelog::record(&mut tx, now, ChangedEntity::Offer, brand, &[id.to_string()]).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(new))
    }

    async fn delete_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Offer>> {
        let Some(old) = self.get_offer(brand, id).await? else {
            return Ok(None);
        };
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("UPDATE offers SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(ms(now))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::record(&mut tx, &Change::offer(actor, now, Some(&old), None)).await?;
        changelog::record(&mut tx, now, ChangedEntity::Offer, brand, &[id.to_string()]).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(old))
    }

    async fn all_offers(&self) -> StoreResult<Vec<Offer>> {
        let sql = format!("SELECT {COLUMNS} FROM offers WHERE deleted_at IS NULL ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(offer_from_row).collect()
    }
}

fn spec_json(spec: &OfferSpec) -> String {
    serde_json::to_string(spec).unwrap_or_default()
}

fn offer_from_row(r: &PgRow) -> StoreResult<Offer> {
    let row = OfferRow::from_row(r).map_err(db_err)?;
    Offer::try_from(row).map_err(StoreError::Other)
}
