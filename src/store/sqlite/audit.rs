//! The admin change log (written inside each change's transaction) and the support read log:
//! the same SQL as PostgreSQL's, written once in `store::same_sql`.

use super::{SqliteStore, Tx, db_err, from_ms, ms};

crate::store::same_sql::audit_store!(SqliteStore, sqlx::Sqlite, read: pool, write: writer);
