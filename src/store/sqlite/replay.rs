//! Time-ordered reads for backtests and the weather log they read: the same SQL as PostgreSQL's, written once in
//! `store::same_sql` (docs/backtest.md).

use super::{SqliteStore, db_err, from_ms, ms};

crate::store::same_sql::replay_store!(
    SqliteStore,
    sqlx::Sqlite,
    sqlx::sqlite::SqliteRow,
    trace: "CAST(d.trace AS BLOB)",
    read: pool,
    write: writer
);
