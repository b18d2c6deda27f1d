//! Console session rows: the same SQL as PostgreSQL's, written once in `store::same_sql`.

use super::{SqliteStore, db_err, ms};

crate::store::same_sql::session_store!(SqliteStore, sqlx::Sqlite, read: pool, write: writer);
