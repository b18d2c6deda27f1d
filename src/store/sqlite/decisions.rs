//! Decision rows, their brands and deliveries (written through the group commit), and the
//! purge of old traces.

use super::commit::Statements;
use super::{SqliteStore, db_err, from_ms, ms};
use crate::decisions::record::{DecisionRecord, DeliveryRecord, unpack_trace};
use crate::store::shared;
use crate::store::{DecisionStore, Prior, StoreResult, StoredDecision};
use crate::webhooks::{
    EventType, budget_exhausted_msg_id, budget_exhausted_payload, delivery_created_payload,
    delivery_msg_id,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::HashMap;
use std::sync::Arc;

/// Traces purged per statement: each batch is a short write, so check-ins never wait long.
const PURGE_BATCH: i64 = 2_000;

#[async_trait]
impl DecisionStore for SqliteStore {
    async fn decisions_by_checkin(&self, checkin_id: &str) -> StoreResult<Vec<StoredDecision>> {
        let rows = sqlx::query(
            "SELECT app_id, checkin_id, user_id, at, decision, reason, response,
                    CAST(trace AS BLOB) AS trace, latency_us,
                    offer_id, delivery_id, trace_purged_at,
                    (SELECT json_group_array(brand_id) FROM decision_brands b
                     WHERE b.app_id = d.app_id AND b.checkin_id = d.checkin_id) AS brands
             FROM decisions d WHERE checkin_id = ? ORDER BY app_id",
        )
        .bind(checkin_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let json = |s: String| serde_json::from_str(&s).unwrap_or(serde_json::Value::Null);
        Ok(rows
            .into_iter()
            .map(|r| StoredDecision {
                app: r.get("app_id"),
                checkin_id: r.get("checkin_id"),
                user_id: r.get("user_id"),
                at: from_ms(r.get("at")),
                decision: r.get("decision"),
                reason: r.get("reason"),
                response: json(r.get("response")),
                trace: unpack_trace(&r.get::<Vec<u8>, _>("trace")),
                latency_us: r.get("latency_us"),
                offer_id: r.get("offer_id"),
                delivery_id: r.get("delivery_id"),
                brands: serde_json::from_str(&r.get::<String, _>("brands")).unwrap_or_default(),
                trace_purged_at: r.get::<Option<i64>, _>("trace_purged_at").map(from_ms),
            })
            .collect())
    }

    async fn prior_decision(&self, app: &str, checkin_id: &str) -> StoreResult<Option<Prior>> {
        let row = sqlx::query(
            "SELECT user_id, fingerprint, response FROM decisions WHERE app_id = ? AND checkin_id = ?",
        )
        .bind(app)
        .bind(checkin_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| prior_of(&r)).transpose()
    }

    async fn save_decisions(&self, batch: Vec<DecisionRecord>) -> StoreResult<Vec<Option<Prior>>> {
        let mut priors = shared::priors_within(&batch);
        let fresh: Vec<usize> = (0..batch.len()).filter(|&i| priors[i].is_none()).collect();
        if fresh.is_empty() {
            return Ok(priors);
        }
        let batch = Arc::new(batch);
        let rows = self
            .commit
            .write(DecisionRows {
                batch: batch.clone(),
                fresh: fresh.clone(),
            })
            .await?;
        let by_key: HashMap<(&str, &str), usize> = fresh
            .iter()
            .map(|&i| ((batch[i].app.as_str(), batch[i].checkin_id.as_str()), i))
            .collect();
        for r in rows {
            let (app, checkin): (String, String) = (r.get("app_id"), r.get("checkin_id"));
            if let Some(&i) = by_key.get(&(app.as_str(), checkin.as_str())) {
                priors[i] = Some(prior_of(&r)?);
            }
        }
        Ok(priors)
    }

    async fn purge_traces(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "UPDATE decisions SET trace = 'null', trace_purged_at = ?
                 WHERE rowid IN (SELECT rowid FROM decisions
                                 WHERE trace_purged_at IS NULL AND at < ? LIMIT ?)",
            )
            .bind(ms(now))
            .bind(ms(before))
            .bind(PURGE_BATCH)
            .execute(&self.writer)
            .await
            .map_err(db_err)?
            .rows_affected();
            total += done;
            if done < PURGE_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

fn prior_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<Prior> {
    Ok(Prior {
        user_id: r.get("user_id"),
        fingerprint: r.get("fingerprint"),
        response: serde_json::from_str(&r.get::<String, _>("response"))
            .map_err(anyhow::Error::new)?,
    })
}

/// This attempt's own row: (app, check-in) with its `at` and `latency_us`.
const MINE: &str = "EXISTS (SELECT 1 FROM decisions d WHERE d.app_id = v.column1
    AND d.checkin_id = v.column2 AND d.at = v.column3 AND d.latency_us = v.column4)";

/// The new decisions of a batch (`fresh` indexes `batch`), as a write for the group commit.
struct DecisionRows {
    batch: Arc<Vec<DecisionRecord>>,
    fresh: Vec<usize>,
}

impl Statements for DecisionRows {
    fn push(&self, q: &mut QueryBuilder<Sqlite>, job: i64) {
        for (n, chunk) in self.fresh.chunks(ROWS_PER_STATEMENT).enumerate() {
            if n > 0 {
                q.push("; ");
            }
            save_statements(q, &self.batch, chunk, job);
        }
    }
}

/// A batch's decisions in statement slots: the decisions, then empty slots (`None`) up to
/// the next power of two. The statements' text then depends on that size alone (nine
/// shapes for 1–256 decisions), not on the batch's contents, so the writer connection
/// prepares each shape once and reuses it (`persistent` in the group commit) instead of
/// parsing every statement of every batch again. An empty slot binds NULLs and writes
/// nothing: its `app_id` is NULL, so it never passes `MINE` nor the `decisions` filter.
fn slots<'a>(batch: &'a [DecisionRecord], rows: &[usize]) -> Vec<Option<&'a DecisionRecord>> {
    let mut slots: Vec<Option<&DecisionRecord>> = rows.iter().map(|&i| Some(&batch[i])).collect();
    slots.resize(rows.len().next_power_of_two(), None);
    slots
}

