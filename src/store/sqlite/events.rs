//! Events and their effects (written through the group commit, each with its effect in one
//! transaction), and the offer results they add up to.

use super::event_rows::{DeliveryGuard, EventWrite};
use super::{SqliteStore, db_err, from_ms, ms};
use crate::events::{DeliveryState, Event, EventKind, Status, transition};
use crate::offers::results::DayResults;
use crate::people::PersonId;
use crate::store::shared::{DAY_MS, day_results};
use crate::store::{Applied, EventStore, ResultCounts, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;
use uuid::Uuid;

#[async_trait]
impl EventStore for SqliteStore {
    async fn apply_event(
        &self,
        app: &str,
        person: &PersonId,
        ev: &Event,
        body: &serde_json::Value,
        received_at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        if let EventKind::Traits { .. } = ev.kind {
            return self.apply_traits(app, person, ev, body, received_at).await;
        }
        // A delivery that changes between the read and the write is read again. The first
        // try does not look for a duplicate first: the INSERT skips one anyway, and the
        // look-up happens when something did not go through.
        for attempt in 0..3 {
            if let Some(applied) = self
                .try_apply_event(app, person, ev, body, received_at, attempt > 0)
                .await?
            {
                return Ok(applied);
            }
        }
        Err(StoreError::Conflict(
            "the delivery changed while this event was applied; send it again".into(),
        ))
    }

    async fn offer_results(&self, offer: Uuid, window: Duration) -> StoreResult<ResultCounts> {
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

    async fn offer_daily(
        &self,
        offer: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        window: Duration,
    ) -> StoreResult<Vec<DayResults>> {
        // One row per thing that happened (its kind `k` and time), each from the offer's
        // deliveries through their index; a conversion happens at the earlier of the
        // redemption and the first purchase at the brand within the window.
        let rows = sqlx::query(
            "SELECT at / ?5 AS day, SUM(k = 0) AS d, SUM(k = 1) AS o, SUM(k = 2) AS x,
                    SUM(k = 3) AS r, SUM(k = 4) AS c
             FROM (
               SELECT 0 AS k, created_at AS at FROM deliveries
                WHERE offer_id = ?1 AND created_at >= ?2 AND created_at < ?3
               UNION ALL SELECT 1, opened_at FROM deliveries
                WHERE offer_id = ?1 AND created_at < ?3 AND opened_at >= ?2 AND opened_at < ?3
               UNION ALL SELECT 2, dismissed_at FROM deliveries
                WHERE offer_id = ?1 AND created_at < ?3 AND dismissed_at >= ?2 AND dismissed_at < ?3
               UNION ALL SELECT 3, redeemed_at FROM deliveries
                WHERE offer_id = ?1 AND created_at < ?3 AND redeemed_at >= ?2 AND redeemed_at < ?3
               UNION ALL SELECT 4, at FROM (
                 SELECT MIN(COALESCE(d.redeemed_at, ?6), COALESCE((SELECT MIN(p.at) FROM purchases p
                          WHERE p.person = d.person AND p.brand_id = d.brand_id
                            AND p.at >= d.created_at AND p.at <= d.created_at + ?4), ?6)) AS at
                 FROM deliveries d
                 WHERE d.offer_id = ?1 AND d.created_at < ?3
                   AND (d.created_at >= ?2 - ?4 OR d.redeemed_at >= ?2))
                WHERE at >= ?2 AND at < ?3
             ) GROUP BY day ORDER BY day",
        )
        .bind(offer.to_string())
        .bind(ms(from))
        .bind(ms(to))
        .bind(window.num_milliseconds())
        .bind(DAY_MS)
        .bind(i64::MAX)
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

impl SqliteStore {
    /// One event, written in one round trip through the group commit: what must be read (the
    /// delivery's state; a duplicate when `look_first`) is read first from the read pool, and
    /// the write is `INSERT event ... RETURNING; <effect> WHERE changes() = 1` inside the
    /// group's transaction. The event row is inserted only while the delivery still has the state
    /// the transition was computed from, and the effect only when the event row was
    /// inserted, so the two stay one. `None`: the delivery changed meanwhile; try again.
    async fn try_apply_event(
        &self,
        app: &str,
        person: &PersonId,
        ev: &Event,
        body: &serde_json::Value,
        received_at: DateTime<Utc>,
        look_first: bool,
    ) -> StoreResult<Option<Applied>> {
        if look_first && self.seen(app, &ev.event_id).await? {
            return Ok(Some(Applied::Duplicate));
        }
        let (guard, brand) = match &ev.kind {
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
                let checked = self
                    .delivery_state(*delivery_id)
                    .await
                    .and_then(|(state, brand)| {
                        let next = transition(&state, person.as_str(), to, code, ev.occurred_at)
                            .map_err(StoreError::Conflict)?;
                        Ok((state, brand, next))
                    });
                let (state, brand, next) = match checked {
                    Ok(checked) => checked,
                    // A resent event whose delivery has moved on since (or was erased with
                    // it) is a duplicate, not a conflict.
                    Err(e) if look_first || !self.seen(app, &ev.event_id).await? => return Err(e),
                    Err(_) => return Ok(Some(Applied::Duplicate)),
                };
                let guard = DeliveryGuard {
                    id: delivery_id.to_string(),
                    from: state.status,
                    to: next,
                };
                (Some(guard), Some(brand))
            }
            EventKind::Purchase(p) => (None, Some(p.brand.to_string())),
            EventKind::Follow { brand } | EventKind::Unfollow { brand } => {
                (None, Some(brand.to_string()))
            }
            EventKind::Traits { .. } => unreachable!("applied by apply_traits"),
        };
        let rows = self
            .commit
            .write(EventWrite {
                app: app.to_string(),
                person: person.as_str().to_string(),
                ev: ev.clone(),
                body: body.to_string(),
                received_at: ms(received_at),
                guard,
            })
            .await?;
        if !rows.is_empty() {
            return Ok(Some(Applied::Accepted { brand }));
        }
        // Not inserted: a duplicate that raced with this one, or (for a delivery event) the
        // delivery changed since it was read. The next try tells which.
        Ok(None)
    }

    /// Whether this app already sent an event with this id.
    async fn seen(&self, app: &str, event_id: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 FROM events WHERE app_id = ? AND event_id = ?")
            .bind(app)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(row.is_some())
    }

    /// The state of a delivery, and its brand, from the read pool.
    async fn delivery_state(&self, id: Uuid) -> StoreResult<(DeliveryState, String)> {
        let row = sqlx::query(
            "SELECT person, status, redemption_code, expires_at, brand_id FROM deliveries WHERE id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
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
        Ok((state, r.get("brand_id")))
    }

    /// Traits replace a person's interests: several statements, one transaction.
    async fn apply_traits(
        &self,
        app: &str,
        person: &PersonId,
        ev: &Event,
        body: &serde_json::Value,
        received_at: DateTime<Utc>,
    ) -> StoreResult<Applied> {
        let EventKind::Traits { interests, tier } = &ev.kind else {
            return Err(StoreError::Other(anyhow::anyhow!("not a traits event")));
        };
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let inserted = sqlx::query(
            "INSERT INTO events (app_id, event_id, person, kind, occurred_at, received_at, brand_id, delivery_id, body)
             VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?) ON CONFLICT (app_id, event_id) DO NOTHING",
        )
        .bind(app)
        .bind(&ev.event_id)
        .bind(person.as_str())
        .bind(ev.kind.name())
        .bind(ms(ev.occurred_at))
        .bind(ms(received_at))
        .bind(body.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Ok(Applied::Duplicate);
        }
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
        tx.commit().await.map_err(db_err)?;
        Ok(Applied::Accepted { brand: None })
    }
}
