//! Time-ordered reads for backtests: a brand's recorded decisions and the deliveries its
//! virtual limiter replays, each a keyset page (docs/backtest.md).

use super::{PgStore, db_err, from_ms, ms};
use crate::decisions::replay::{LiveDelivery, LiveDeliveryQuery, MomentQuery, RecordedMoment};
use crate::store::{ReplayStore, StoreResult};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

#[async_trait]
impl ReplayStore for PgStore {
    async fn recorded_moments(&self, q: &MomentQuery) -> StoreResult<Vec<RecordedMoment>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT d.app_id, d.checkin_id, d.user_id, d.person, d.at, d.reason,
                    d.trace,
                    CASE WHEN d.delivery_id IS NULL THEN NULL ELSE d.offer_id END AS delivered
             FROM decisions d WHERE d.trace_purged_at IS NULL AND d.at >= ",
        );
        qb.push_bind(ms(q.from))
            .push(" AND d.at < ")
            .push_bind(ms(q.to))
            .push(
                " AND EXISTS (SELECT 1 FROM decision_brands b WHERE b.app_id = d.app_id
                   AND b.checkin_id = d.checkin_id AND b.brand_id = ",
            )
            .push_bind(q.brand.clone())
            .push(")");
        if let Some(k) = &q.after {
            qb.push(" AND (d.at, d.app_id, d.checkin_id) > (")
                .push_bind(k.at_ms)
                .push(", ")
                .push_bind(k.app.clone())
                .push(", ")
                .push_bind(k.checkin_id.clone())
                .push(")");
        }
        qb.push(" ORDER BY d.at, d.app_id, d.checkin_id LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(moment_from_row).collect()
    }

    async fn live_deliveries(&self, q: &LiveDeliveryQuery) -> StoreResult<Vec<LiveDelivery>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT x.id, x.created_at, x.app_id, x.checkin_id, x.user_id, x.person, x.brand_id,
                    x.offer_id, x.fence_id
             FROM deliveries x WHERE x.created_at < ",
        );
        qb.push_bind(ms(q.to))
            .push(" AND (x.created_at >= ")
            .push_bind(ms(q.since))
            .push(" OR x.brand_id = ")
            .push_bind(q.brand.clone())
            .push(") AND NOT (x.created_at >= ")
            .push_bind(ms(q.from))
            .push(
                " AND EXISTS (SELECT 1 FROM decision_brands b WHERE b.app_id = x.app_id
                   AND b.checkin_id = x.checkin_id AND b.brand_id = ",
            )
            .push_bind(q.brand.clone())
            .push("))");
        if let Some((at_ms, id)) = q.after {
            qb.push(" AND (x.created_at, x.id) > (")
                .push_bind(at_ms)
                .push(", ")
                .push_bind(id.to_string())
                .push(")");
        }
        qb.push(" ORDER BY x.created_at, x.id LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(delivery_from_row).collect()
    }
}

fn uuid(r: &PgRow, col: &str) -> StoreResult<Uuid> {
    let s: String = r.get(col);
    Uuid::parse_str(&s).map_err(|e| anyhow::anyhow!("{col} `{s}`: {e}").into())
}

fn moment_from_row(r: &PgRow) -> StoreResult<RecordedMoment> {
    let delivered: Option<String> = r.get("delivered");
    Ok(RecordedMoment {
        app: r.get("app_id"),
        checkin_id: r.get("checkin_id"),
        user_id: r.get("user_id"),
        person: r.get("person"),
        at: from_ms(r.get("at")),
        reason: r.get("reason"),
        trace: r.get("trace"),
        delivered: delivered.and_then(|s| Uuid::parse_str(&s).ok()),
    })
}

fn delivery_from_row(r: &PgRow) -> StoreResult<LiveDelivery> {
    Ok(LiveDelivery {
        id: uuid(r, "id")?,
        at: from_ms(r.get("created_at")),
        app: r.get("app_id"),
        checkin_id: r.get("checkin_id"),
        user_id: r.get("user_id"),
        person: r.get("person"),
        brand: r.get("brand_id"),
        offer_id: uuid(r, "offer_id")?,
        fence_id: uuid(r, "fence_id")?,
    })
}
