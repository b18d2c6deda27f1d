//! Writing and reading the admin audit log.

use super::{Tx, db_err, from_ms, ms};
use crate::audit::{AuditEntry, AuditQuery};
use crate::auth::Principal;
use crate::domain::BrandId;
use crate::store::StoreResult;
use chrono::Utc;
use serde_json::Value;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

/// Records one change inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(super) async fn record(
    tx: &mut Tx<'_>,
    actor: Option<&Principal>,
    brand: Option<&BrandId>,
    entity: &str,
    entity_id: &str,
    action: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> StoreResult<()> {
    let (key_id, role) = actor.map_or(("cli", "admin"), |a| (a.key_id.as_str(), a.role.as_str()));
    sqlx::query(
        "INSERT INTO audit_changes (at, key_id, role, brand_id, entity, entity_id, action, before, after)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(ms(Utc::now()))
    .bind(key_id)
    .bind(role)
    .bind(brand.map(BrandId::as_str))
    .bind(entity)
    .bind(entity_id)
    .bind(action)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// One row of a bulk audit insert.
pub(super) struct AuditRow<'a> {
    pub entity_id: String,
    pub action: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Records many changes of one entity kind with few statements (imports of 100,000 fences).
pub(super) async fn record_many(
    tx: &mut Tx<'_>,
    actor: &Principal,
    brand: &BrandId,
    entity: &str,
    rows: Vec<AuditRow<'_>>,
) -> StoreResult<()> {
    let now = ms(Utc::now());
    for chunk in rows.chunks(2_000) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO audit_changes (at, key_id, role, brand_id, entity, entity_id, action, before, after) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(now)
                .push_bind(actor.key_id.clone())
                .push_bind(actor.role.as_str())
                .push_bind(brand.as_str().to_string())
                .push_bind(entity.to_string())
                .push_bind(r.entity_id.clone())
                .push_bind(r.action.to_string())
                .push_bind(r.before.clone())
                .push_bind(r.after.clone());
        });
        qb.build().execute(&mut **tx).await.map_err(db_err)?;
    }
    Ok(())
}

/// Newest first, filtered.
pub(super) async fn list(pool: &SqlitePool, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
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
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
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
