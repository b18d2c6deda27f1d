//! Console session rows: the same SQL as SQLite's, written once in `store::same_sql`.

use super::{PgStore, db_err, ms};

crate::store::same_sql::session_store!(PgStore, sqlx::Postgres, read: pool, write: pool);
