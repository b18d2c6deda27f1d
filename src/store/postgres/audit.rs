//! The admin change log (written inside each change's transaction) and the support read log:
//! the same SQL as SQLite's, written once in `store::same_sql`.

use super::{PgStore, Tx, db_err, from_ms, ms};

crate::store::same_sql::audit_store!(PgStore, sqlx::Postgres, read: pool, write: pool);
