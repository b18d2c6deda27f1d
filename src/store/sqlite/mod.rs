//! The embedded SQLite store (WAL mode), the default for one-box deployments.
//!
//! Long (about 530 lines) because the one `Store` trait's 38 methods are implemented here by
//! forwarding; issue 15 splits the trait by concept.

mod audit;
mod commit;
mod events;
mod fences;
mod offers;
mod people;
mod reads;
mod support;

use super::{Brand, FencePage, Store, StoreError, StoreResult, Upserted};
use crate::audit::{AuditEntry, AuditQuery};
use crate::audit::{ReadEntry, ReadQuery, ReadRecord};
use crate::auth::{ApiKeyRecord, Principal, Role};
use crate::decisions::{
    DecisionRecord, Delivery, DeliveryFilter, DeliveryKey, Labels, TimelineQuery, TimelineRow,
};
use crate::domain::BrandId;
use crate::fences::{Fence, FenceDraft};
use crate::offers::{Offer, OfferSpec};
use crate::people::{Consent, ConsentInput, PersonId, Profile};
use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    /// Reads (WAL: readers never wait for the writer).
    pool: SqlitePool,
    /// Every write goes through this one connection. SQLite takes one writer at a time; with
    /// writers on several connections, the losers sleep in SQLite's busy handler (1, 2, 5,
    /// 10 ms ...) while the CPU idles. Here they queue for the connection instead and start
    /// the moment it is free.
    writer: SqlitePool,
    /// The check-in path's writes (decisions, events), committed in groups on `writer`.
    commit: commit::GroupCommit,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or `sqlite::memory:`)
    /// and applies the embedded migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            && let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let opts = SqliteConnectOptions::from_str(url)
            .with_context(|| "parsing the SQLite database URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a commit survives a process crash; an OS crash may lose the last few.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.clone())
            .await
            .with_context(|| "opening the SQLite database")?;
        // No checkpoint inside a commit: it copies the WAL into the database and syncs it,
        // which made the commit (and every check-in waiting on it) wait milliseconds. A
        // background task checkpoints instead (see `checkpoints`). The writer's page cache is
        // 32 MiB rather than SQLite's 2 MB: with 2 MB, geoffer's RSS crept 127 -> 140 MiB
        // over a 10-minute soak where 32 MiB stayed flat at 152 MiB, for a throughput
        // difference within noise (SQLite walks this cache's hash table after every write,
        // 2.1 % of CPU against 0.6 %; docs/benchmarks.md).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                opts.clone()
                    .pragma("wal_autocheckpoint", "0")
                    .pragma("cache_size", WRITER_CACHE_KIB),
            )
            .await
            .with_context(|| "opening the SQLite database for writing")?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.pragma("wal_autocheckpoint", "0"))
            .await
            .with_context(|| "opening the SQLite database for checkpoints")?;
        let store = Self {
            pool,
            commit: commit::GroupCommit::start(writer.clone()),
            writer,
        };
        tokio::spawn(checkpoints(checkpointer, store.writer.clone()));
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("src/store/sqlite/migrations")
            .run(&self.pool)
            .await
            .context("applying SQLite migrations")
    }

    /// The underlying pool, for modules that add their own tables.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// How often the background checkpoint runs. Short: a checkpoint's copy and sync compete
/// with the check-ins for the machine, and small ones often hurt the tail far less than
/// large ones seldom. Full world at 2,000 check-ins/s (docs/benchmarks.md): p99 22 ms every
/// 250 ms, 11 ms every 50 ms, 8.4 ms every 25 ms, for about a tenth less closed-loop
/// throughput.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(25);

/// The writer connection's page cache: a negative `cache_size` is KiB (32 MiB).
const WRITER_CACHE_KIB: &str = "-32768";

/// Moves committed pages from the WAL into the database file, off the commit path, in two
/// steps every [`CHECKPOINT_EVERY`]:
///
/// 1. on a connection of its own, beside the writes: this copies (and syncs) nearly all of
///    the WAL while the writer goes on committing;
/// 2. on the writer connection, between two writes: only what was committed during step 1
///    is left, so this is short, and afterwards the whole WAL is in the database, so the
///    next write starts the WAL over and it stays small. (Step 1 cannot tell whether it got
///    everything: what it reports is the WAL as it was when it started.)
///
/// Step 1 alone never catches up with a stream of writes, and the WAL grows without bound;
/// step 2 alone copies everything while every write waits. PASSIVE never waits for
/// readers; what they still use is copied next time. Ends when the store is closed.
async fn checkpoints(bulk: SqlitePool, writer: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if writer.is_closed() {
            bulk.close().await;
            return;
        }
        for pool in [&bulk, &writer] {
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(pool)
                .await
            {
                tracing::warn!(error = %e, "SQLite checkpoint failed; the WAL grows until one succeeds");
                break;
            }
        }
    }
}

