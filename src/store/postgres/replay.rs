//! Time-ordered reads for backtests and the weather log they read: the same SQL as SQLite's, written once in
//! `store::same_sql` (docs/backtest.md).

use super::{PgStore, db_err, from_ms, ms};

crate::store::same_sql::replay_store!(
    PgStore,
    sqlx::Postgres,
    sqlx::postgres::PgRow,
    trace: "d.trace",
    read: pool,
    write: pool
);
