//! What a decision leaves behind: the record (with its trace) and, for an offer, the
//! delivery; and what the store gives back about a recorded decision.

use crate::limits::BudgetWindow;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// One decision about one check-in.
#[derive(Debug, Clone)]
pub struct DecisionRecord {
    /// The app whose user checked in.
    pub app: String,
    /// The app's id for the check-in (idempotency key).
    pub checkin_id: String,
    /// Hash of the app, the user and every field of the report
    /// (`CheckinInput::fingerprint`): a retry has the same one.
    pub fingerprint: String,
    /// Pseudonymous person.
    pub person: String,
    /// The app's user id (kept for support look-ups; erased on request).
    pub user_id: String,
    /// When the decision was made.
    pub at: DateTime<Utc>,
    /// `offer` or `none`.
    pub decision: &'static str,
    /// Why none.
    pub reason: Option<String>,
    /// The delivered offer.
    pub offer_id: Option<Uuid>,
    /// The delivery, when an offer went out.
    pub delivery: Option<DeliveryRecord>,
    /// The exact response body, replayed for retries.
    pub response: Value,
    /// The full trace: its JSON text compressed by [`pack_trace`].
    pub trace: Vec<u8>,
    /// The brands this decision involved: those whose fences the check-in matched (their
    /// offers were the candidates) and the delivered offer's. Brand keys read it through these.
    pub brands: Vec<String>,
    /// Time spent deciding.
    pub latency_us: i64,
    /// The visit events this check-in caused that brands' webhooks may receive (people with
    /// personalization consent only): written to the outbox with this record.
    pub visit_hooks: Vec<VisitHook>,
}

/// A `visit.entered` or `visit.exited` message for a brand's subscribed endpoints.
#[derive(Debug, Clone)]
pub struct VisitHook {
    /// `visit.entered` or `visit.exited`.
    pub event: crate::webhooks::EventType,
    /// The fence's brand: only its endpoints receive it.
    pub brand: String,
    /// The message's `webhook-id`, stable for the event.
    pub msg_id: String,
    /// The payload (pseudonymous ids and the fence id, never coordinates).
    pub payload: String,
}

/// An offer sent to a device.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    /// Delivery id (deterministic per check-in and offer, so concurrent retries agree).
    pub id: Uuid,
    /// Device that reported the check-in.
    pub device_id: Option<String>,
    /// Brand.
    pub brand: String,
    /// Offer.
    pub offer_id: Uuid,
    /// Fence that triggered it.
    pub fence_id: Uuid,
    /// Copy exactly as shown.
    pub title: String,
    /// Copy exactly as shown.
    pub body: String,
    /// Redemption code, if the offer has one.
    pub redemption_code: Option<String>,
    /// When the code expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// The offer budget this delivery used up (its claim took the last unit): reported to
    /// the brand as `offer.budget_exhausted` in the delivery's transaction.
    pub budget_exhausted: Option<BudgetExhausted>,
}

/// An offer budget's window that a delivery used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted {
    /// Total or daily.
    pub window: BudgetWindow,
    /// The budget: deliveries allowed in that window.
    pub limit: u64,
    /// The UTC day of the grant (a daily budget's window).
    pub day: NaiveDate,
}

/// zstd level for traces: the fastest level already shrinks a trace about tenfold.
const TRACE_LEVEL: i32 = 1;

thread_local! {
    /// One compression context per thread: making one allocates hundreds of kilobytes.
    static TRACE_PACKER: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Compresses a trace's JSON text for storage (a zstd frame).
///
/// A trace lists every matched fence and every candidate with every rule's outcome and
/// sentence: 5–30 KB of repetitive JSON in a dense place, written once and rarely read.
/// The decision writer is serial, so its time grows with the bytes it writes; compressed,
/// a trace is about a tenth of that, and the work is done here, on the deciding thread.
pub fn pack_trace(json: &str) -> Vec<u8> {
    TRACE_PACKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(TRACE_LEVEL).ok();
        }
        match slot.as_mut().map(|c| c.compress(json.as_bytes())) {
            Some(Ok(packed)) => packed,
            // Compression cannot fail for a buffer this size; if it ever does, the plain
            // text is kept instead ([`unpack_trace`] reads both).
            _ => json.as_bytes().to_vec(),
        }
    })
}