/// Binds `n` NULLs: an empty slot's columns.
fn nulls(row: &mut Separated<'_, Sqlite, &'static str>, n: usize) {
    for _ in 0..n {
        row.push_bind(None::<String>);
    }
}

/// A batch of decisions as statements of one round trip to the SQLite worker: sqlx runs a
/// query string of several statements in one call, binding each statement's parameters in
/// turn. (A call per statement was a thread hand-off each, and under load each hand-off
/// waited for the worker thread to be scheduled: milliseconds per batch, which every
/// check-in in the batch waited for.) The group commit wraps them in its transaction.
/// Every statement is always there, one row per slot ([`slots`]); what varies in number
/// per decision (its brands, its visit messages) is one JSON array per slot, read with
/// `json_each`.
///
/// A decision whose (app, check-in) is already recorded is a retry: `INSERT OR IGNORE`
/// leaves the first record, its brands and its delivery are not added (they only join a
/// decision row that is this very attempt: same `at` and `latency_us`), and the closing
/// `SELECT` returns the response recorded first for each such retry.
fn save_statements(
    q: &mut QueryBuilder<Sqlite>,
    batch: &[DecisionRecord],
    rows: &[usize],
    job: i64,
) {
    let slots = slots(batch, rows);
    q.push(
        "INSERT OR IGNORE INTO decisions (app_id, checkin_id, person, user_id,
           at, decision, reason, offer_id, delivery_id, response, trace, latency_us,
           fingerprint) SELECT * FROM (",
    );
    q.push_values(&slots, |mut row, slot| match slot {
        Some(d) => {
            row.push_bind(&d.app)
                .push_bind(&d.checkin_id)
                .push_bind(&d.person)
                .push_bind(&d.user_id)
                .push_bind(ms(d.at))
                .push_bind(d.decision)
                .push_bind(&d.reason)
                .push_bind(d.offer_id.map(|o| o.to_string()))
                .push_bind(d.delivery.as_ref().map(|x| x.id.to_string()))
                .push_bind(d.response.to_string())
                .push_bind(&d.trace)
                .push_bind(d.latency_us)
                .push_bind(&d.fingerprint);
        }
        None => nulls(&mut row, 13),
    });
    q.push(") WHERE column1 IS NOT NULL");
    q.push(
        "; INSERT OR IGNORE INTO decision_brands (app_id, checkin_id, brand_id)
           SELECT v.column1, v.column2, b.value FROM (",
    );
    q.push_values(&slots, |mut row, slot| match slot {
        Some(d) => {
            row.push_bind(&d.app)
                .push_bind(&d.checkin_id)
                .push_bind(ms(d.at))
                .push_bind(d.latency_us)
                .push_bind(json_list(&d.brands));
        }
        None => nulls(&mut row, 5),
    });
    q.push(") AS v, json_each(v.column5) AS b WHERE ")
        .push(MINE);
    q.push(
        "; INSERT OR IGNORE INTO deliveries (app_id, checkin_id, created_at, id, person,
           user_id, device_id, brand_id, offer_id, fence_id, title, body, redemption_code,
           expires_at, status)
           SELECT v.column1, v.column2, v.column3, v.column5, v.column6, v.column7,
             v.column8, v.column9, v.column10, v.column11, v.column12, v.column13,
             v.column14, v.column15, 'delivered' FROM (",
    );
    q.push_values(&slots, |mut row, slot| match delivered(slot) {
        Some((d, x)) => {
            row.push_bind(&d.app)
                .push_bind(&d.checkin_id)
                .push_bind(ms(d.at))
                .push_bind(d.latency_us)
                .push_bind(x.id.to_string())
                .push_bind(&d.person)
                .push_bind(&d.user_id)
                .push_bind(&x.device_id)
                .push_bind(&x.brand)
                .push_bind(x.offer_id.to_string())
                .push_bind(x.fence_id.to_string())
                .push_bind(&x.title)
                .push_bind(&x.body)
                .push_bind(&x.redemption_code)
                .push_bind(x.expires_at.map(ms));
        }
        None => nulls(&mut row, 15),
    });
    q.push(") AS v WHERE ").push(MINE);
    // The brand's webhook messages, one per subscribed active endpoint, in the same
    // transaction as the delivery (the durable outbox; docs/webhooks.md): the delivery,
    // and the budget it used up, if it took the last unit (no person: not about one).
    let created: Vec<Option<Outbox>> = slots
        .iter()
        .map(|slot| {
            let (d, x) = delivered(slot)?;
            Some(Outbox {
                d,
                msg_id: delivery_msg_id(x.id, EventType::DeliveryCreated),
                person: Some(&d.person),
                payload: delivery_created_payload(d, x),
                brand: &x.brand,
            })
        })
        .collect();
    push_outbox(q, EventType::DeliveryCreated, &created);
    let exhausted: Vec<Option<Outbox>> = slots
        .iter()
        .map(|slot| {
            let (d, x) = delivered(slot)?;
            let b = x.budget_exhausted.as_ref()?;
            Some(Outbox {
                d,
                msg_id: budget_exhausted_msg_id(x.offer_id, b),
                person: None,
                payload: budget_exhausted_payload(d, x, b),
                brand: &x.brand,
            })
        })
        .collect();
    push_outbox(q, EventType::OfferBudgetExhausted, &exhausted);
    for kind in [EventType::VisitEntered, EventType::VisitExited] {
        visit_outbox(q, kind, &slots);
    }
    q.push("; SELECT ")
        .push_bind(job)
        .push(" AS job, d.app_id, d.checkin_id, d.user_id, d.fingerprint, d.response FROM decisions d JOIN (");
    q.push_values(&slots, |mut row, slot| match slot {
        Some(d) => {
            row.push_bind(&d.app)
                .push_bind(&d.checkin_id)
                .push_bind(ms(d.at))
                .push_bind(d.latency_us);
        }
        None => nulls(&mut row, 4),
    });
    q.push(
        ") AS v ON d.app_id = v.column1 AND d.checkin_id = v.column2
         WHERE NOT (d.at = v.column3 AND d.latency_us = v.column4)",
    );
}

/// A slot's decision and its delivery, if it has one.
fn delivered<'a>(
    slot: &Option<&'a DecisionRecord>,
) -> Option<(&'a DecisionRecord, &'a DeliveryRecord)> {
    let d = (*slot)?;
    d.delivery.as_ref().map(|x| (d, x))
}

