//! Brand and API key rows.

use super::{PgStore, audit, changelog, db_err, from_ms, ms};
use crate::auth::{ApiKeyRecord, Principal, Role};
use crate::domain::BrandId;
use crate::store::changelog::ChangedEntity;
use crate::store::shared::Change;
use crate::store::{Brand, BrandStore, StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;

#[async_trait]
impl BrandStore for PgStore {
    async fn create_brand(&self, actor: &Principal, brand: &Brand) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("INSERT INTO brands (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(brand.id.as_str())
            .bind(&brand.name)
            .bind(ms(brand.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| match db_err(e) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("brand `{}` already exists", brand.id))
                }
                other => other,
            })?;
        audit::record(&mut tx, &Change::brand_created(actor, brand)).await?;
        changelog::record(
            &mut tx,
            brand.created_at,
            ChangedEntity::Brand,
            &brand.id,
            &[brand.id.as_str().to_string()],
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_brand(&self, id: &BrandId) -> StoreResult<Option<Brand>> {
        let row = sqlx::query("SELECT id, name, created_at FROM brands WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|r| brand_from_row(&r)).transpose()
    }

    async fn list_brands(&self) -> StoreResult<Vec<Brand>> {
        let rows = sqlx::query("SELECT id, name, created_at FROM brands ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(brand_from_row).collect()
    }

    async fn create_key(&self, actor: Option<&Principal>, key: &ApiKeyRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO api_keys (id, secret_hash, role, brand_id, app_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.id)
        .bind(&key.secret_hash)
        .bind(key.role.as_str())
        .bind(key.brand.as_ref().map(BrandId::as_str))
        .bind(key.app.as_deref())
        .bind(ms(key.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        audit::record(&mut tx, &Change::key_created(actor, key)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query(
            "SELECT id, secret_hash, role, brand_id, app_id, created_at FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.get("role");
        let brand: Option<String> = r.get("brand_id");
        Ok(Some(ApiKeyRecord {
            id: r.get("id"),
            secret_hash: r.get("secret_hash"),
            role: Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("unknown role {role} in api_keys"))?,
            brand: brand
                .map(|b| BrandId::parse(&b))
                .transpose()
                .map_err(anyhow::Error::msg)?,
            app: r.get("app_id"),
            created_at: from_ms(r.get("created_at")),
        }))
    }
}

fn brand_from_row(r: &PgRow) -> StoreResult<Brand> {
    let id: String = r.get("id");
    Ok(Brand {
        id: BrandId::parse(&id).map_err(anyhow::Error::msg)?,
        name: r.get("name"),
        created_at: from_ms(r.get("created_at")),
    })
}
