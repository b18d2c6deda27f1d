//! Support reads: deliveries paged by keyset, offer labels, a person's timeline.

use super::{PgStore, db_err, from_ms, ms};
use crate::decisions::{
    Delivery, DeliveryFilter, DeliveryKey, Labels, OfferLabel, TimelineQuery, TimelineRow,
};
use crate::store::{StoreResult, SupportStore};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

const DELIVERY_COLUMNS: &str = "SELECT id, app_id, checkin_id, user_id, device_id, brand_id, \
    offer_id, fence_id, title, body, redemption_code, expires_at, status, created_at FROM deliveries";

#[async_trait]
impl SupportStore for PgStore {
    async fn list_deliveries(
        &self,
        f: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(DELIVERY_COLUMNS);
        qb.push(" WHERE 1=1");
        if let Some(p) = &f.person {
            qb.push(" AND person = ").push_bind(p.clone());
        }
        if let Some(b) = &f.brand {
            qb.push(" AND brand_id = ").push_bind(b.clone());
        }
        if let Some(o) = f.offer_id {
            qb.push(" AND offer_id = ").push_bind(o.to_string());
        }
        if let Some(x) = f.fence_id {
            qb.push(" AND fence_id = ").push_bind(x.to_string());
        }
        if let Some(s) = &f.status {
            qb.push(" AND status = ").push_bind(s.clone());
        }
        if let Some(from) = f.from {
            qb.push(" AND created_at >= ").push_bind(ms(from));
        }
        if let Some(to) = f.to {
            qb.push(" AND created_at < ").push_bind(ms(to));
        }
        // A row value: the (…, created_at, id) index seeks straight to the cursor.
        if let Some(k) = after {
            qb.push(" AND (created_at, id) < (")
                .push_bind(k.created_at_ms)
                .push(", ")
                .push_bind(k.id.to_string())
                .push(")");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn get_delivery(&self, id: Uuid) -> StoreResult<Option<Delivery>> {
        let sql = format!("{DELIVERY_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(delivery_from_row).transpose()
    }

    async fn offer_labels(&self, ids: &[String]) -> StoreResult<Labels> {
        let mut labels = Labels::new();
        let rows = sqlx::query(
            "SELECT id, brand_id, (spec::jsonb)->>'name' AS name FROM offers WHERE id = ANY($1::text[])",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        for r in rows {
            let name: Option<String> = r.get("name");
            labels.insert(
                r.get("id"),
                OfferLabel {
                    brand: r.get("brand_id"),
                    name: name.unwrap_or_default(),
                },
            );
        }
        Ok(labels)
    }

    async fn timeline(&self, q: &TimelineQuery) -> StoreResult<Vec<TimelineRow>> {
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT at, kind, key, detail FROM (");
        // Every branch names its columns: the first one's names are the union's, and brand
        // keys skip the consent branch. Consent changes involve no brand, so brands never see them.
        if q.brand.is_none() {
            qb.push(
                "SELECT at, 'consent' COLLATE \"C\" AS kind, lpad(id::text, 12, '0') COLLATE \"C\" AS key,
                   json_build_object('location', location, 'personalization', personalization)::text AS detail
                 FROM consent_events WHERE person = ",
            )
            .push_bind(q.person.clone())
            .push(" UNION ALL ");
        }
        qb.push(
            "SELECT d.at AS at, 'decision' COLLATE \"C\" AS kind, d.checkin_id AS key,
               json_build_object('checkin_id', d.checkin_id, 'decision', d.decision, 'reason', d.reason,
                           'offer_id', d.offer_id, 'delivery_id', d.delivery_id, 'offer_brand', x.brand_id)::text AS detail
             FROM decisions d LEFT JOIN deliveries x ON x.id = d.delivery_id WHERE d.person = ",
        )
        .push_bind(q.person.clone());
        if let Some(b) = &q.brand {
            qb.push(
                " AND EXISTS (SELECT 1 FROM decision_brands b WHERE b.app_id = d.app_id
                   AND b.checkin_id = d.checkin_id AND b.brand_id = ",
            )
            .push_bind(b.clone())
            .push(")");
        }
        qb.push(
            " UNION ALL SELECT created_at AS at, 'delivery' COLLATE \"C\" AS kind, id AS key,
               json_build_object('delivery_id', id, 'brand', brand_id, 'offer_id', offer_id, 'fence_id', fence_id,
                           'checkin_id', checkin_id, 'title', title, 'body', body,
                           'redemption_code', redemption_code, 'status', status)::text AS detail
             FROM deliveries WHERE person = ",
        )
        .push_bind(q.person.clone());
        if let Some(b) = &q.brand {
            qb.push(" AND brand_id = ").push_bind(b.clone());
        }
        qb.push(") t WHERE 1=1");
        if let Some(from) = q.from {
            qb.push(" AND at >= ").push_bind(ms(from));
        }
        if let Some(to) = q.to {
            qb.push(" AND at < ").push_bind(ms(to));
        }
        if let Some(k) = &q.after {
            qb.push(" AND (at, kind, key) > (")
                .push_bind(k.at_ms)
                .push(", ")
                .push_bind(k.kind.clone())
                .push(", ")
                .push_bind(k.key.clone())
                .push(")");
        }
        qb.push(" ORDER BY at, kind, key LIMIT ")
            .push_bind(i64::from(q.limit));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let detail: String = r.get("detail");
                Ok(TimelineRow {
                    at: from_ms(r.get("at")),
                    kind: r.get("kind"),
                    key: r.get("key"),
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| anyhow::anyhow!("timeline detail: {e}"))?,
                })
            })
            .collect()
    }
}

fn delivery_from_row(r: &PgRow) -> StoreResult<Delivery> {
    let uuid = |col: &str| -> StoreResult<Uuid> {
        let s: String = r.get(col);
        Uuid::parse_str(&s).map_err(|e| anyhow::anyhow!("deliveries.{col} `{s}`: {e}").into())
    };
    Ok(Delivery {
        id: uuid("id")?,
        created_at: from_ms(r.get("created_at")),
        app: r.get("app_id"),
        user_id: r.get("user_id"),
        device_id: r.get("device_id"),
        brand: r.get("brand_id"),
        offer_id: uuid("offer_id")?,
        fence_id: uuid("fence_id")?,
        checkin_id: r.get("checkin_id"),
        title: r.get("title"),
        body: r.get("body"),
        redemption_code: r.get("redemption_code"),
        expires_at: r.get::<Option<i64>, _>("expires_at").map(from_ms),
        status: r.get("status"),
    })
}