/// Unique-constraint violations become `Conflict`; a database that cannot write right now
/// becomes `Unavailable`; everything else keeps its cause chain.
fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Conflict(db.message().to_string());
    }
    if cannot_write(&e) {
        return StoreError::Unavailable(anyhow::Error::new(e));
    }
    StoreError::Other(anyhow::Error::new(e))
}

/// Whether `e` says the database cannot write now (and might later) rather than that the
/// statement is wrong: SQLITE_FULL (disk or quota full), SQLITE_READONLY (e.g. a file left
/// read-only after a crash), SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_BUSY/LOCKED past the busy
/// timeout, or the connection itself failing.
pub(crate) fn cannot_write(e: &sqlx::Error) -> bool {
    const BUSY: i64 = 5;
    const LOCKED: i64 = 6;
    const READONLY: i64 = 8;
    const IOERR: i64 = 10;
    const FULL: i64 = 13;
    const CANTOPEN: i64 = 14;
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            // Extended result codes keep the primary code in their low byte.
            .is_some_and(|code| {
                matches!(
                    code & 0xff,
                    BUSY | LOCKED | READONLY | IOERR | FULL | CANTOPEN
                )
            }),
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

type Tx<'a> = Transaction<'a, Sqlite>;

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn write_probe(&self) -> StoreResult<()> {
        self.commit.write(commit::WriteProbe).await.map(drop)
    }

    async fn create_brand(&self, actor: &Principal, brand: &Brand) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query("INSERT INTO brands (id, name, created_at) VALUES (?, ?, ?)")
            .bind(brand.id.as_str())
            .bind(&brand.name)
            .bind(ms(brand.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| match db_err(e) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("brand `{}` already exists", brand.id))
                }
                other => other,
            })?;
        let after = serde_json::to_value(brand).ok();
        audit::record(
            &mut tx,
            Some(actor),
            Some(&brand.id),
            "brand",
            brand.id.as_str(),
            "create",
            None,
            after,
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_brand(&self, id: &BrandId) -> StoreResult<Option<Brand>> {
        let row = sqlx::query("SELECT id, name, created_at FROM brands WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|r| brand_from_row(&r)).transpose()
    }

    async fn list_brands(&self) -> StoreResult<Vec<Brand>> {
        let rows = sqlx::query("SELECT id, name, created_at FROM brands ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(brand_from_row).collect()
    }

    async fn create_key(&self, actor: Option<&Principal>, key: &ApiKeyRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        sqlx::query("INSERT INTO api_keys (id, secret_hash, role, brand_id, app_id, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&key.id)
            .bind(&key.secret_hash)
            .bind(key.role.as_str())
            .bind(key.brand.as_ref().map(BrandId::as_str))
            .bind(key.app.as_deref())
            .bind(ms(key.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let after = serde_json::json!({ "id": key.id, "role": key.role, "brand": key.brand, "app": key.app });
        audit::record(
            &mut tx,
            actor,
            key.brand.as_ref(),
            "key",
            &key.id,
            "create",
            None,
            Some(after),
        )
        .await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query(
            "SELECT id, secret_hash, role, brand_id, app_id, created_at FROM api_keys WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.get("role");
        let brand: Option<String> = r.get("brand_id");
        Ok(Some(ApiKeyRecord {
            id: r.get("id"),
            secret_hash: r.get("secret_hash"),
            role: Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("unknown role {role} in api_keys"))?,
            brand: brand
                .map(|b| BrandId::parse(&b))
                .transpose()
                .map_err(anyhow::Error::msg)?,
            app: r.get("app_id"),
            created_at: from_ms(r.get("created_at")),
        }))
    }

    async fn put_fences(
        &self,
        actor: &Principal,
        brand: &BrandId,
        drafts: Vec<FenceDraft>,
        upsert: bool,
    ) -> StoreResult<Vec<(Fence, Upserted)>> {
        self.put_fences_impl(actor, brand, drafts, upsert).await
    }

    async fn get_fence(&self, brand: &BrandId, id: Uuid) -> StoreResult<Option<Fence>> {
        self.get_fence_impl(brand, id).await
    }

    async fn list_fences(&self, brand: &BrandId, page: &FencePage) -> StoreResult<Vec<Fence>> {
        self.list_fences_impl(brand, page).await
    }

    async fn update_fence(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        draft: FenceDraft,
    ) -> StoreResult<Option<Fence>> {
        self.update_fence_impl(actor, brand, id, draft).await
    }

    async fn delete_fence(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
    ) -> StoreResult<Option<Fence>> {
        self.delete_fence_impl(actor, brand, id).await
    }

    async fn all_fences(&self) -> StoreResult<Vec<Fence>> {
        self.all_fences_impl().await
    }

    async fn missing_fences(&self, brand: &BrandId, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        self.missing_fences_impl(brand, ids).await
    }

    async fn create_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        spec: OfferSpec,
    ) -> StoreResult<Offer> {
        self.create_offer_impl(actor, brand, spec).await
    }

    async fn get_offer(&self, brand: &BrandId, id: Uuid) -> StoreResult<Option<Offer>> {
        self.get_offer_impl(brand, id).await
    }

    async fn list_offers(
        &self,
        brand: &BrandId,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Offer>> {
        self.list_offers_impl(brand, after, limit).await
    }

    async fn update_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
        spec: OfferSpec,
    ) -> StoreResult<Option<Offer>> {
        self.update_offer_impl(actor, brand, id, spec).await
    }

    async fn delete_offer(
        &self,
        actor: &Principal,
        brand: &BrandId,
        id: Uuid,
    ) -> StoreResult<Option<Offer>> {
        self.delete_offer_impl(actor, brand, id).await
    }

    async fn all_offers(&self) -> StoreResult<Vec<Offer>> {
        self.all_offers_impl().await
    }

    async fn list_changes(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        audit::list(&self.pool, q).await
    }

    async fn get_consent(&self, app: &str, user_id: &str) -> StoreResult<Option<Consent>> {
        self.get_consent_impl(app, user_id).await
    }

    async fn put_consent(
        &self,
        app: &str,
        user_id: &str,
        consent: &ConsentInput,
    ) -> StoreResult<Consent> {
        self.put_consent_impl(app, user_id, consent).await
    }

    async fn profile(&self, person: &PersonId, since: DateTime<Utc>) -> StoreResult<Profile> {
        self.profile_impl(person, since).await
    }

    async fn decisions_by_checkin(
        &self,
        checkin_id: &str,
    ) -> StoreResult<Vec<crate::store::StoredDecision>> {
        self.decisions_by_checkin_impl(checkin_id).await
    }

    async fn apply_event(
        &self,
        app: &str,
        person: &PersonId,
        event: &crate::events::Event,
        body: &serde_json::Value,
    ) -> StoreResult<crate::store::Applied> {
        self.apply_event_impl(app, person, event, body).await
    }

    async fn erase(&self, person: &PersonId, what: crate::store::Erase) -> StoreResult<()> {
        self.erase_impl(person, what).await
    }

    async fn record_erasure(&self, receipt: &str) -> StoreResult<()> {
        self.record_erasure_impl(receipt).await
    }

    async fn offer_results(
        &self,
        offer: Uuid,
        window: chrono::Duration,
    ) -> StoreResult<crate::store::ResultCounts> {
        self.offer_results_impl(offer, window).await
    }

    async fn save_decisions(
        &self,
        batch: Vec<DecisionRecord>,
    ) -> StoreResult<Vec<Option<crate::store::Prior>>> {
        self.save_decisions_impl(batch).await
    }

    async fn prior_decision(
        &self,
        app: &str,
        checkin_id: &str,
    ) -> StoreResult<Option<crate::store::Prior>> {
        self.prior_decision_impl(app, checkin_id).await
    }

    async fn purge_traces(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<u64> {
        self.purge_traces_impl(before, now).await
    }

    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        after: Option<DeliveryKey>,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        self.list_deliveries_impl(filter, after, limit).await
    }

    async fn get_delivery(&self, id: Uuid) -> StoreResult<Option<Delivery>> {
        self.get_delivery_impl(id).await
    }

    async fn offer_labels(&self, ids: &[String]) -> StoreResult<Labels> {
        self.offer_labels_impl(ids).await
    }

    async fn timeline(&self, q: &TimelineQuery) -> StoreResult<Vec<TimelineRow>> {
        self.timeline_impl(q).await
    }

    async fn record_read(&self, read: &ReadRecord) -> StoreResult<()> {
        reads::record(&self.writer, read).await
    }

    async fn list_reads(&self, q: &ReadQuery) -> StoreResult<Vec<ReadEntry>> {
        reads::list(&self.pool, q).await
    }
}

fn brand_from_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<Brand> {
    let id: String = r.get("id");
    Ok(Brand {
        id: BrandId::parse(&id).map_err(anyhow::Error::msg)?,
        name: r.get("name"),
        created_at: from_ms(r.get("created_at")),
    })
}