/// A JSON array of `items` for `json_each`, or NULL (no rows) when there are none.
fn json_list<T: serde::Serialize>(items: &[T]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    serde_json::to_string(items).ok()
}

/// The brands' `visit.entered` or `visit.exited` messages (`kind`), one per subscribed
/// active endpoint, in the same transaction as the decision that caused them
/// (docs/webhooks.md). Each slot carries its decision's messages of that kind as one JSON
/// array of `[msg_id, payload, brand]`.
fn visit_outbox(q: &mut QueryBuilder<Sqlite>, kind: EventType, slots: &[Option<&DecisionRecord>]) {
    q.push(
        "; INSERT OR IGNORE INTO webhook_outbox (endpoint_id, msg_id, brand_id, event_type,
           person, payload, created_at, next_attempt_at, status, attempts)
           SELECT e.id, h.value ->> 0, e.brand_id, ",
    )
    .push_bind(kind.as_str())
    .push(", v.column5, h.value ->> 1, v.column3, v.column3, 'pending', 0 FROM (");
    q.push_values(slots, |mut row, slot| match slot {
        Some(d) => {
            let hooks: Vec<(&str, &str, &str)> = d
                .visit_hooks
                .iter()
                .filter(|h| h.event == kind)
                .map(|h| (h.msg_id.as_str(), h.payload.as_str(), h.brand.as_str()))
                .collect();
            row.push_bind(&d.app)
                .push_bind(&d.checkin_id)
                .push_bind(ms(d.at))
                .push_bind(d.latency_us)
                .push_bind(&d.person)
                .push_bind(json_list(&hooks));
        }
        None => nulls(&mut row, 6),
    });
    q.push(
        ") AS v, json_each(v.column6) AS h JOIN webhook_endpoints e
           ON e.brand_id = h.value ->> 2 AND e.status = 'active' AND instr(e.event_types, ",
    )
    .push_bind(kind.quoted())
    .push(") > 0 WHERE ")
    .push(MINE);
}

