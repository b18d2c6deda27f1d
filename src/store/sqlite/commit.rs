//! Group commit for the writes on the check-in path: decision batches and events.
//!
//! SQLite has one writer at a time, and this store gives it one connection. When every
//! write acquired that connection from the pool itself, the connection sat idle between
//! two writes until the next waiter's task was scheduled on its (busy) HTTP worker thread:
//! under load the writer spent four times longer being handed over than writing
//! (docs/benchmarks.md). Here one task takes every queued write, runs them all as one
//! transaction in one round trip, and hands each its own rows back; the connection goes
//! from one batch to the next without waiting for anyone.
//!
//! A batch that fails is rolled back and each of its writes is run again on its own, so one
//! bad write fails alone.

use super::db_err;
use crate::store::StoreResult;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// The statements one write adds to a shared transaction: complete statements separated by
/// `; `, with no `BEGIN` or `COMMIT`. Every row they return must have `job` (the value
/// passed in) as its first column, so the rows can be handed back to the write they belong
/// to. Bind every value, `job` included, so that the text repeats and its prepared form is
/// reused (see `execute`).
pub(super) trait Statements: Send + Sync + 'static {
    /// Appends the statements.
    fn push(&self, q: &mut QueryBuilder<Sqlite>, job: i64);
}

type Done = oneshot::Sender<Result<Vec<SqliteRow>, sqlx::Error>>;

struct Job {
    write: Box<dyn Statements>,
    done: Done,
}

/// The readiness probe: commits a row about the size of a decision with its trace and
/// deletes the previous one, so it needs the pages (and WAL space) a decision would. A full
/// disk or a read-only file fails it the way it fails decisions. The table is scratch space
/// outside the migrations: it holds at most one row and nothing reads it.
pub(super) struct WriteProbe;

/// Bytes the probe writes: more than a decision with its packed trace, its delivery and
/// their index entries, so the probe fails before decisions do rather than after.
const PROBE_BYTES: i64 = 64 * 1024;

impl Statements for WriteProbe {
    fn push(&self, q: &mut QueryBuilder<Sqlite>, _job: i64) {
        q.push(
            "CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY, pad BLOB NOT NULL); \
             INSERT INTO write_probe (pad) VALUES (zeroblob(",
        )
        .push_bind(PROBE_BYTES)
        .push(")); DELETE FROM write_probe WHERE id <> last_insert_rowid()");
    }
}

/// Writes per transaction. A decision write carries up to 256 decisions (one statement
/// binds at most 15 × 256 parameters); an event about 20 parameters.
const MAX_JOBS: usize = 64;

/// The handle the store's writes go through.
#[derive(Clone)]
pub(super) struct GroupCommit {
    tx: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the committing task on the current runtime. It ends when every handle is
    /// dropped, after the writes already queued.
    pub(super) fn start(writer: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(run(writer, rx));
        Self { tx }
    }

    /// Commits `write` (with whatever else is queued) and returns the rows it returned.
    pub(super) async fn write(&self, write: impl Statements) -> StoreResult<Vec<SqliteRow>> {
        let (done, wait) = oneshot::channel();
        let job = Job {
            write: Box::new(write),
            done,
        };
        self.tx
            .send(job)
            .await
            .map_err(|_| anyhow::anyhow!("the SQLite writer has stopped"))?;
        wait.await
            .map_err(|_| anyhow::anyhow!("the SQLite writer dropped a write"))?
            .map_err(db_err)
    }
}

async fn run(writer: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_JOBS);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        while jobs.len() < MAX_JOBS {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let writes: Vec<&dyn Statements> = jobs.iter().map(|j| &*j.write).collect();
        match execute(&writer, &writes).await {
            Ok(rows) => {
                let mut per_job: Vec<Vec<SqliteRow>> = jobs.iter().map(|_| Vec::new()).collect();
                for row in rows {
                    let job = row
                        .try_get::<i64, _>(0)
                        .ok()
                        .and_then(|j| usize::try_from(j).ok());
                    if let Some(rows) = job.and_then(|j| per_job.get_mut(j)) {
                        rows.push(row);
                    }
                }
                for (job, rows) in jobs.drain(..).zip(per_job) {
                    let _ = job.done.send(Ok(rows));
                }
            }
            Err(e) if jobs.len() == 1 => {
                let _ = jobs.pop().map(|job| job.done.send(Err(e)));
            }
            Err(_) => {
                // Rolled back as a whole: find the write that failed by running each alone.
                for job in jobs.drain(..) {
                    let alone = execute(&writer, &[&*job.write]).await;
                    let _ = job.done.send(alone);
                }
            }
        }
    }
}

