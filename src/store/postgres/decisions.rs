//! Decision rows, their brands and deliveries, written a batch at a time in three statements
//! (`INSERT … SELECT FROM UNNEST(…)`: one array parameter per column, whatever the batch
//! size), and the purge of old traces.

use super::{PgStore, db_err, from_ms, ms};
use crate::decisions::VisitHook;
use crate::decisions::record::{DecisionRecord, unpack_trace};
use crate::store::shared;
use crate::store::{DecisionStore, Prior, StoreResult, StoredDecision};
use crate::webhooks::{
    EventType, budget_exhausted_msg_id, budget_exhausted_payload, delivery_created_payload,
    delivery_msg_id,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Connection, Row};
use std::collections::HashSet;

/// Traces purged per statement: each batch is a short write.
const PURGE_BATCH: i64 = 2_000;

#[async_trait]
impl DecisionStore for PgStore {
    async fn decisions_by_checkin(&self, checkin_id: &str) -> StoreResult<Vec<StoredDecision>> {
        let rows = sqlx::query(
            "SELECT app_id, checkin_id, user_id, at, decision, reason, response, trace,
                    latency_us, offer_id, delivery_id, trace_purged_at,
                    (SELECT COALESCE(json_agg(brand_id ORDER BY brand_id), '[]'::json)::text
                     FROM decision_brands b
                     WHERE b.app_id = d.app_id AND b.checkin_id = d.checkin_id) AS brands
             FROM decisions d WHERE checkin_id = $1 ORDER BY app_id",
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
            "SELECT user_id, fingerprint, response FROM decisions
             WHERE app_id = $1 AND checkin_id = $2",
        )
        .bind(app)
        .bind(checkin_id)
        .fetch_optional(&mut *self.acquire().await.map_err(db_err)?)
        .await
        .map_err(db_err)?;
        row.map(|r| prior_of(&r)).transpose()
    }

