//! Store code whose SQL is the same on SQLite and PostgreSQL, written once. Each macro expands,
//! inside a backend's module, to that backend's functions and trait impl, given the backend's
//! store type, its sqlx database type and the pools it reads from and writes to. Statements
//! are built with `QueryBuilder`, which writes each backend's own placeholders (`?` or `$n`),
//! so the text below is the only copy; where the dialects really differ (JSON functions,
//! `ANY($1)` against `IN (…)`), the backends keep their own code.
//!
//! A macro rather than generic functions: generic sqlx code needs an `Encode + Type + Decode`
//! bound per bound type and an `Executor` bound per pool, more lines than the code they save.
//! Each expansion is checked against its concrete backend like hand-written code.

/// The admin change log and the support read log (`AuditStore`), plus `record` and
/// `record_many`, which the other stores call inside their change's transaction. The module
/// invoking it has `db_err`, `ms`, `from_ms` and `Tx` in scope (every backend module does).
macro_rules! audit_store {
    ($store:ty, $db:ty, read: $reader:ident, write: $writer:ident) => {
        use crate::audit::{AuditEntry, AuditQuery, ReadEntry, ReadQuery, ReadRecord};
        use crate::store::shared::Change;
        use crate::store::{AuditStore, StoreResult};
        use sqlx::{QueryBuilder, Row};

        const CHANGE_COLUMNS: &str = "INSERT INTO audit_changes (at, key_id, role, brand_id, entity, entity_id, action, before, after) ";

        /// Records one change inside the caller's transaction.
        pub(super) async fn record(tx: &mut Tx<'_>, change: &Change) -> StoreResult<()> {
            record_many(tx, std::slice::from_ref(change)).await
        }

        /// Records many changes with few statements (imports of 100,000 fences).
        pub(super) async fn record_many(tx: &mut Tx<'_>, changes: &[Change]) -> StoreResult<()> {
            for chunk in changes.chunks(2_000) {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(CHANGE_COLUMNS);
                qb.push_values(chunk, |mut b, c| {
                    b.push_bind(ms(c.at))
                        .push_bind(c.key_id.clone())
                        .push_bind(c.role.clone())
                        .push_bind(c.brand.clone())
                        .push_bind(c.entity)
                        .push_bind(c.entity_id.clone())
                        .push_bind(c.action)
                        .push_bind(c.before.as_ref().map(|v| v.to_string()))
                        .push_bind(c.after.as_ref().map(|v| v.to_string()));
                });
                qb.build().execute(&mut **tx).await.map_err(db_err)?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl AuditStore for $store {
            async fn list_changes(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
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
                let rows = qb.build().fetch_all(&self.$reader).await.map_err(db_err)?;
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

            async fn record_read(&self, r: &ReadRecord) -> StoreResult<()> {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                    "INSERT INTO audit_reads (at, key_id, role, brand_id, what, app_id, subject, query) ",
                );
                qb.push_values(std::iter::once(r), |mut b, r| {
                    b.push_bind(ms(r.at))
                        .push_bind(r.key_id.clone())
                        .push_bind(r.role.clone())
                        .push_bind(r.brand.clone())
                        .push_bind(r.what)
                        .push_bind(r.app.clone())
                        .push_bind(r.subject.clone())
                        .push_bind(r.query.clone());
                });
                qb.build().execute(&self.$writer).await.map_err(db_err)?;
                Ok(())
            }

            async fn list_reads(&self, q: &ReadQuery) -> StoreResult<Vec<ReadEntry>> {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
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
                let rows = qb.build().fetch_all(&self.$reader).await.map_err(db_err)?;
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
        }
    };
}

/// Console sessions (`SessionStore`). The invoking module has `db_err` and `ms` in scope.
macro_rules! session_store {
    ($store:ty, $db:ty, read: $reader:ident, write: $writer:ident) => {
        use crate::auth::SessionRecord;
        use crate::domain::BrandId;
        use crate::store::rows::SessionRow;
        use crate::store::{SessionStore, StoreError, StoreResult};
        use chrono::{DateTime, Utc};
        use sqlx::{FromRow, QueryBuilder};

        #[async_trait::async_trait]
        impl SessionStore for $store {
            async fn create_session(&self, s: &SessionRecord) -> StoreResult<()> {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                    "INSERT INTO console_sessions (token_hash, key_id, role, brand_id, created_at, expires_at) ",
                );
                qb.push_values(std::iter::once(s), |mut b, s| {
                    b.push_bind(s.token_hash.clone())
                        .push_bind(s.key_id.clone())
                        .push_bind(s.role.as_str())
                        .push_bind(s.brand.as_ref().map(|b| BrandId::as_str(b).to_owned()))
                        .push_bind(ms(s.created_at))
                        .push_bind(ms(s.expires_at));
                });
                qb.build().execute(&self.$writer).await.map_err(db_err)?;
                Ok(())
            }

            async fn valid_session(
                &self,
                token_hash: &[u8],
                now: DateTime<Utc>,
            ) -> StoreResult<Option<SessionRecord>> {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                    "SELECT token_hash, key_id, role, brand_id, created_at, expires_at
                     FROM console_sessions WHERE token_hash = ",
                );
                qb.push_bind(token_hash.to_vec())
                    .push(" AND expires_at > ")
                    .push_bind(ms(now));
                let row = qb
                    .build()
                    .fetch_optional(&self.$reader)
                    .await
                    .map_err(db_err)?;
                row.map(|r| {
                    let row = SessionRow::from_row(&r).map_err(db_err)?;
                    SessionRecord::try_from(row).map_err(StoreError::Other)
                })
                .transpose()
            }

            async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
                let mut qb: QueryBuilder<$db> =
                    QueryBuilder::new("DELETE FROM console_sessions WHERE token_hash = ");
                qb.push_bind(token_hash.to_vec());
                qb.build().execute(&self.$writer).await.map_err(db_err)?;
                Ok(())
            }

            async fn purge_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
                let mut qb: QueryBuilder<$db> =
                    QueryBuilder::new("DELETE FROM console_sessions WHERE expires_at <= ");
                qb.push_bind(ms(now));
                let done = qb.build().execute(&self.$writer).await.map_err(db_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}

/// Time-ordered reads for backtests (`ReplayStore`): a brand's recorded decisions and the
/// deliveries its virtual limiter replays, each a keyset page, and the per-cell, per-hour
/// weather log (written in batches, read an hour at a time, pruned by retention). `$trace` is
/// the expression that reads the trace column as bytes on that backend. The invoking module
/// has `db_err`, `ms` and `from_ms` in scope.
macro_rules! replay_store {
    ($store:ty, $db:ty, $row:ty, trace: $trace:literal, read: $reader:ident, write: $writer:ident) => {
        use crate::decisions::replay::{
            LiveDelivery, LiveDeliveryQuery, MomentQuery, RecordedMoment,
        };
        use crate::store::{ReplayStore, StoreResult};
        use crate::domain::WeatherLogEntry;
        use chrono::{DateTime, Utc};
        use sqlx::{QueryBuilder, Row};
        use uuid::Uuid;

        #[async_trait::async_trait]
        impl ReplayStore for $store {
            async fn recorded_moments(&self, q: &MomentQuery) -> StoreResult<Vec<RecordedMoment>> {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                    concat!(
                        "SELECT d.app_id, d.checkin_id, d.user_id, d.person, d.at, d.reason, ",
                        $trace,
                        " AS trace,
                            CASE WHEN d.delivery_id IS NULL THEN NULL ELSE d.offer_id END AS delivered
                         FROM decisions d WHERE d.trace_purged_at IS NULL AND d.at >= "
                    ),
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
                let rows = qb.build().fetch_all(&self.$reader).await.map_err(db_err)?;
                rows.iter().map(moment_from_row).collect()
            }

            async fn live_deliveries(&self, q: &LiveDeliveryQuery) -> StoreResult<Vec<LiveDelivery>> {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
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
                let rows = qb.build().fetch_all(&self.$reader).await.map_err(db_err)?;
                rows.iter().map(delivery_from_row).collect()
            }

            async fn record_weather(&self, entries: &[WeatherLogEntry]) -> StoreResult<u64> {
                let mut new = 0;
                for chunk in entries.chunks(1_000) {
                    let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                        "INSERT INTO weather_log (hour, cell_row, cell_col, temp_c, feels_like_c,
                            precipitation_mm, condition, is_day) ",
                    );
                    qb.push_values(chunk, |mut b, e| {
                        b.push_bind(ms(e.hour))
                            .push_bind(e.cell_row)
                            .push_bind(e.cell_col)
                            .push_bind(e.temp_c)
                            .push_bind(e.feels_like_c)
                            .push_bind(e.precipitation_mm)
                            .push_bind(e.condition.clone())
                            .push_bind(e.is_day);
                    });
                    qb.push(" ON CONFLICT (hour, cell_row, cell_col) DO NOTHING");
                    let done = qb.build().execute(&self.$writer).await.map_err(db_err)?;
                    new += done.rows_affected();
                }
                Ok(new)
            }

            async fn weather_log(&self, hour: DateTime<Utc>) -> StoreResult<Vec<WeatherLogEntry>> {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                    "SELECT hour, cell_row, cell_col, temp_c, feels_like_c, precipitation_mm,
                            condition, is_day
                     FROM weather_log WHERE hour = ",
                );
                qb.push_bind(ms(hour));
                let rows = qb.build().fetch_all(&self.$reader).await.map_err(db_err)?;
                rows.iter().map(weather_from_row).collect()
            }

            async fn purge_weather_log(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                let mut qb: QueryBuilder<$db> =
                    QueryBuilder::new("DELETE FROM weather_log WHERE hour < ");
                qb.push_bind(ms(before));
                let done = qb.build().execute(&self.$writer).await.map_err(db_err)?;
                Ok(done.rows_affected())
            }
        }

        fn weather_from_row(r: &$row) -> StoreResult<WeatherLogEntry> {
            Ok(WeatherLogEntry {
                hour: from_ms(r.get("hour")),
                cell_row: r.get("cell_row"),
                cell_col: r.get("cell_col"),
                temp_c: r.get("temp_c"),
                feels_like_c: r.get("feels_like_c"),
                precipitation_mm: r.get("precipitation_mm"),
                condition: r.get("condition"),
                is_day: r.get("is_day"),
            })
        }

        fn uuid(r: &$row, col: &str) -> StoreResult<Uuid> {
            let s: String = r.get(col);
            Uuid::parse_str(&s).map_err(|e| anyhow::anyhow!("{col} `{s}`: {e}").into())
        }

        fn moment_from_row(r: &$row) -> StoreResult<RecordedMoment> {
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

        fn delivery_from_row(r: &$row) -> StoreResult<LiveDelivery> {
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
    };
}

/// What happens around an endpoint's status, inside the caller's transaction, the same on
/// both backends: telling the brand an endpoint was disabled for failing (the audit entry
/// and `endpoint.disabled` to the brand's other subscribed active endpoints), and sending
/// at once the waiting messages of an endpoint enabled again. The invoking module has
/// `audit`, `db_err`, `ms` and `Tx` in scope.
macro_rules! webhook_status {
    ($db:ty, lock: $lock:literal) => {
        /// An endpoint's row inside `tx`, locked until the transaction ends where the
        /// backend has row locks (`$lock`; SQLite's one writer serialises anyway): the state
        /// before a failed attempt is counted, so of two concurrent failures exactly one sees
        /// the endpoint go from active to disabled. `None` once deleted.
        async fn locked_endpoint(
            tx: &mut Tx<'_>,
            id: uuid::Uuid,
        ) -> StoreResult<Option<crate::webhooks::Endpoint>> {
            use sqlx::FromRow;
            let mut qb: sqlx::QueryBuilder<$db> = sqlx::QueryBuilder::new(format!(
                "SELECT {} FROM webhook_endpoints WHERE id = ",
                crate::store::webhooks::ENDPOINT_COLUMNS
            ));
            qb.push_bind(id.to_string()).push($lock);
            let Some(r) = qb.build().fetch_optional(&mut **tx).await.map_err(db_err)? else {
                return Ok(None);
            };
            let row = crate::store::webhooks::EndpointRow::from_row(&r).map_err(db_err)?;
            crate::webhooks::Endpoint::try_from(row)
                .map(Some)
                .map_err(crate::store::StoreError::Other)
        }

        /// After a failed attempt moved `before` to `after`: when that disabled it, tells the
        /// brand ([`tell_disabled`]) and returns it.
        async fn disabled_now(
            tx: &mut Tx<'_>,
            before: &crate::webhooks::Endpoint,
            after: crate::webhooks::Endpoint,
        ) -> StoreResult<Option<crate::webhooks::Endpoint>> {
            use crate::webhooks::EndpointStatus;
            if before.status == EndpointStatus::Active && after.status == EndpointStatus::Disabled {
                tell_disabled(tx, before, &after).await?;
                return Ok(Some(after));
            }
            Ok(None)
        }

        /// The audit entry of `after`'s disabling (by geoffer) and one `endpoint.disabled`
        /// message per other active endpoint of its brand that subscribes to it. Never to
        /// `after` itself, which is disabled and would not take it.
        async fn tell_disabled(
            tx: &mut Tx<'_>,
            before: &crate::webhooks::Endpoint,
            after: &crate::webhooks::Endpoint,
        ) -> StoreResult<()> {
            use crate::webhooks::{EndpointStatus, EventType};
            use sqlx::FromRow;
            audit::record(tx, &Change::endpoint_disabled(before, after)).await?;
            let mut qb: sqlx::QueryBuilder<$db> = sqlx::QueryBuilder::new(format!(
                "SELECT {} FROM webhook_endpoints WHERE brand_id = ",
                crate::store::webhooks::ENDPOINT_COLUMNS
            ));
            qb.push_bind(after.brand.clone());
            let rows = qb.build().fetch_all(&mut **tx).await.map_err(db_err)?;
            let mut to = Vec::new();
            for r in &rows {
                let row = crate::store::webhooks::EndpointRow::from_row(r).map_err(db_err)?;
                let e = crate::webhooks::Endpoint::try_from(row)
                    .map_err(crate::store::StoreError::Other)?;
                if e.id != after.id
                    && e.status == EndpointStatus::Active
                    && e.event_types.contains(&EventType::EndpointDisabled)
                {
                    to.push(e.id.to_string());
                }
            }
            if to.is_empty() {
                return Ok(());
            }
            let msg_id = crate::webhooks::endpoint_disabled_msg_id(after.id, after.updated_at);
            let payload = crate::webhooks::endpoint_disabled_payload(after, after.updated_at);
            let at = ms(after.updated_at);
            let mut qb: sqlx::QueryBuilder<$db> = sqlx::QueryBuilder::new(
                "INSERT INTO webhook_outbox (endpoint_id, msg_id, brand_id, event_type, person,
                   payload, created_at, next_attempt_at, status, attempts) ",
            );
            qb.push_values(to, |mut b, id| {
                b.push_bind(id)
                    .push_bind(msg_id.clone())
                    .push_bind(after.brand.clone())
                    .push_bind(EventType::EndpointDisabled.as_str())
                    .push("NULL")
                    .push_bind(payload.clone())
                    .push_bind(at)
                    .push_bind(at)
                    .push("'pending'")
                    .push("0");
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(&mut **tx).await.map_err(db_err)?;
            Ok(())
        }

        /// Makes `e`'s waiting messages whose event is at or after `since` due at
        /// `e.updated_at` (it was just enabled again).
        async fn resume(
            tx: &mut Tx<'_>,
            e: &crate::webhooks::Endpoint,
            since: DateTime<Utc>,
        ) -> StoreResult<()> {
            let now = ms(e.updated_at);
            let mut qb: sqlx::QueryBuilder<$db> =
                sqlx::QueryBuilder::new("UPDATE webhook_outbox SET next_attempt_at = ");
            qb.push_bind(now)
                .push(" WHERE endpoint_id = ")
                .push_bind(e.id.to_string())
                .push(" AND status = 'pending' AND created_at >= ")
                .push_bind(ms(since))
                .push(" AND next_attempt_at > ")
                .push_bind(now);
            qb.build().execute(&mut **tx).await.map_err(db_err)?;
            Ok(())
        }
    };
}

pub(crate) use {audit_store, replay_store, session_store, webhook_status};
