//! Offer rows: the versioned spec document plus bookkeeping columns.

use super::audit;
use super::{SqliteStore, db_err, from_ms, ms};
use crate::auth::Principal;
use crate::domain::BrandId;
use crate::offers::{Offer, OfferSpec, SPEC_VERSION};
use crate::store::{StoreError, StoreResult};
use anyhow::Context;
use chrono::Utc;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

const COLUMNS: &str = "id, brand_id, spec_version, spec, created_at, updated_at, version";

impl SqliteStore {
    pub(super) async fn create_offer_impl(
        &self,
        actor: &Principal,
        brand: &BrandId,
        spec: OfferSpec,
    ) -> StoreResult<Offer> {
        let now = Utc::now();
        let offer = Offer {
            id: Uuid::now_v7(),
            brand: brand.clone(),
            spec,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query("INSERT INTO offers (id, brand_id, spec_version, spec, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(offer.id.to_string())
            .bind(brand.as_str())
            .bind(SPEC_VERSION)
            .bind(spec_json(&offer.spec))
            .bind(ms(now))
            .bind(ms(now))
            .bind(1_i64)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::record(
            &mut tx,
            Some(actor),
            Some(brand),
            "offer",
            &offer.id.to_string(),
            "create",
            None,
            Some(view(&offer)),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(offer)
    }

    pub(super) async fn get_offer_impl(
        &self,
        brand: &BrandId,
        id: Uuid,
    ) -> StoreResult<Option<Offer>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM offers WHERE brand_id = ? AND id = ? AND deleted_at IS NULL"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(brand.as_str())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(offer_from_row).transpose()
    }

    pub(super) async fn list_offers_impl(
        &self,
        brand: &BrandId,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Offer>> {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
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

    pub(super) async fn update_offer_impl(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        spec: OfferSpec,
    ) -> StoreResult<Option<Offer>> {
        let Some(old) = self.get_offer_impl(brand, id).await? else {
            return Ok(None);
        };
        let new = Offer {
            spec,
            updated_at: Utc::now(),
            version: old.version + 1,
            ..old.clone()
        };
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let done = sqlx::query("UPDATE offers SET spec_version = ?, spec = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?")
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
        audit::record(
            &mut tx,
            Some(actor),
            Some(brand),
            "offer",
            &id.to_string(),
            "update",
            Some(view(&old)),
            Some(view(&new)),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(new))
    }

    pub(super) async fn delete_offer_impl(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
    ) -> StoreResult<Option<Offer>> {
        let Some(old) = self.get_offer_impl(brand, id).await? else {
            return Ok(None);
        };
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query("UPDATE offers SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL")
            .bind(ms(Utc::now()))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::record(
            &mut tx,
            Some(actor),
            Some(brand),
            "offer",
            &id.to_string(),
            "delete",
            Some(view(&old)),
            None,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(old))
    }

    pub(super) async fn all_offers_impl(&self) -> StoreResult<Vec<Offer>> {
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

fn view(o: &Offer) -> serde_json::Value {
    serde_json::to_value(o.to_view()).unwrap_or_default()
}

fn offer_from_row(r: &SqliteRow) -> StoreResult<Offer> {
    let parse = || -> anyhow::Result<Offer> {
        let id: String = r.get("id");
        let brand: String = r.get("brand_id");
        let version: i64 = r.get("spec_version");
        let spec: String = r.get("spec");
        anyhow::ensure!(
            version == SPEC_VERSION,
            "offer spec version {version} is newer than this build understands"
        );
        Ok(Offer {
            id: Uuid::parse_str(&id)?,
            brand: BrandId::parse(&brand).map_err(anyhow::Error::msg)?,
            spec: serde_json::from_str(&spec).context("stored offer spec")?,
            created_at: from_ms(r.get("created_at")),
            updated_at: from_ms(r.get("updated_at")),
            version: r.get("version"),
        })
    };
    parse().map_err(StoreError::Other)
}
