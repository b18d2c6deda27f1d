//! Recorded decisions (with their traces and deliveries).

use super::{Prior, StoreResult, StoredDecision};
use crate::decisions::DecisionRecord;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Decisions, written in batches by the decision writer.
#[async_trait]
pub trait DecisionStore: Send + Sync {
    /// Persists decisions (and their deliveries) in one transaction. A decision whose
    /// (app, check-in) is already recorded, in the store or earlier in the same batch, is
    /// not saved again: its slot in the answer holds what was recorded first ([`Prior`]), for
    /// the caller to replay (a retry) or refuse (the id reused); new decisions get `None`.
    async fn save_decisions(&self, batch: Vec<DecisionRecord>) -> StoreResult<Vec<Option<Prior>>>;
    /// What is recorded for this app's check-in id, if it was decided before.
    async fn prior_decision(&self, app: &str, checkin_id: &str) -> StoreResult<Option<Prior>>;
    /// Every recorded decision with this check-in id (one per app that used it), by app.
    async fn decisions_by_checkin(&self, checkin_id: &str) -> StoreResult<Vec<StoredDecision>>;
    /// Replaces the trace of every decision made before `before` with null, noting `now` as
    /// the purge time; the decision rows and deliveries stay. Returns how many were purged.
    async fn purge_traces(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<u64>;
}