/// One webhook message a decision reports, before it is joined to the subscribed endpoints.
struct Outbox<'a> {
    d: &'a DecisionRecord,
    msg_id: String,
    person: Option<&'a str>,
    payload: String,
    brand: &'a str,
}

/// Outbox rows of `kind`, one slot each (an empty slot writes nothing), one per active
/// endpoint of the row's brand that subscribes to it, written only with this attempt's own
/// decision row (see `MINE`).
fn push_outbox(q: &mut QueryBuilder<Sqlite>, kind: EventType, rows: &[Option<Outbox>]) {
    q.push(
        "; INSERT OR IGNORE INTO webhook_outbox (endpoint_id, msg_id, brand_id, event_type,
           person, payload, created_at, next_attempt_at, status, attempts)
           SELECT e.id, v.column5, e.brand_id, ",
    )
    .push_bind(kind.as_str())
    .push(", v.column6, v.column7, v.column3, v.column3, 'pending', 0 FROM (");
    q.push_values(rows, |mut row, o| match o {
        Some(o) => {
            row.push_bind(&o.d.app)
                .push_bind(&o.d.checkin_id)
                .push_bind(ms(o.d.at))
                .push_bind(o.d.latency_us)
                .push_bind(&o.msg_id)
                .push_bind(o.person)
                .push_bind(&o.payload)
                .push_bind(o.brand);
        }
        None => nulls(&mut row, 8),
    });
    q.push(
        ") AS v JOIN webhook_endpoints e ON e.brand_id = v.column8 AND e.status = 'active'
           AND instr(e.event_types, ",
    )
    .push_bind(kind.quoted())
    .push(") > 0 WHERE ")
    .push(MINE);
}

/// Decisions per round trip: the writer batches at most 256; the deliveries statement then
/// binds 15 × 256 parameters (the webhook outbox's 8 × 256), far below SQLite's bound of 32,766 per statement.
const ROWS_PER_STATEMENT: usize = 256;
