//! Feedback events and the results they add up to.

use super::{ResultCounts, StoreResult};
use crate::events::Event;
use crate::offers::results::DayResults;
use crate::people::PersonId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What applying an event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// Recorded, with its effect; the brand it concerned, if any.
    Accepted {
        /// Brand of the delivery, purchase or follow.
        brand: Option<String>,
    },
    /// Seen before (same app and event id): nothing changed.
    Duplicate,
}

/// Events and offer results.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Records an event received at `received_at` and applies its effect in one
    /// transaction; `Conflict` when the transition makes no sense, `NotFound` for an unknown
    /// delivery.
    async fn apply_event(
        &self,
        app: &str,
        person: &PersonId,
        event: &Event,
        body: &serde_json::Value,
        received_at: DateTime<Utc>,
    ) -> StoreResult<Applied>;
    /// Counts behind an offer's results, with purchases attributed within `window`.
    async fn offer_results(
        &self,
        offer: Uuid,
        window: chrono::Duration,
    ) -> StoreResult<ResultCounts>;
    /// The offer's deliveries, opens, dismissals, redemptions and conversions (purchases
    /// attributed within `window`) per UTC day, each counted on the day it happened, at or
    /// after `from` and before `to`: only the days with something on them, oldest first.
    async fn offer_daily(
        &self,
        offer: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        window: chrono::Duration,
    ) -> StoreResult<Vec<DayResults>>;
}
