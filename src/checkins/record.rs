//! What a decision leaves behind: the record (with its trace) and, for an offer, the delivery.
//! Written through a group-commit writer so a delivery is durable before its response is sent.

use crate::store::Store;
use chrono::{DateTime, Utc};
use prometheus::{Histogram, HistogramOpts};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// One decision about one check-in.
#[derive(Debug, Clone)]
pub struct DecisionRecord {
    /// The app whose user checked in.
    pub app: String,
    /// The app's id for the check-in (idempotency key).
    pub checkin_id: String,
    /// Hash of the app, the user and every field of the report
    /// ([`super::input::CheckinInput::fingerprint`]): a retry has the same one.
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
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    let parsed = if stored.starts_with(&ZSTD_MAGIC) {
        zstd::stream::decode_all(stored)
            .map_err(anyhow::Error::from)
            .and_then(|text| Ok(serde_json::from_slice(&text)?))
    } else {
        serde_json::from_slice(stored).map_err(anyhow::Error::from)
    };
    parsed.unwrap_or_else(|e| {
        tracing::error!(error = %e, "a stored decision trace could not be read");
        Value::Null
    })
}

/// What saving a decision found: it is new (`None`), or the check-in id was decided before
/// and this is what was recorded then (a retry to replay, or a reuse of the id to refuse).
pub type Saved = Option<crate::store::Prior>;

type Job = (DecisionRecord, oneshot::Sender<Result<Saved, String>>);

/// Batches decision writes into few transactions; each caller waits for its own commit.
#[derive(Clone)]
pub struct DecisionWriter {
    tx: mpsc::Sender<Job>,
}

impl DecisionWriter {
    /// Starts the writer task. It ends (after flushing) when every writer handle is dropped.
    pub fn start(
        store: Arc<dyn Store>,
        metrics: &crate::metrics::Metrics,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        let seconds = Histogram::with_opts(
            HistogramOpts::new(
                "decision_batch_seconds",
                "Time to save one batch of decisions (every check-in in it waits for it)",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
        )
        .expect("valid metric");
        let sizes = Histogram::with_opts(
            HistogramOpts::new("decision_batch_size", "Decisions per saved batch")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
        )
        .expect("valid metric");
        metrics.register(Box::new(seconds.clone()));
        metrics.register(Box::new(sizes.clone()));
        let task = tokio::spawn(async move {
            let mut batch: Vec<Job> = Vec::with_capacity(256);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                // Whatever else is already queued joins this commit: one fsync for many.
                while batch.len() < 256 {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                // Moved, not cloned: traces are tens of kilobytes of JSON and the writer is serial.
                let (records, waiting): (Vec<DecisionRecord>, Vec<_>) = batch.drain(..).unzip();
                let n = records.len();
                sizes.observe(n as f64);
                let timer = seconds.start_timer();
                let saved = store.save_decisions(records).await;
                timer.observe_duration();
                match saved {
                    Ok(replays) => {
                        for (done, replay) in waiting.into_iter().zip(replays) {
                            let _ = done.send(Ok(replay));
                        }
                    }
                    Err(e) => {
                        let e = format!("{e:#}");
                        tracing::error!(error = %e, n, "saving decisions failed");
                        for done in waiting {
                            let _ = done.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        (Self { tx }, task)
    }

    /// Queues a record and waits until it is committed (or found decided before).
    pub async fn write(&self, record: DecisionRecord) -> Result<Saved, String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((record, done))
            .await
            .map_err(|_| "decision writer stopped".to_string())?;
        match tokio::time::timeout(Duration::from_secs(10), wait).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("decision writer dropped the record".into()),
            Err(_) => Err("decision write timed out".into()),
        }
    }
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
