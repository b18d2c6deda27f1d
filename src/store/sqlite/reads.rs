//! The log of support reads (`audit_reads`).

use super::{db_err, from_ms, ms};
use crate::audit::{ReadEntry, ReadQuery, ReadRecord};
use crate::store::StoreResult;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

/// Records one read.
pub(super) async fn record(pool: &SqlitePool, r: &ReadRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_reads (at, key_id, role, brand_id, what, app_id, subject, query)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(ms(r.at))
    .bind(&r.key_id)
    .bind(&r.role)
    .bind(&r.brand)
    .bind(r.what)
    .bind(&r.app)
    .bind(&r.subject)
    .bind(&r.query)
    .execute(pool)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Newest first, filtered.
pub(super) async fn list(pool: &SqlitePool, q: &ReadQuery) -> StoreResult<Vec<ReadEntry>> {
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
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
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
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
