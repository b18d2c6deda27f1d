//! Events and their effects (each with its effect in one transaction), and the offer results
//! they add up to. A delivery event locks its delivery row (`FOR UPDATE`) while it checks the
//! transition and applies it, so two replicas applying events of one delivery take turns.

use super::{PgStore, Tx, db_err, from_ms, ms};
use crate::events::{DeliveryState, Event, EventKind, Status, transition};
use crate::offers::results::DayResults;
use crate::people::PersonId;
use crate::store::shared::{DAY_MS, day_results};
use crate::store::{Applied, EventStore, ResultCounts, StoreError, StoreResult};
use crate::webhooks::{EventType, delivery_event_timestamp};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::{Connection, Row};
use uuid::Uuid;

#[async_trait]
impl EventStore for PgStore {
    async fn apply_event(
        &self,
        app: &str,
        person: &PersonId,
        ev: &Event,
        body: &serde_json::Value,
        received_at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        let mut conn = self.acquire().await.map_err(db_err)?;
        let mut tx = conn.begin().await.map_err(db_err)?;
        let brand = match &ev.kind {
            EventKind::Opened { delivery_id }
            | EventKind::Dismissed { delivery_id }
            | EventKind::Redeemed { delivery_id, .. } => {
                let (to, code) = match &ev.kind {
                    EventKind::Opened { .. } => (Status::Opened, None),
                    EventKind::Dismissed { .. } => (Status::Dismissed, None),
                    EventKind::Redeemed {
                        redemption_code, ..
                    } => (Status::Redeemed, redemption_code.as_deref()),
                    _ => unreachable!("matched above"),
                };
                let Some((state, brand)) = delivery_state(&mut tx, *delivery_id).await? else {
                    if seen(&mut tx, app, &ev.event_id).await? {
                        return Ok(Applied::Duplicate);
                    }
                    return Err(StoreError::NotFound(format!(
                        "delivery `{delivery_id}` not found"
                    )));
                };
                let next = match transition(&state, person.as_str(), to, code, ev.occurred_at) {
                    Ok(next) => next,
                    // A resent event whose delivery has moved on since is a duplicate, not
                    // a conflict. (The delivery is locked: a concurrent copy of this event
                    // has committed by now, or never will.)
                    Err(_) if seen(&mut tx, app, &ev.event_id).await? => {
                        return Ok(Applied::Duplicate);
                    }
                    Err(why) => return Err(StoreError::Conflict(why)),
                };
                if !insert_event(&mut tx, app, person, ev, body, received_at).await? {
                    return Ok(Applied::Duplicate);
                }
                if let Some(next) = next {
                    let column = match next {
                        Status::Opened => "opened_at",
                        Status::Dismissed => "dismissed_at",
                        Status::Redeemed => "redeemed_at",
                        Status::Delivered => "created_at",
                    };
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE deliveries SET status = $1, {column} = COALESCE({column}, $2) WHERE id = $3"
                    )))
                    .bind(next.as_str())
                    .bind(ms(ev.occurred_at))
                    .bind(delivery_id.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    let kind = match next {
                        Status::Opened => Some(EventType::DeliveryOpened),
                        Status::Redeemed => Some(EventType::DeliveryRedeemed),
                        _ => None,
                    };
                    if let Some(kind) = kind {
                        outbox(&mut tx, kind, *delivery_id, ev, received_at).await?;
                    }
                }
                Some(brand)
            }
            EventKind::Purchase(p) => {
                if !insert_event(&mut tx, app, person, ev, body, received_at).await? {
                    return Ok(Applied::Duplicate);
                }
                sqlx::query(
                    "INSERT INTO purchases (person, brand_id, sku, category, amount, currency,
                       channel, fence_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(person.as_str())
                .bind(p.brand.as_str())
                .bind(&p.sku)
                .bind(&p.category)
                .bind(p.amount)
                .bind(&p.currency)
                .bind(
                    serde_json::to_value(p.channel)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string)),
                )
                .bind(p.fence_id.map(|f| f.to_string()))
                .bind(ms(ev.occurred_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                Some(p.brand.to_string())
            }
            EventKind::Follow { brand } => {
                if !insert_event(&mut tx, app, person, ev, body, received_at).await? {
                    return Ok(Applied::Duplicate);
                }
                sqlx::query(
                    "INSERT INTO follows (person, brand_id, since) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(person.as_str())
                .bind(brand.as_str())
                .bind(ms(ev.occurred_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                Some(brand.to_string())
            }
            EventKind::Unfollow { brand } => {
                if !insert_event(&mut tx, app, person, ev, body, received_at).await? {
                    return Ok(Applied::Duplicate);
                }
                sqlx::query("DELETE FROM follows WHERE person = $1 AND brand_id = $2")
                    .bind(person.as_str())
                    .bind(brand.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                Some(brand.to_string())
            }
            EventKind::Traits { interests, tier } => {
                if !insert_event(&mut tx, app, person, ev, body, received_at).await? {
                    return Ok(Applied::Duplicate);
                }
                sqlx::query("DELETE FROM interests WHERE person = $1")
                    .bind(person.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO interests (person, interest)
                     SELECT $1, i FROM UNNEST($2::text[]) AS i ON CONFLICT DO NOTHING",
                )
                .bind(person.as_str())
                .bind(interests)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO traits (person, tier, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (person) DO UPDATE SET tier = excluded.tier, updated_at = excluded.updated_at",
                )
                .bind(person.as_str())
                .bind(tier)
                .bind(ms(ev.occurred_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                None
            }
        };
        tx.commit().await.map_err(db_err)?;
        Ok(Applied::Accepted { brand })
    }

    async fn offer_results(&self, offer: Uuid, window: Duration) -> StoreResult<ResultCounts> {
        let w = window.num_milliseconds();
        let treated = sqlx::query(
            "SELECT COUNT(*) AS n, COUNT(opened_at) AS opened, COUNT(dismissed_at) AS dismissed,
                    COUNT(redeemed_at) AS redeemed,
                    COUNT(*) FILTER (WHERE redeemed_at IS NOT NULL OR EXISTS (
                        SELECT 1 FROM purchases p WHERE p.person = d.person AND p.brand_id = d.brand_id
                          AND p.at >= d.created_at AND p.at <= d.created_at + $1)) AS converted
             FROM deliveries d WHERE offer_id = $2",
        )
        .bind(w)
        .bind(offer.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        // The control group: each held-out person once, from their first held-out decision.
        let control = sqlx::query(
            "WITH held AS (SELECT person, MIN(at) AS at FROM decisions
                           WHERE offer_id = $1 AND reason = 'held-out' GROUP BY person),
                  brand AS (SELECT brand_id FROM offers WHERE id = $1)
             SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE EXISTS (
                 SELECT 1 FROM purchases p, brand b WHERE p.person = held.person
                   AND p.brand_id = b.brand_id AND p.at >= held.at AND p.at <= held.at + $2)) AS converted
             FROM held",
        )
        .bind(offer.to_string())
        .bind(w)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let get = |r: &sqlx::postgres::PgRow, c: &str| r.get::<i64, _>(c).max(0) as u64;
        Ok(ResultCounts {
            deliveries: get(&treated, "n"),
            opened: get(&treated, "opened"),
            dismissed: get(&treated, "dismissed"),
            redeemed: get(&treated, "redeemed"),
            conversions: get(&treated, "converted"),
            holdout: get(&control, "n"),
            holdout_conversions: get(&control, "converted"),
        })
    }

    async fn offer_daily(
        &self,
        offer: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        window: Duration,
    ) -> StoreResult<Vec<DayResults>> {
        // One row per thing that happened (its kind `k` and time), each from the offer's
        // deliveries through their index; a conversion happens at the earlier of the
        // redemption and the first purchase at the brand within the window (LEAST skips NULL).
        let rows = sqlx::query(
            "SELECT at / $5 AS day, COUNT(*) FILTER (WHERE k = 0) AS d,
                    COUNT(*) FILTER (WHERE k = 1) AS o, COUNT(*) FILTER (WHERE k = 2) AS x,
                    COUNT(*) FILTER (WHERE k = 3) AS r, COUNT(*) FILTER (WHERE k = 4) AS c
             FROM (
               SELECT 0 AS k, created_at AS at FROM deliveries
                WHERE offer_id = $1 AND created_at >= $2 AND created_at < $3
               UNION ALL SELECT 1, opened_at FROM deliveries
                WHERE offer_id = $1 AND created_at < $3 AND opened_at >= $2 AND opened_at < $3
               UNION ALL SELECT 2, dismissed_at FROM deliveries
                WHERE offer_id = $1 AND created_at < $3 AND dismissed_at >= $2 AND dismissed_at < $3
               UNION ALL SELECT 3, redeemed_at FROM deliveries
                WHERE offer_id = $1 AND created_at < $3 AND redeemed_at >= $2 AND redeemed_at < $3
               UNION ALL SELECT 4, conv.at FROM (
                 SELECT LEAST(d.redeemed_at, (SELECT MIN(p.at) FROM purchases p
                          WHERE p.person = d.person AND p.brand_id = d.brand_id
                            AND p.at >= d.created_at AND p.at <= d.created_at + $4)) AS at
                 FROM deliveries d
                 WHERE d.offer_id = $1 AND d.created_at < $3
                   AND (d.created_at >= $2 - $4 OR d.redeemed_at >= $2)) conv
                WHERE conv.at >= $2 AND conv.at < $3
             ) happened GROUP BY day ORDER BY day",
        )
        .bind(offer.to_string())
        .bind(ms(from))
        .bind(ms(to))
        .bind(window.num_milliseconds())
        .bind(DAY_MS)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| {
                let n = |c: &str| r.get::<i64, _>(c);
                day_results(n("day"), [n("d"), n("o"), n("x"), n("r"), n("c")])
            })
            .collect())
    }
}

/// Records the event row; `false` when this app already sent an event with this id.
async fn insert_event(
    tx: &mut Tx<'_>,
    app: &str,
    person: &PersonId,
    ev: &Event,
    body: &serde_json::Value,
    received_at: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO events (app_id, event_id, person, kind, occurred_at, received_at,
           brand_id, delivery_id, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (app_id, event_id) DO NOTHING",
    )
    .bind(app)
    .bind(&ev.event_id)
    .bind(person.as_str())
    .bind(ev.kind.name())
    .bind(ms(ev.occurred_at))
    .bind(ms(received_at))
    .bind(ev.kind.brand().map(|b| b.as_str().to_string()))
    .bind(ev.kind.delivery().map(|d| d.to_string()))
    .bind(body.to_string())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

/// Whether this app already sent an event with this id.
async fn seen(tx: &mut Tx<'_>, app: &str, event_id: &str) -> StoreResult<bool> {
    let row = sqlx::query("SELECT 1 FROM events WHERE app_id = $1 AND event_id = $2")
        .bind(app)
        .bind(event_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(row.is_some())
}

/// The state of a delivery and its brand, locked until the transaction ends.
async fn delivery_state(tx: &mut Tx<'_>, id: Uuid) -> StoreResult<Option<(DeliveryState, String)>> {
    let row = sqlx::query(
        "SELECT person, status, redemption_code, expires_at, brand_id FROM deliveries
         WHERE id = $1 FOR UPDATE",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(row.map(|r| {
        let state = DeliveryState {
            person: r.get("person"),
            status: Status::parse(&r.get::<String, _>("status")).unwrap_or(Status::Delivered),
            redemption_code: r.get("redemption_code"),
            expires_at: r.get::<Option<i64>, _>("expires_at").map(from_ms),
        };
        (state, r.get("brand_id"))
    }))
}

/// The brand's webhook messages for a delivery's move, one per subscribed active endpoint,
/// in the event's transaction. The payload carries the delivery's pseudonymous ids, never a
/// location.
async fn outbox(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    kind: EventType,
    delivery: Uuid,
    ev: &Event,
    received_at: DateTime<Utc>,
) -> StoreResult<()> {
    let suffix = kind.as_str().rsplit('.').next().unwrap_or("event");
    sqlx::query(
        "INSERT INTO webhook_outbox (endpoint_id, msg_id, brand_id, event_type, person, payload,
             created_at, next_attempt_at, status, attempts)
         SELECT e.id, 'msg_' || d.id || '_' || $1, e.brand_id, $2, d.person,
             json_build_object('type', $2::text, 'timestamp', $3::text,
               'data', json_build_object('delivery_id', d.id, 'offer_id', d.offer_id,
                 'fence_id', d.fence_id, 'brand', d.brand_id, 'user_id', d.user_id))::text,
             $4, $4, 'pending', 0
         FROM deliveries d JOIN webhook_endpoints e ON e.brand_id = d.brand_id
           AND e.status = 'active' AND position($5 in e.event_types) > 0
         WHERE d.id = $6
         ON CONFLICT DO NOTHING",
    )
    .bind(suffix)
    .bind(kind.as_str())
    .bind(delivery_event_timestamp(ev.occurred_at))
    .bind(ms(received_at))
    .bind(kind.quoted())
    .bind(delivery.to_string())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}
