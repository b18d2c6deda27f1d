//! What a backtest reads back, as the store gives it: a brand's recorded decisions with their
//! traces, and every brand's deliveries, each in time order and paged by keyset, so a replay
//! streams any period in bounded memory (docs/backtest.md).

use super::record::unpack_text;
use super::trace::Trace;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A page of a brand's recorded decisions that still have their trace, oldest first
/// ((at, app, check-in id) ascending).
#[derive(Debug, Clone)]
pub struct MomentQuery {
    /// Decisions in which a fence of this brand matched.
    pub brand: String,
    /// Made at or after.
    pub from: DateTime<Utc>,
    /// Made before.
    pub to: DateTime<Utc>,
    /// After this position.
    pub after: Option<MomentKey>,
    /// Page size.
    pub limit: u32,
}

/// A decision's position in (at, app, check-in id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MomentKey {
    /// Unix milliseconds.
    pub at_ms: i64,
    /// The app.
    pub app: String,
    /// The app's check-in id.
    pub checkin_id: String,
}

/// A recorded decision as a backtest replays it. An erased person's decisions are gone from
/// the store, so they never appear here.
#[derive(Debug, Clone)]
pub struct RecordedMoment {
    /// The app.
    pub app: String,
    /// The app's check-in id.
    pub checkin_id: String,
    /// The app's user id.
    pub user_id: String,
    /// Pseudonymous person.
    pub person: String,
    /// When it was decided.
    pub at: DateTime<Utc>,
    /// Why none, when none.
    pub reason: Option<String>,
    /// The trace as stored (compressed JSON).
    pub trace: Vec<u8>,
    /// The offer that went out, if one did.
    pub delivered: Option<Uuid>,
}

impl RecordedMoment {
    /// Its position.
    pub fn key(&self) -> MomentKey {
        MomentKey {
            at_ms: self.at.timestamp_millis(),
            app: self.app.clone(),
            checkin_id: self.checkin_id.clone(),
        }
    }

    /// The trace, typed; `None` when it cannot be read.
    pub fn read_trace(&self) -> Option<Trace<'static>> {
        let text = unpack_text(&self.trace)?;
        serde_json::from_slice(&text)
            .inspect_err(|e| tracing::warn!(error = %e, "a decision trace could not be read"))
            .ok()
    }
}

/// A page of deliveries for a backtest's virtual limiter, oldest first ((created_at, id)
/// ascending): those before `from` that can still hold a cap (every brand's since `since`,
/// and all of `brand`'s), then every brand's during the period except those of decisions
/// in which a fence of `brand` matched (the backtest decides those again).
#[derive(Debug, Clone)]
pub struct LiveDeliveryQuery {
    /// The brand being backtested.
    pub brand: String,
    /// Every brand's deliveries from here on.
    pub since: DateTime<Utc>,
    /// The period's start.
    pub from: DateTime<Utc>,
    /// The period's end (exclusive).
    pub to: DateTime<Utc>,
    /// After this (created_at ms, id).
    pub after: Option<(i64, Uuid)>,
    /// Page size.
    pub limit: u32,
}

/// A delivery as the virtual limiter replays it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveDelivery {
    /// Delivery id.
    pub id: Uuid,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The app.
    pub app: String,
    /// The check-in it answered.
    pub checkin_id: String,
    /// The app's user id.
    pub user_id: String,
    /// Pseudonymous person.
    pub person: String,
    /// The offer's brand.
    pub brand: String,
    /// The offer.
    pub offer_id: Uuid,
    /// The fence.
    pub fence_id: Uuid,
}
