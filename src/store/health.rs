//! Whether the store answers, and whether it can record, for /readyz.

use super::StoreResult;
use async_trait::async_trait;

/// A connection pool's state, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open.
    pub open: u32,
    /// Of those, idle (the rest are in use).
    pub idle: u32,
    /// The most the pool opens; `open == max` with none idle means callers wait.
    pub max: u32,
    /// Connections the check-in and event paths acquired since start.
    pub acquires: u64,
    /// Microseconds those acquisitions spent waiting for a connection, in total.
    pub acquire_wait_us: u64,
}

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

    /// The connection pool's state, where the backend has a pool worth watching.
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }
}
