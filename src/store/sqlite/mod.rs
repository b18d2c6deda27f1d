//! The embedded SQLite store (WAL mode), the default for one-box deployments: opening the
//! database, its connections and checkpoints, and how SQLite errors map to store errors. Each
//! store trait is implemented in the file of the same name.

mod audit;
mod brands;
mod changelog;
mod commit;
mod decisions;
mod event_rows;
mod events;
mod fences;
mod health;
mod offers;
mod people;
mod replay;
mod sessions;
mod support;
mod webhooks;

use super::StoreError;
use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// SQLite-backed [`Store`](super::Store).
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