    /// One transaction: the decisions (a retry, whose (app, check-in) is already recorded,
    /// is skipped by `ON CONFLICT DO NOTHING` and left out of `RETURNING`), then the brands
    /// and deliveries of the decisions that went in, then what was recorded first for the
    /// ones that did not.
    async fn save_decisions(&self, batch: Vec<DecisionRecord>) -> StoreResult<Vec<Option<Prior>>> {
        let mut priors = shared::priors_within(&batch);
        let fresh: Vec<&DecisionRecord> = batch
            .iter()
            .zip(&priors)
            .filter(|(_, p)| p.is_none())
            .map(|(d, _)| d)
            .collect();
        if fresh.is_empty() {
            return Ok(priors);
        }
        let col = |f: &dyn Fn(&DecisionRecord) -> Option<String>| -> Vec<Option<String>> {
            fresh.iter().map(|d| f(d)).collect()
        };
        let mut conn = self.acquire().await.map_err(db_err)?;
        let mut tx = conn.begin().await.map_err(db_err)?;
        let inserted: Vec<(String, String)> = sqlx::query_as(
            "INSERT INTO decisions (app_id, checkin_id, person, user_id, at, decision, reason,
                 offer_id, delivery_id, response, trace, latency_us, fingerprint)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[],
                 $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[],
                 $12::int8[], $13::text[])
             ON CONFLICT (app_id, checkin_id) DO NOTHING
             RETURNING app_id, checkin_id",
        )
        .bind(col(&|d| Some(d.app.clone())))
        .bind(col(&|d| Some(d.checkin_id.clone())))
        .bind(col(&|d| Some(d.person.clone())))
        .bind(col(&|d| Some(d.user_id.clone())))
        .bind(fresh.iter().map(|d| ms(d.at)).collect::<Vec<i64>>())
        .bind(col(&|d| Some(d.decision.to_string())))
        .bind(col(&|d| d.reason.clone()))
        .bind(col(&|d| d.offer_id.map(|o| o.to_string())))
        .bind(col(&|d| d.delivery.as_ref().map(|x| x.id.to_string())))
        .bind(col(&|d| Some(d.response.to_string())))
        .bind(
            fresh
                .iter()
                .map(|d| d.trace.clone())
                .collect::<Vec<Vec<u8>>>(),
        )
        .bind(fresh.iter().map(|d| d.latency_us).collect::<Vec<i64>>())
        .bind(col(&|d| Some(d.fingerprint.clone())))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let went_in: HashSet<(&str, &str)> = inserted
            .iter()
            .map(|(a, c)| (a.as_str(), c.as_str()))
            .collect();
        let new: Vec<&DecisionRecord> = fresh
            .iter()
            .copied()
            .filter(|d| went_in.contains(&(d.app.as_str(), d.checkin_id.as_str())))
            .collect();
        let brands: Vec<(&DecisionRecord, &String)> = new
            .iter()
            .flat_map(|d| d.brands.iter().map(move |b| (*d, b)))
            .collect();
        if !brands.is_empty() {
            sqlx::query(
                "INSERT INTO decision_brands (app_id, checkin_id, brand_id)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])
                 ON CONFLICT DO NOTHING",
            )
            .bind(
                brands
                    .iter()
                    .map(|(d, _)| d.app.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                brands
                    .iter()
                    .map(|(d, _)| d.checkin_id.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(brands.iter().map(|(_, b)| (*b).clone()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let delivered: Vec<&DecisionRecord> = new
            .iter()
            .copied()
            .filter(|d| d.delivery.is_some())
            .collect();
        if !delivered.is_empty() {
            let x = |f: &dyn Fn(
                &DecisionRecord,
                &crate::decisions::DeliveryRecord,
            ) -> Option<String>| {
                delivered
                    .iter()
                    .filter_map(|d| d.delivery.as_ref().map(|x| f(d, x)))
                    .collect::<Vec<Option<String>>>()
            };
            sqlx::query(
                "INSERT INTO deliveries (id, app_id, checkin_id, person, user_id, device_id,
                     brand_id, offer_id, fence_id, title, body, redemption_code, expires_at,
                     created_at, status)
                 SELECT *, 'delivered' FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[],
                     $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                     $11::text[], $12::text[], $13::int8[], $14::int8[])
                 ON CONFLICT DO NOTHING",
            )
            .bind(x(&|_, x| Some(x.id.to_string())))
            .bind(x(&|d, _| Some(d.app.clone())))
            .bind(x(&|d, _| Some(d.checkin_id.clone())))
            .bind(x(&|d, _| Some(d.person.clone())))
            .bind(x(&|d, _| Some(d.user_id.clone())))
            .bind(x(&|_, x| x.device_id.clone()))
            .bind(x(&|_, x| Some(x.brand.clone())))
            .bind(x(&|_, x| Some(x.offer_id.to_string())))
            .bind(x(&|_, x| Some(x.fence_id.to_string())))
            .bind(x(&|_, x| Some(x.title.clone())))
            .bind(x(&|_, x| Some(x.body.clone())))
            .bind(x(&|_, x| x.redemption_code.clone()))
            .bind(
                delivered
                    .iter()
                    .filter_map(|d| d.delivery.as_ref().map(|x| x.expires_at.map(ms)))
                    .collect::<Vec<Option<i64>>>(),
            )
            .bind(delivered.iter().map(|d| ms(d.at)).collect::<Vec<i64>>())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            // The brand's webhook messages, one per subscribed active endpoint, in the
            // delivery's transaction (the durable outbox; docs/webhooks.md).
            let created = EventType::DeliveryCreated;
            let rows = delivered
                .iter()
                .filter_map(|&d| {
                    let x = d.delivery.as_ref()?;
                    let payload = delivery_created_payload(d, x);
                    Some((x.id.to_string(), delivery_msg_id(x.id, created), payload))
                })
                .collect();
            push_outbox(&mut tx, created, rows, true).await?;
            // The budget a delivery used up, if it took the last unit: about the offer, not
            // the person (no `person`, so erasure leaves it).
            let rows: Vec<_> = delivered
                .iter()
                .filter_map(|&d| {
                    let x = d.delivery.as_ref()?;
                    let b = x.budget_exhausted.as_ref()?;
                    let payload = budget_exhausted_payload(d, x, b);
                    Some((
                        x.id.to_string(),
                        budget_exhausted_msg_id(x.offer_id, b),
                        payload,
                    ))
                })
                .collect();
            if !rows.is_empty() {
                push_outbox(&mut tx, EventType::OfferBudgetExhausted, rows, false).await?;
            }
        }
        visit_outbox(&mut tx, &new).await?;
        let retried: Vec<&DecisionRecord> = fresh
            .iter()
            .copied()
            .filter(|d| !went_in.contains(&(d.app.as_str(), d.checkin_id.as_str())))
            .collect();
        let recorded = if retried.is_empty() {
            Vec::new()
        } else {
            sqlx::query(
                "SELECT d.app_id, d.checkin_id, d.user_id, d.fingerprint, d.response
                 FROM decisions d JOIN UNNEST($1::text[], $2::text[]) AS v(app_id, checkin_id)
                   ON d.app_id = v.app_id AND d.checkin_id = v.checkin_id",
            )
            .bind(retried.iter().map(|d| d.app.clone()).collect::<Vec<_>>())
            .bind(
                retried
                    .iter()
                    .map(|d| d.checkin_id.clone())
                    .collect::<Vec<_>>(),
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?
        };
        tx.commit().await.map_err(db_err)?;
        for r in recorded {
            let (app, checkin): (String, String) = (r.get("app_id"), r.get("checkin_id"));
            for (i, d) in batch.iter().enumerate() {
                if priors[i].is_none() && d.app == app && d.checkin_id == checkin {
                    priors[i] = Some(prior_of(&r)?);
                }
            }
        }
        Ok(priors)
    }

    async fn purge_traces(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "UPDATE decisions SET trace = 'null'::bytea, trace_purged_at = $1
                 WHERE (app_id, checkin_id) IN (SELECT app_id, checkin_id FROM decisions
                     WHERE trace_purged_at IS NULL AND at < $2 LIMIT $3)",
            )
            .bind(ms(now))
            .bind(ms(before))
            .bind(PURGE_BATCH)
            .execute(&self.pool)
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

/// Outbox rows of `kind` for deliveries already written in `tx`: (delivery id, message id,
/// payload) each, one row per active endpoint of the delivery's brand that subscribes; about
/// the delivery's person when `about_person` (erasure then deletes them).
async fn push_outbox(
    tx: &mut sqlx::PgConnection,
    kind: EventType,
    rows: Vec<(String, String, String)>,
    about_person: bool,
) -> StoreResult<()> {
    let (ids, msg_ids, payloads): (Vec<_>, Vec<_>, Vec<_>) = rows.into_iter().fold(
        (Vec::new(), Vec::new(), Vec::new()),
        |(mut a, mut b, mut c), (id, msg, payload)| {
            a.push(id);
            b.push(msg);
            c.push(payload);
            (a, b, c)
        },
    );
    sqlx::query(
        "INSERT INTO webhook_outbox (endpoint_id, msg_id, brand_id, event_type, person,
             payload, created_at, next_attempt_at, status, attempts)
         SELECT e.id, v.msg_id, e.brand_id, $4, CASE WHEN $6 THEN d.person END, v.payload,
             d.created_at, d.created_at, 'pending', 0
         FROM UNNEST($1::text[], $2::text[], $3::text[]) AS v(id, msg_id, payload)
         JOIN deliveries d ON d.id = v.id
         JOIN webhook_endpoints e ON e.brand_id = d.brand_id AND e.status = 'active'
           AND position($5 in e.event_types) > 0
         ON CONFLICT DO NOTHING",
    )
    .bind(ids)
    .bind(msg_ids)
    .bind(payloads)
    .bind(kind.as_str())
    .bind(kind.quoted())
    .bind(about_person)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn prior_of(r: &PgRow) -> StoreResult<Prior> {
    Ok(Prior {
        user_id: r.get("user_id"),
        fingerprint: r.get("fingerprint"),
        response: serde_json::from_str(&r.get::<String, _>("response"))
            .map_err(anyhow::Error::new)?,
    })
}

/// The brands' `visit.entered` / `visit.exited` messages, one per subscribed active endpoint,
/// in the transaction of the decisions that caused them (docs/webhooks.md).
async fn visit_outbox(tx: &mut sqlx::PgConnection, new: &[&DecisionRecord]) -> StoreResult<()> {
    let hooks: Vec<(&DecisionRecord, &VisitHook)> = new
        .iter()
        .flat_map(|d| d.visit_hooks.iter().map(move |h| (*d, h)))
        .collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let col = |f: &dyn Fn(&DecisionRecord, &VisitHook) -> String| -> Vec<String> {
        hooks.iter().map(|(d, h)| f(d, h)).collect()
    };
    sqlx::query(
        "INSERT INTO webhook_outbox (endpoint_id, msg_id, brand_id, event_type, person,
             payload, created_at, next_attempt_at, status, attempts)
         SELECT e.id, v.msg_id, e.brand_id, v.event_type, v.person, v.payload, v.created_at,
             v.created_at, 'pending', 0
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::int8[]) AS v(msg_id, brand, event_type, quoted, person, payload, created_at)
         JOIN webhook_endpoints e ON e.brand_id = v.brand AND e.status = 'active'
           AND position(v.quoted in e.event_types) > 0
         ON CONFLICT DO NOTHING",
    )
    .bind(col(&|_, h| h.msg_id.clone()))
    .bind(col(&|_, h| h.brand.clone()))
    .bind(col(&|_, h| h.event.as_str().to_string()))
    .bind(col(&|_, h| h.event.quoted()))
    .bind(col(&|d, _| d.person.clone()))
    .bind(col(&|_, h| h.payload.clone()))
    .bind(hooks.iter().map(|(d, _)| ms(d.at)).collect::<Vec<i64>>())
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    Ok(())
}
