//! The PostgreSQL store, for running many geoffer replicas over one database: opening the
//! pool, its migrations, the catalog's change log, and how PostgreSQL errors map to store
//! errors. Each store trait is implemented in the file of the same name, as for SQLite; the
//! tables and columns are the same (see `migrations/`).
//!
//! Unlike SQLite, PostgreSQL takes many writers at once, so there is no group-commit queue:
//! each write is its own transaction on a pooled connection, and the decision writer's
//! batches go in as a few multi-row statements (`INSERT … SELECT FROM UNNEST(…)`).

mod audit;
mod brands;
mod changelog;
mod decisions;
mod events;
mod fences;
mod health;
mod offers;
mod people;
mod replay;
mod sessions;
mod support;
mod webhooks;

pub use changelog::CatalogChangeRow;

use super::StoreError;
use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How the store's connection pool is sized (settings `pg_pool_*`).
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Most connections this process opens.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a caller waits for a connection before the store answers `Unavailable`.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            min_connections: 2,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// PostgreSQL-backed [`Store`](super::Store).
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    url: String,
    waits: Arc<AcquireWaits>,
}

/// How long the check-in and event paths (decision batches, prior-record reads, events)
/// waited for a pooled connection: the pool metrics' `acquire_*` counters.
#[derive(Debug, Default)]
struct AcquireWaits {
    count: AtomicU64,
    micros: AtomicU64,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`) with `pool` sizing and applies the migrations.
    pub async fn connect(url: &str, pool: PoolSettings) -> anyhow::Result<Self> {
        let opts = PgConnectOptions::from_str(url)
            .context("parsing the PostgreSQL database URL")?
            .application_name("geoffer");
        let pg = PgPoolOptions::new()
            .max_connections(pool.max_connections)
            .min_connections(pool.min_connections)
            .acquire_timeout(pool.acquire_timeout)
            .connect_with(opts)
            .await
            .context("connecting to PostgreSQL")?;
        let store = Self {
            pool: pg,
            url: url.to_string(),
            waits: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations. Replicas starting together take turns: sqlx holds an
    /// advisory lock while it migrates.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("src/store/postgres/migrations")
            .run(&self.pool)
            .await
            .context("applying PostgreSQL migrations")
    }

    /// The underlying pool (pool metrics, tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A pooled connection for the check-in and event paths, the wait for it counted.
    async fn acquire(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        let started = Instant::now();
        let conn = self.pool.acquire().await;
        let waited = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.waits.count.fetch_add(1, Ordering::Relaxed);
        self.waits.micros.fetch_add(waited, Ordering::Relaxed);
        conn
    }

    /// Connections handed out through [`Self::acquire`], and the microseconds spent waiting
    /// for them, since start.
    fn acquire_waits(&self) -> (u64, u64) {
        (
            self.waits.count.load(Ordering::Relaxed),
            self.waits.micros.load(Ordering::Relaxed),
        )
    }

    /// Closes every connection: after the decision writer has drained, at shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Unique-constraint violations become `Conflict`; a database that cannot answer or write
/// right now becomes `Unavailable`; everything else keeps its cause chain.
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

/// Whether `e` says PostgreSQL cannot answer or write now (and might later) rather than that
/// the statement is wrong: the connection failed or the pool has none to give, SQLSTATE
/// class 08 (connection exception), 53 (insufficient resources: disk full, out of memory,
/// too many connections), 57P01–57P03 (shutting down, cannot connect now), 25006 (a
/// read-only transaction: a standby, or `default_transaction_read_only`), 40001/40P01
/// (serialization failure, deadlock: retryable).
pub(crate) fn cannot_write(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || code.starts_with("53")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "25006" | "40001" | "40P01"
                )
        }),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
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

type Tx<'a> = Transaction<'a, Postgres>;
