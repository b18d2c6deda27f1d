//! Webhook endpoints, the outbox's sending side and attempts. (Outbox rows are written by
//! `decisions.rs` and `event_rows.rs`, inside the group commit's transactions.)

use super::{SqliteStore, Tx, audit, db_err, ms};
use crate::store::shared::Change;
use crate::store::webhooks::{
    AttemptRow, ENDPOINT_COLUMNS, EndpointRow, FailurePolicy, MessageRow, disabled_reason,
};
use crate::store::{StoreError, StoreResult, WebhookStore};
use crate::webhooks::{AttemptOutcome, AttemptRecord, AttemptView, Endpoint, Message};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use uuid::Uuid;

crate::store::same_sql::webhook_status!(sqlx::Sqlite, lock: "");

fn endpoint_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<Endpoint> {
    let row = EndpointRow::from_row(r).map_err(db_err)?;
    Endpoint::try_from(row).map_err(StoreError::Other)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_endpoint(&self, e: &Endpoint, change: &Change) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, brand_id, url, event_types, secret, status,
               consecutive_failures, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
        )
        .bind(e.id.to_string())
        .bind(&e.brand)
        .bind(&e.url)
        .bind(e.event_types_json())
        .bind(&e.secret)
        .bind(e.status.as_str())
        .bind(ms(e.created_at))
        .bind(ms(e.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        audit::record(&mut tx, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn update_endpoint(
        &self,
        e: &Endpoint,
        change: &Change,
        resume_since: Option<DateTime<Utc>>,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET url = ?, event_types = ?, status = ?,
               disabled_reason = ?, consecutive_failures = ?, failing_since = ?,
               updated_at = ? WHERE brand_id = ? AND id = ?",
        )
        .bind(&e.url)
        .bind(e.event_types_json())
        .bind(e.status.as_str())
        .bind(&e.disabled_reason)
        .bind(e.consecutive_failures)
        .bind(e.failing_since.map(ms))
        .bind(ms(e.updated_at))
        .bind(&e.brand)
        .bind(e.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(since) = resume_since {
            resume(&mut tx, e, since).await?;
        }
        audit::record(&mut tx, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn endpoints(&self, brand: &str) -> StoreResult<Vec<Endpoint>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE brand_id = ? ORDER BY created_at, id"
        )))
        .bind(brand)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(endpoint_of).collect()
    }

    async fn endpoint(&self, brand: &str, id: Uuid) -> StoreResult<Option<Endpoint>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE brand_id = ? AND id = ?"
        )))
        .bind(brand)
        .bind(id.to_string())
        .fetch_optional(&self.writer)
        .await
        .map_err(db_err)?;
        row.as_ref().map(endpoint_of).transpose()
    }

    async fn delete_endpoint(&self, brand: &str, id: Uuid, change: &Change) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE brand_id = ? AND id = ?")
            .bind(brand)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        audit::record(&mut tx, change).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn rotate_secret(
        &self,
        brand: &str,
        id: Uuid,
        secret: &str,
        previous_until: DateTime<Utc>,
        change: &Change,
    ) -> StoreResult<Option<Endpoint>> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = ?,
               secret = ?, updated_at = ? WHERE brand_id = ? AND id = ?",
        )
        .bind(ms(previous_until))
        .bind(secret)
        .bind(ms(change.at))
        .bind(brand)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        audit::record(&mut tx, change).await?;
        tx.commit().await.map_err(db_err)?;
        self.endpoint(brand, id).await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(Message, Endpoint)>> {
        // Look on the read pool first: the sender polls every second, and an empty poll
        // should not take the one writer connection from the check-ins.
        let any: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM webhook_outbox WHERE next_attempt_at <= ? AND status = 'pending' LIMIT 1",
        )
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "UPDATE webhook_outbox SET next_attempt_at = ?
             WHERE id IN (SELECT o.id FROM webhook_outbox o
                          JOIN webhook_endpoints e ON e.id = o.endpoint_id
                          WHERE o.next_attempt_at <= ? AND o.status = 'pending'
                            AND e.status = 'active'
                          ORDER BY o.next_attempt_at, o.id LIMIT ?)
             RETURNING id, endpoint_id, msg_id, event_type, payload, created_at, attempts",
        )
        .bind(ms(lease_until))
        .bind(ms(now))
        .bind(limit)
        .fetch_all(&self.writer)
        .await
        .map_err(db_err)?;
        let mut messages = rows
            .iter()
            .map(|r| {
                let row = MessageRow::from_row(r).map_err(db_err)?;
                Message::try_from(row).map_err(StoreError::Other)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        messages.sort_by_key(|m| m.id);
        let mut endpoints: HashMap<Uuid, Endpoint> = HashMap::new();
        for m in &messages {
            if let Entry::Vacant(slot) = endpoints.entry(m.endpoint) {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?"
                )))
                .bind(m.endpoint.to_string())
                .fetch_optional(&self.writer)
                .await
                .map_err(db_err)?;
                if let Some(r) = row {
                    slot.insert(endpoint_of(&r)?);
                }
            }
        }
        Ok(messages
            .into_iter()
            .filter_map(|m| endpoints.get(&m.endpoint).cloned().map(|e| (m, e)))
            .collect())
    }

    async fn record_attempt(
        &self,
        a: &AttemptRecord,
        policy: &FailurePolicy,
    ) -> StoreResult<Option<Endpoint>> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO webhook_attempts (id, outbox_id, endpoint_id, at, status_code, error,
               duration_ms, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(a.id.to_string())
        .bind(a.message)
        .bind(a.endpoint.to_string())
        .bind(ms(a.at))
        .bind(a.status_code)
        .bind(&a.error)
        .bind(a.duration_ms)
        .bind(a.outcome.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let (status, next, delivered_at) = match a.outcome {
            AttemptOutcome::Delivered => ("delivered", None, Some(ms(a.at))),
            AttemptOutcome::Retry(next) => ("pending", Some(ms(next)), None),
            AttemptOutcome::GaveUp => ("failed", None, None),
        };
        sqlx::query(
            "UPDATE webhook_outbox SET status = ?, next_attempt_at = ?, attempts = attempts + 1,
               delivered_at = COALESCE(?, delivered_at) WHERE id = ?",
        )
        .bind(status)
        .bind(next)
        .bind(delivered_at)
        .bind(a.message)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut disabled = None;
        if a.outcome == AttemptOutcome::Delivered {
            sqlx::query(
                "UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL
                 WHERE id = ?",
            )
            .bind(a.endpoint.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        } else {
            let Some(before) = locked_endpoint(&mut tx, a.endpoint).await? else {
                // Deleted meanwhile (its messages and attempts went with it).
                tx.commit().await.map_err(db_err)?;
                return Ok(None);
            };
            // Every expression reads the row as it was before this update.
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE webhook_endpoints SET
                   consecutive_failures = consecutive_failures + 1,
                   failing_since = COALESCE(failing_since, ?1),
                   status = CASE WHEN consecutive_failures + 1 >= ?2
                                   OR ?1 - COALESCE(failing_since, ?1) >= ?3
                                 THEN 'disabled' ELSE status END,
                   disabled_reason = CASE WHEN status = 'active'
                                  AND (consecutive_failures + 1 >= ?2
                                       OR ?1 - COALESCE(failing_since, ?1) >= ?3)
                                 THEN ?4 ELSE disabled_reason END,
                   updated_at = ?1
                 WHERE id = ?5 RETURNING {ENDPOINT_COLUMNS}"
            )))
            .bind(ms(a.at))
            .bind(policy.max_consecutive)
            .bind(policy.max_failing_for.num_milliseconds())
            .bind(disabled_reason(policy))
            .bind(a.endpoint.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            disabled = disabled_now(&mut tx, &before, endpoint_of(&row)?).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(disabled)
    }

    async fn attempts(
        &self,
        brand: &str,
        endpoint: Uuid,
        before: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<AttemptView>> {
        let rows = sqlx::query(
            "SELECT a.id, o.msg_id, o.event_type, a.at, a.status_code, a.error, a.duration_ms,
                    a.outcome
             FROM webhook_attempts a
             JOIN webhook_outbox o ON o.id = a.outbox_id
             JOIN webhook_endpoints e ON e.id = a.endpoint_id
             WHERE a.endpoint_id = ? AND e.brand_id = ? AND (? IS NULL OR a.id < ?)
             ORDER BY a.id DESC LIMIT ?",
        )
        .bind(endpoint.to_string())
        .bind(brand)
        .bind(before.map(|b| b.to_string()))
        .bind(before.map(|b| b.to_string()))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let row = AttemptRow::from_row(r).map_err(db_err)?;
                AttemptView::try_from(row).map_err(StoreError::Other)
            })
            .collect()
    }

    async fn replay(
        &self,
        brand: &str,
        endpoint: Uuid,
        attempt: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_outbox SET status = 'pending', next_attempt_at = ?
             WHERE id = (SELECT a.outbox_id FROM webhook_attempts a
                         JOIN webhook_endpoints e ON e.id = a.endpoint_id
                         WHERE a.id = ? AND a.endpoint_id = ? AND e.brand_id = ?)",
        )
        .bind(ms(now))
        .bind(attempt.to_string())
        .bind(endpoint.to_string())
        .bind(brand)
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_webhook_messages(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM webhook_outbox WHERE status IN ('delivered', 'failed') AND created_at < ?",
        )
        .bind(ms(before))
        .execute(&self.writer)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn outbox_rows_of(&self, person: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_outbox WHERE person = ?")
            .bind(person)
            .fetch_one(&self.writer)
            .await
            .map_err(db_err)
    }
}
