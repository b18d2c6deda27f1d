//! Whether the store answers, and whether it can record, for /readyz.

use super::StoreResult;
use async_trait::async_trait;

/// Readiness checks.
#[async_trait]
pub trait Health: Send + Sync {
    /// Cheap round trip for /readyz.
    async fn ping(&self) -> StoreResult<()>;

    /// Whether the store can record right now, for /readyz: a small committed write through
    /// the same path as decisions. `Unavailable` when the disk is full or the database is
    /// read-only.
    async fn write_probe(&self) -> StoreResult<()> {
        self.ping().await
    }
}
