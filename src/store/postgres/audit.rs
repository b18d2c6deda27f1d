//! The admin change log (written inside each change's transaction) and the support read log.

use super::{PgStore, Tx, db_err, from_ms, ms};
use crate::audit::{AuditEntry, AuditQuery, ReadEntry, ReadQuery, ReadRecord};
use crate::store::shared::Change;
use crate::store::{AuditStore, StoreResult};
use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder, Row};

const CHANGE_COLUMNS: &str = "INSERT INTO audit_changes (at, key_id, role, brand_id, entity, entity_id, action, before, after) ";

/// Records one change inside the caller's transaction.
pub(super) async fn record(tx: &mut Tx<'_>, change: &Change) -> StoreResult<()> {
    record_many(tx, std::slice::from_ref(change)).await
}

/// Records many changes with few statements (imports of 100,000 fences).
pub(super) async fn record_many(tx: &mut Tx<'_>, changes: &[Change]) -> StoreResult<()> {
    for chunk in changes.chunks(2_000) {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(CHANGE_COLUMNS);
        qb.push_values(chunk, |mut b, c| {
            b.push_bind(ms(c.at))
                .push_bind(c.key_id.clone())
                .push_bind(c.role.clone())
                .push_bind(c.brand.clone())
                .push_bind(c.entity)
                .push_bind(c.entity_id.clone())
                .push_bind(c.action)
                .push_bind(c.before.as_ref().map(|v| v.to_string()))
                .push_bind(c.after.as_ref().map(|v| v.to_string()));
        });
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl AuditStore for PgStore {
    async fn list_changes(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT id, at, key_id, role, brand_id, entity, entity_id, action, before, after FROM audit_changes WHERE 1=1",
        );
        if let Some(b) = &q.brand {
            qb.push(" AND brand_id = ").push_bind(b.clone());
        }
        if let Some(from) = q.from {
            qb.push(" AND at >= ").push_bind(ms(from));
        }
        if let Some(to) = q.to {
            qb.push(" AND at < ").push_bind(ms(to));
        }
        if let Some(before) = q.before_id {
            qb.push(" AND id < ").push_bind(before);
        }
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.get("id"),
                at: from_ms(r.get("at")),
                key_id: r.get("key_id"),
                role: r.get("role"),
                brand: r.get("brand_id"),
                entity: r.get("entity"),
                entity_id: r.get("entity_id"),
                action: r.get("action"),
                before: json(r.get("before")),
                after: json(r.get("after")),
            })
            .collect())
    }

    async fn record_read(&self, r: &ReadRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_reads (at, key_id, role, brand_id, what, app_id, subject, query)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(ms(r.at))
        .bind(&r.key_id)
        .bind(&r.role)
        .bind(&r.brand)
        .bind(r.what)
        .bind(&r.app)
        .bind(&r.subject)
        .bind(&r.query)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_reads(&self, q: &ReadQuery) -> StoreResult<Vec<ReadEntry>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT id, at, key_id, role, brand_id, what, app_id, subject, query FROM audit_reads WHERE 1=1",
        );
        if let Some(from) = q.from {
            qb.push(" AND at >= ").push_bind(ms(from));
        }
        if let Some(to) = q.to {
            qb.push(" AND at < ").push_bind(ms(to));
        }
        if let Some(k) = &q.key_id {
            qb.push(" AND key_id = ").push_bind(k.clone());
        }
        if let Some(w) = &q.what {
            qb.push(" AND what = ").push_bind(w.clone());
        }
        if let Some(before) = q.before_id {
            qb.push(" AND id < ").push_bind(before);
        }
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|r| ReadEntry {
                id: r.get("id"),
                at: from_ms(r.get("at")),
                key_id: r.get("key_id"),
                role: r.get("role"),
                brand: r.get("brand_id"),
                what: r.get("what"),
                app: r.get("app_id"),
                subject: r.get("subject"),
                query: r.get("query"),
            })
            .collect())
    }
}