/// One transaction, one round trip: `BEGIN IMMEDIATE; <every write's statements>; COMMIT`.
///
/// The text is kept prepared on the writer connection (`persistent`, sqlx's statement cache
/// keyed by the text): each write's statements have a fixed text per shape (values are
/// bound, the job number too; a decision batch is padded to a power of two, see
/// `decisions::slots`), so a transaction made of the same shapes as an earlier one is not
/// parsed again. Parsing every batch anew was 5.5 % of geoffer's CPU under check-ins
/// (docs/benchmarks.md).
async fn execute(
    writer: &SqlitePool,
    writes: &[&dyn Statements],
) -> Result<Vec<SqliteRow>, sqlx::Error> {
    let mut q = QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE");
    for (job, write) in writes.iter().enumerate() {
        q.push("; ");
        write.push(&mut q, job as i64);
    }
    q.push("; COMMIT");
    let mut conn = writer.acquire().await?;
    match q.build().persistent(true).fetch_all(&mut *conn).await {
        Ok(rows) => Ok(rows),
        Err(e) => {
            // The statements stopped inside the transaction: end it, keep nothing.
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    /// Inserts `value` into `t` and returns it, tagged with the job.
    struct Insert(&'static str);

    impl Statements for Insert {
        fn push(&self, q: &mut QueryBuilder<Sqlite>, job: i64) {
            q.push("INSERT INTO t (v) VALUES (")
                .push_bind(self.0)
                .push(") RETURNING ")
                .push_bind(job)
                .push(" AS job, v");
        }
    }

    #[tokio::test]
    async fn writes_queued_together_commit_together_and_a_bad_one_fails_alone() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v TEXT NOT NULL CHECK (v <> 'bad'))")
            .execute(&pool)
            .await
            .unwrap();
        let commit = GroupCommit::start(pool.clone());
        let job = |rows: &[SqliteRow]| rows[0].get::<i64, _>("job");
        // Queued before the committing task runs (one-threaded runtime): one transaction,
        // in which they are jobs 0, 1 and 2.
        let (x, y, z) = tokio::join!(
            commit.write(Insert("x")),
            commit.write(Insert("y")),
            commit.write(Insert("z")),
        );
        assert_eq!(
            [job(&x.unwrap()), job(&y.unwrap()), job(&z.unwrap())],
            [0, 1, 2]
        );
        sqlx::query("DELETE FROM t").execute(&pool).await.unwrap();
        // All four are queued before the committing task runs (one-threaded runtime), so
        // they go out as one transaction first.
        let (a, bad, c, d) = tokio::join!(
            commit.write(Insert("a")),
            commit.write(Insert("bad")),
            commit.write(Insert("c")),
            commit.write(Insert("d")),
        );
        // The failed transaction is rolled back and each write runs alone (as job 0).
        let value = |rows: Vec<SqliteRow>| {
            assert_eq!((rows.len(), job(&rows)), (1, 0));
            rows[0].get::<String, _>("v")
        };
        assert_eq!(value(a.unwrap()), "a");
        assert_eq!(value(c.unwrap()), "c");
        assert_eq!(value(d.unwrap()), "d");
        assert!(bad.is_err());
        let kept: Vec<String> = sqlx::query_scalar("SELECT v FROM t ORDER BY v")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(kept, ["a", "c", "d"]);
    }

    #[tokio::test]
    async fn a_read_only_or_full_database_cannot_write_and_a_broken_rule_is_not_that() {
        use crate::store::sqlite::cannot_write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let rw = SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v BLOB NOT NULL)")
            .execute(&rw)
            .await
            .unwrap();
        let ro = SqlitePoolOptions::new()
            .connect(&format!("sqlite://{}?mode=ro", path.display()))
            .await
            .unwrap();
        let e = sqlx::query("INSERT INTO t VALUES (x'00')")
            .execute(&ro)
            .await
            .unwrap_err();
        assert!(cannot_write(&e), "read-only: {e}");
        // A database at its page limit fails the way a full disk does (SQLITE_FULL).
        sqlx::query("PRAGMA max_page_count = 4")
            .execute(&rw)
            .await
            .unwrap();
        let e = sqlx::query("INSERT INTO t VALUES (zeroblob(100000))")
            .execute(&rw)
            .await
            .unwrap_err();
        assert!(cannot_write(&e), "full: {e}");
        let e = sqlx::query("INSERT INTO t VALUES (NULL)")
            .execute(&rw)
            .await
            .unwrap_err();
        assert!(
            !cannot_write(&e),
            "a broken rule is a bug, not an outage: {e}"
        );
    }
}
