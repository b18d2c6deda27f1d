//! The admin change log and the support read log.

use super::StoreResult;
use crate::audit::{AuditEntry, AuditQuery, ReadEntry, ReadQuery, ReadRecord};
use async_trait::async_trait;

/// Reading the change log (written with each change) and writing and reading the read log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// The admin audit log, newest first.
    async fn list_changes(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
    /// Records one read of a person's data (at `read.at`).
    async fn record_read(&self, read: &ReadRecord) -> StoreResult<()>;
    /// The read log, newest first.
    async fn list_reads(&self, q: &ReadQuery) -> StoreResult<Vec<ReadEntry>>;
}
