//! What a backtest reads back, as the store gives it: a brand's recorded decisions with their
//! traces, and every brand's deliveries, each in time order and paged by keyset, so a replay
//! streams any period in bounded memory (docs/backtest.md).

use super::trace::{AudienceFacts, HabitFacts};
use crate::domain::{Activity, AppState};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::cell::RefCell;
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

    /// The part of the trace a replay reads; `None` when it cannot be read.
    pub fn read_moment(&self) -> Option<MomentTrace> {
        read_moment(&self.trace)
    }
}

thread_local! {
    /// One decompression context and one text buffer per thread, reused by every trace a
    /// replay reads: making a context allocates hundreds of kilobytes.
    static UNPACKER: RefCell<Option<(zstd::bulk::Decompressor<'static>, Vec<u8>)>> =
        const { RefCell::new(None) };
}

/// The moment in a stored trace (a zstd frame from `record::pack_trace`, or plain JSON text).
pub fn read_moment(stored: &[u8]) -> Option<MomentTrace> {
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    let parse = |text: &[u8]| {
        serde_json::from_slice::<MomentTrace>(text)
            .inspect_err(|e| tracing::warn!(error = %e, "a decision trace could not be read"))
            .ok()
    };
    if !stored.starts_with(&ZSTD_MAGIC) {
        return parse(stored);
    }
    UNPACKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some((zstd::bulk::Decompressor::new().ok()?, Vec::new()));
        }
        let (unpacker, text) = slot.as_mut()?;
        text.clear();
        text.reserve(zstd::bulk::Decompressor::upper_bound(stored)?);
        unpacker
            .decompress_to_buffer(stored, text)
            .inspect_err(
                |e| tracing::error!(error = %e, "a stored decision trace could not be read"),
            )
            .ok()?;
        parse(text)
    })
}

/// What a replay reads of a trace (`decisions::trace::Trace`, same field names): the moment
/// only. The candidates with their rules and sentences, the limiter's answers and the answer
/// — most of a trace's bytes — are skipped without being built.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MomentTrace {
    /// The report and the moment.
    #[serde(default)]
    pub context: Option<MomentContext>,
    /// Every matched fence.
    #[serde(default)]
    pub fences: Vec<MomentFence>,
    /// Present when the plausibility check failed.
    #[serde(default)]
    pub implausible: Option<IgnoredAny>,
    /// The weather, when the decision fetched it.
    #[serde(default)]
    pub weather: Option<MomentWeather>,
    /// The profile facts the rules read, when an offer read the profile.
    #[serde(default)]
    pub audience: Option<AudienceFacts>,
}

/// `decisions::trace::TraceContext`, as a replay reads it.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct MomentContext {
    pub decided_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// Absent in the record of a check-in outside every fence (it closed a visit).
    #[serde(default)]
    pub location_rounded: Option<[f64; 2]>,
    pub accuracy_m: f64,
    pub speed_mps: Option<f64>,
    pub activity: Option<Activity>,
    pub app_state: Option<AppState>,
    pub device_id: Option<String>,
    pub personalization: bool,
    #[serde(default)]
    pub is_mocked: Option<bool>,
}

/// `decisions::trace::TraceFence`, as a replay reads it (the catalog gives the rest).
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct MomentFence {
    pub id: Uuid,
    pub edge_distance_m: f64,
    pub center_distance_m: Option<f64>,
    #[serde(default)]
    pub quiet_hours: bool,
    #[serde(default)]
    pub habit_fence: Option<HabitFacts>,
    #[serde(default)]
    pub habit_brand: Option<HabitFacts>,
}

/// `decisions::trace::TraceWeather` in one flat shape: known weather, or why not.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct MomentWeather {
    pub known: bool,
    #[serde(default)]
    pub temp_c: f64,
    #[serde(default)]
    pub feels_like_c: f64,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub precipitation_mm: f64,
    #[serde(default)]
    pub is_day: bool,
    #[serde(default)]
    pub reason: String,
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
