//! Console session rows.

use super::{PgStore, db_err, from_ms, ms};
use crate::auth::{Role, SessionRecord};
use crate::domain::BrandId;
use crate::store::{SessionStore, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

#[async_trait]
impl SessionStore for PgStore {
    async fn create_session(&self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, key_id, role, brand_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.token_hash)
        .bind(&s.key_id)
        .bind(s.role.as_str())
        .bind(s.brand.as_ref().map(BrandId::as_str))
        .bind(ms(s.created_at))
        .bind(ms(s.expires_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn valid_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT token_hash, key_id, role, brand_id, created_at, expires_at
             FROM console_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| {
            let role: String = r.get("role");
            let brand: Option<String> = r.get("brand_id");
            Ok(SessionRecord {
                token_hash: r.get("token_hash"),
                key_id: r.get("key_id"),
                role: Role::parse(&role)
                    .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown role `{role}`")))?,
                brand: brand
                    .map(|b| BrandId::parse(&b))
                    .transpose()
                    .map_err(|e| StoreError::Other(anyhow::anyhow!("stored brand: {e}")))?,
                created_at: from_ms(r.get("created_at")),
                expires_at: from_ms(r.get("expires_at")),
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