/// The trace as stored, read back: a zstd frame from [`pack_trace`], or plain JSON text
/// (decisions recorded before traces were compressed, and purged traces, which are `null`).
/// Unreadable bytes give `null`, with an error in the log.
pub fn unpack_trace(stored: &[u8]) -> Value {
    let parsed = unpack_text(stored)
        .ok_or_else(|| anyhow::anyhow!("not a zstd frame"))
        .and_then(|text| Ok(serde_json::from_slice(&text)?));
    parsed.unwrap_or_else(|e| {
        tracing::error!(error = %e, "a stored decision trace could not be read");
        Value::Null
    })
}

/// The trace's JSON text as stored: a zstd frame decompressed, or plain text as it is;
/// `None` (with an error in the log) for a frame that does not decompress.
pub fn unpack_text(stored: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    if !stored.starts_with(&ZSTD_MAGIC) {
        return Some(std::borrow::Cow::Borrowed(stored));
    }
    zstd::stream::decode_all(stored)
        .inspect_err(|e| tracing::error!(error = %e, "a stored decision trace could not be read"))
        .ok()
        .map(std::borrow::Cow::Owned)
}

/// The decision first recorded for an (app, check-in id): enough to tell a retry from a
/// reuse of the id and to replay the first answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    /// The user who sent it.
    pub user_id: String,
    /// The report's fingerprint (`None` for decisions recorded before fingerprints).
    pub fingerprint: Option<String>,
    /// The exact answer given.
    pub response: serde_json::Value,
}

/// A decision as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoredDecision {
    /// The app that reported the check-in.
    pub app: String,
    /// The app's check-in id.
    pub checkin_id: String,
    /// The app's user id.
    pub user_id: String,
    /// When it was decided.
    pub at: DateTime<Utc>,
    /// `offer` or `none`.
    pub decision: String,
    /// Why none.
    pub reason: Option<String>,
    /// The answer exactly as sent.
    #[schema(value_type = Object)]
    pub response: serde_json::Value,
    /// The full trace.
    #[schema(value_type = Object)]
    pub trace: serde_json::Value,
    /// Time spent deciding, microseconds.
    pub latency_us: i64,
    /// The delivered offer.
    pub offer_id: Option<String>,
    /// The delivery, when an offer went out.
    pub delivery_id: Option<String>,
    /// The brands whose fences the check-in matched (whose offers it weighed).
    pub brands: Vec<String>,
    /// When retention purged the trace (`trace` is then null).
    pub trace_purged_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_packed_trace_reads_back_as_the_same_json_and_is_much_smaller() {
        let rule = json!({"rule": "valid_from", "passed": true,
            "expected": "2026-11-29T13:29:13.251015027Z", "actual": "2026-11-30T13:29:43.638326309Z",
            "text": "validity: valid from 2026-11-29T13:29:13.251015027+00:00"});
        let candidates: Vec<Value> = (0..12)
            .map(|i| json!({"offer_id": format!("offer-{i}"), "eligible": i % 3 == 0, "rules": vec![rule.clone(); 6]}))
            .collect();
        let trace = json!({"context": {"activity": "walking"}, "candidates": candidates});
        let text = trace.to_string();
        let packed = pack_trace(&text);
        assert!(
            packed.len() * 5 < text.len(),
            "{} bytes packed from {}",
            packed.len(),
            text.len()
        );
        assert_eq!(unpack_trace(&packed), trace);
    }

    #[test]
    fn plain_json_traces_and_purged_ones_still_read() {
        assert_eq!(
            unpack_trace(br#"{"fences":[{"brand":"b"}]}"#),
            json!({"fences": [{"brand": "b"}]})
        );
        assert_eq!(unpack_trace(b"null"), Value::Null);
        assert_eq!(
            unpack_trace(&[0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]),
            Value::Null
        );
    }
}
