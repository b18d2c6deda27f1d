//! Events and their effects (one transaction each), erasure, and offer results.

use super::{SqliteStore, Tx, db_err, from_ms, ms};
use crate::events::{DeliveryState, Event, EventKind, Status, transition};
use crate::people::PersonId;
use crate::store::{Applied, Erase, ResultCounts, StoreError, StoreResult};
use chrono::{Duration, Utc};
use sqlx::Row;
use uuid::Uuid;

impl SqliteStore {
    pub(super) async fn apply_event_impl(
        &self,
        app: &str,
        person: &PersonId,
        ev: &Event,
        body: &serde_json::Value,
    ) -> StoreResult<Applied> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let inserted = sqlx::query(
            "INSERT INTO events (app_id, event_id, person, kind, occurred_at, received_at, brand_id, delivery_id, body)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app_id, event_id) DO NOTHING",
        )
        .bind(app)
        .bind(&ev.event_id)
        .bind(person.as_str())
        .bind(ev.kind.name())
        .bind(ms(ev.occurred_at))
        .bind(ms(Utc::now()))
        .bind(ev.kind.brand().map(|b| b.as_str().to_string()))
        .bind(ev.kind.delivery().map(|d| d.to_string()))
        .bind(body.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Ok(Applied::Duplicate);
        }
        let brand = match &ev.kind {
            EventKind::Opened { delivery_id } => {
                delivery_step(&mut tx, person, *delivery_id, Status::Opened, None, ev).await?
            }
            EventKind::Dismissed { delivery_id } => {
                delivery_step(&mut tx, person, *delivery_id, Status::Dismissed, None, ev).await?
            }
            EventKind::Redeemed {
                delivery_id,
                redemption_code,
            } => {
                delivery_step(
                    &mut tx,
                    person,
                    *delivery_id,
                    Status::Redeemed,
                    redemption_code.as_deref(),
                    ev,
                )
                .await?
            }
            EventKind::Purchase(p) => {
                sqlx::query(
                    "INSERT INTO purchases (person, brand_id, sku, category, amount, currency, channel, fence_id, at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(person.as_str())
                .bind(p.brand.as_str())
                .bind(&p.sku)
                .bind(&p.category)
                .bind(p.amount)
                .bind(&p.currency)
                .bind(serde_json::to_value(p.channel).ok().and_then(|v| v.as_str().map(str::to_string)))
                .bind(p.fence_id.map(|f| f.to_string()))
                .bind(ms(ev.occurred_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                Some(p.brand.to_string())
            }
            EventKind::Follow { brand } => {
                sqlx::query(
                    "INSERT OR IGNORE INTO follows (person, brand_id, since) VALUES (?, ?, ?)",
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
                sqlx::query("DELETE FROM follows WHERE person = ? AND brand_id = ?")
                    .bind(person.as_str())
                    .bind(brand.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                Some(brand.to_string())
            }
            EventKind::Traits { interests, tier } => {
                sqlx::query("DELETE FROM interests WHERE person = ?")
                    .bind(person.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for i in interests {
                    sqlx::query("INSERT OR IGNORE INTO interests (person, interest) VALUES (?, ?)")
                        .bind(person.as_str())
                        .bind(i)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                sqlx::query(
                    "INSERT INTO traits (person, tier, updated_at) VALUES (?, ?, ?)
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

    pub(super) async fn erase_impl(&self, person: &PersonId, what: Erase) -> StoreResult<()> {
        let p = person.as_str();
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let profile = [
            "DELETE FROM follows WHERE person = ?",
            "DELETE FROM interests WHERE person = ?",
            "DELETE FROM traits WHERE person = ?",
            "DELETE FROM purchases WHERE person = ?",
        ];
        for sql in profile {
            sqlx::query(sql)
                .bind(p)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        match what {
            Erase::Profile => {
                sqlx::query("DELETE FROM events WHERE person = ? AND kind IN ('purchase', 'follow', 'unfollow', 'traits')")
                    .bind(p)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            Erase::History | Erase::Everything => {
                // The support read log names the person by user id, check-in or delivery: redact it.
                sqlx::query(
                    "UPDATE audit_reads SET subject = 'erased', query = 'erased' WHERE subject IN (
                       SELECT user_id FROM consents WHERE person = ?1 UNION SELECT checkin_id FROM decisions WHERE person = ?1
                       UNION SELECT id FROM deliveries WHERE person = ?1)",
                )
                .bind(p)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query(
                    "DELETE FROM decision_brands WHERE EXISTS (SELECT 1 FROM decisions d WHERE d.person = ?
                       AND d.app_id = decision_brands.app_id AND d.checkin_id = decision_brands.checkin_id)",
                )
                .bind(p)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                for sql in [
                    "DELETE FROM events WHERE person = ?",
                    "DELETE FROM decisions WHERE person = ?",
                ] {
                    sqlx::query(sql)
                        .bind(p)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                // Deliveries stay as de-identified counts for the brands' results.
                let rows = sqlx::query("SELECT id FROM deliveries WHERE person = ?")
                    .bind(p)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for r in rows {
                    sqlx::query("UPDATE deliveries SET person = 'erased', user_id = 'erased', device_id = NULL, checkin_id = ? WHERE id = ?")
                        .bind(Uuid::new_v4().to_string())
                        .bind(r.get::<String, _>("id"))
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
            }
        }
        if what == Erase::Everything {
            for sql in [
                "DELETE FROM consents WHERE person = ?",
                "DELETE FROM consent_events WHERE person = ?",
            ] {
                sqlx::query(sql)
                    .bind(p)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(db_err)
    }

    pub(super) async fn record_erasure_impl(&self, receipt: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO erasures (receipt, at) VALUES (?, ?)")
            .bind(receipt)
            .bind(ms(Utc::now()))
            .execute(&self.writer)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    pub(super) async fn offer_results_impl(
        &self,
        offer: Uuid,
        window: Duration,
    ) -> StoreResult<ResultCounts> {
        let w = window.num_milliseconds();
        let treated = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(opened_at IS NOT NULL), 0) AS opened, COALESCE(SUM(dismissed_at IS NOT NULL), 0) AS dismissed,
                    COALESCE(SUM(redeemed_at IS NOT NULL), 0) AS redeemed,
                    COALESCE(SUM(CASE WHEN redeemed_at IS NOT NULL OR EXISTS (
                        SELECT 1 FROM purchases p WHERE p.person = d.person AND p.brand_id = d.brand_id
                          AND p.at >= d.created_at AND p.at <= d.created_at + ?) THEN 1 ELSE 0 END), 0) AS converted
             FROM deliveries d WHERE offer_id = ?",
        )
        .bind(w)
        .bind(offer.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        // The control group: each held-out person once, from their first held-out decision.
        let control = sqlx::query(
            "WITH held AS (SELECT person, MIN(at) AS at FROM decisions WHERE offer_id = ? AND reason = 'held-out' GROUP BY person),
                  brand AS (SELECT brand_id FROM offers WHERE id = ?)
             SELECT COUNT(*) AS n, COALESCE(SUM(EXISTS (SELECT 1 FROM purchases p, brand b WHERE p.person = held.person
                 AND p.brand_id = b.brand_id AND p.at >= held.at AND p.at <= held.at + ?)), 0) AS converted FROM held",
        )
        .bind(offer.to_string())
        .bind(offer.to_string())
        .bind(w)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let get = |r: &sqlx::sqlite::SqliteRow, c: &str| r.get::<i64, _>(c).max(0) as u64;
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
}

/// Moves a delivery along its lifecycle inside the event's transaction; returns its brand.
async fn delivery_step(
    tx: &mut Tx<'_>,
    person: &PersonId,
    id: Uuid,
    to: Status,
    code: Option<&str>,
    ev: &Event,
) -> StoreResult<Option<String>> {
    let row = sqlx::query(
        "SELECT person, status, redemption_code, expires_at, brand_id FROM deliveries WHERE id = ?",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    let Some(r) = row else {
        return Err(StoreError::NotFound(format!("delivery `{id}` not found")));
    };
    let state = DeliveryState {
        person: r.get("person"),
        status: Status::parse(&r.get::<String, _>("status")).unwrap_or(Status::Delivered),
        redemption_code: r.get("redemption_code"),
        expires_at: r.get::<Option<i64>, _>("expires_at").map(from_ms),
    };
    let Some(next) = transition(&state, person.as_str(), to, code, ev.occurred_at)
        .map_err(StoreError::Conflict)?
    else {
        return Ok(Some(r.get("brand_id")));
    };
    let column = match next {
        Status::Opened => "opened_at",
        Status::Dismissed => "dismissed_at",
        Status::Redeemed => "redeemed_at",
        Status::Delivered => "created_at",
    };
    let sql =
        format!("UPDATE deliveries SET status = ?, {column} = COALESCE({column}, ?) WHERE id = ?");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(next.as_str())
        .bind(ms(ev.occurred_at))
        .bind(id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(Some(r.get("brand_id")))
}
