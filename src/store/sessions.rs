//! Console sessions: kept in the database so any replica can serve any signed-in browser.

use super::StoreResult;
use crate::auth::SessionRecord;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Server-side console sessions, found by the SHA-256 of their token.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Records a new session.
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// The session with this token hash when it has not expired at `now`.
    async fn valid_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<SessionRecord>>;
    /// Ends a session (sign-out); ending one that does not exist is not an error.
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Removes every session expired at `now`; returns how many.
    async fn purge_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}
