//! What a decision leaves behind: the record (with its trace) and, for an offer, the delivery.
//! Written through a group-commit writer so a delivery is durable before its response is sent.

use crate::store::{Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};
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

/// Why a decision was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The database cannot record right now (disk full, read-only, I/O error, locked, the
    /// writer stopped or stuck): 503, the client retries.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (a bug): 500.
    #[error("{0}")]
    Failed(String),
}

impl From<WriteError> for crate::error::ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Unavailable(why) => Self::unavailable_store(&anyhow::anyhow!(why)),
            WriteError::Failed(why) => Self::Internal(anyhow::anyhow!(why)),
        }
    }
}

type Job = (DecisionRecord, oneshot::Sender<Result<Saved, WriteError>>);

/// What the writer does with a batch: the store's `save_decisions` (tests pass their own).
type Save = Box<
    dyn Fn(Vec<DecisionRecord>) -> futures_util::future::BoxFuture<'static, StoreResult<Vec<Saved>>>
        + Send
        + Sync,
>;

/// Default for `decision_queue_capacity`: decisions waiting for the writer before check-ins
/// are refused with 503 (about a second of peak load at today's batch times).
pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;

/// Batches decision writes into few transactions; each caller waits for its own commit.
#[derive(Clone)]
pub struct DecisionWriter {
    tx: mpsc::Sender<Job>,
    refused: IntCounter,
}

impl DecisionWriter {
    /// Starts the writer task with room for `capacity` queued decisions. It ends (after
    /// flushing) when every writer handle is dropped.
    pub fn start(
        store: Arc<dyn Store>,
        metrics: &crate::metrics::Metrics,
        capacity: usize,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let save: Save = Box::new(move |records| {
            let store = store.clone();
            Box::pin(async move { store.save_decisions(records).await })
        });
        Self::start_with(save, metrics, capacity)
    }

    fn start_with(
        save: Save,
        metrics: &crate::metrics::Metrics,
        capacity: usize,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Job>(capacity.max(1));
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
        let failures = IntCounterVec::new(
            Opts::new(
                "decision_write_failures_total",
                "Decisions not recorded, by class (unavailable: the database cannot record; failed: anything else)",
            ),
            &["class"],
        )
        .expect("valid metric");
        let refused = IntCounter::new(
            "decision_queue_full_total",
            "Check-ins refused with 503 before any claim because the decision queue was full",
        )
        .expect("valid metric");
        metrics.register(Box::new(seconds.clone()));
        metrics.register(Box::new(sizes.clone()));
        metrics.register(Box::new(failures.clone()));
        metrics.register(Box::new(refused.clone()));
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
                let saved = save(records).await;
                timer.observe_duration();
                match saved {
                    Ok(replays) => {
                        for (done, replay) in waiting.into_iter().zip(replays) {
                            let _ = done.send(Ok(replay));
                        }
                    }
                    Err(e) => {
                        let (class, e) = match e {
                            StoreError::Unavailable(e) => {
                                ("unavailable", WriteError::Unavailable(format!("{e:#}")))
                            }
                            e => ("failed", WriteError::Failed(format!("{e:#}"))),
                        };
                        tracing::error!(error = %e, n, class, "saving decisions failed");
                        failures.with_label_values(&[class]).inc_by(n as u64);
                        for done in waiting {
                            let _ = done.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        (Self { tx, refused }, task)
    }

    /// Refuses (503) when the queue is full, so an overloaded writer is answered before any
    /// claim is made rather than after. A decision that passed may still wait for room.
    pub fn admit(&self) -> Result<(), crate::error::ApiError> {
        if self.tx.capacity() == 0 {
            self.refused.inc();
            return Err(crate::error::ApiError::Unavailable(
                "overloaded: too many decisions are waiting to be recorded; retry later".into(),
            ));
        }
        Ok(())
    }

    /// Queues a record and waits until it is committed (or found decided before).
    pub async fn write(&self, record: DecisionRecord) -> Result<Saved, WriteError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((record, done))
            .await
            .map_err(|_| WriteError::Unavailable("decision writer stopped".into()))?;
        match tokio::time::timeout(Duration::from_secs(10), wait).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(WriteError::Failed(
                "decision writer dropped the record".into(),
            )),
            Err(_) => Err(WriteError::Unavailable("decision write timed out".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(id: &str) -> DecisionRecord {
        DecisionRecord {
            app: "app".into(),
            checkin_id: id.into(),
            fingerprint: id.into(),
            person: "p".into(),
            user_id: "u".into(),
            at: Utc::now(),
            decision: "none",
            reason: Some("capped".into()),
            offer_id: None,
            delivery: None,
            response: json!({}),
            trace: Vec::new(),
            brands: Vec::new(),
            latency_us: 0,
        }
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_up_front_and_room_returns_when_the_writer_catches_up() {
        // A store that holds every batch until the test lets it go.
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let saving = Arc::new(tokio::sync::Notify::new());
        let (r, s) = (release.clone(), saving.clone());
        let save: Save = Box::new(move |records| {
            let (r, s) = (r.clone(), s.clone());
            Box::pin(async move {
                s.notify_one();
                r.acquire().await.expect("open").forget();
                Ok(vec![None; records.len()])
            })
        });
        let metrics = crate::metrics::Metrics::new();
        let (writer, _task) = DecisionWriter::start_with(save, &metrics, 1);
        assert!(writer.admit().is_ok());
        let first = tokio::spawn({
            let w = writer.clone();
            async move { w.write(record("a")).await }
        });
        saving.notified().await;
        // The writer holds the first batch; the second decision fills the queue.
        let second = tokio::spawn({
            let w = writer.clone();
            async move { w.write(record("b")).await }
        });
        while writer.tx.capacity() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = writer.admit().expect_err("a full queue refuses");
        assert!(matches!(refused, crate::error::ApiError::Unavailable(_)));
        assert!(
            metrics
                .render()
                .contains("geoffer_decision_queue_full_total 1")
        );
        release.add_permits(2);
        assert!(first.await.expect("joins").is_ok());
        assert!(second.await.expect("joins").is_ok());
        assert!(writer.admit().is_ok());
    }

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
