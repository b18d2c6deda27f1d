//! The decision writer: records (with their traces and deliveries) queued for one group commit.
//! A delivery is durable before its response is sent; one commit serves many decisions.

pub use crate::decisions::record::{DecisionRecord, DeliveryRecord, pack_trace, unpack_trace};
use crate::store::{Store, StoreError, StoreResult};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What saving a decision found: it is new (`None`), or the check-in id was decided before
/// and this is what was recorded then (a retry to replay, or a reuse of the id to refuse).
pub type Saved = Option<crate::decisions::Prior>;

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

/// The records an in-memory writer was given ([`DecisionWriter::in_memory`]).
#[derive(Clone, Default)]
pub struct Kept(Arc<std::sync::Mutex<Vec<DecisionRecord>>>);

impl Kept {
    /// Takes the records kept so far.
    pub fn take(&self) -> Vec<DecisionRecord> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
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

    /// A writer that keeps what it is given in memory and writes nothing to the store: for
    /// test decisions ("Try it"), whose record is read back with [`Kept::take`] and never
    /// saved. Its counters go to `metrics` (give it a registry of its own).
    pub fn in_memory(metrics: &crate::metrics::Metrics) -> (Self, Kept) {
        let kept = Kept::default();
        let into = kept.clone();
        let save: Save = Box::new(move |records| {
            let n = records.len();
            into.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend(records);
            Box::pin(async move { Ok(vec![None; n]) })
        });
        // The task ends when the writer (and the engine holding it) is dropped.
        let (writer, _task) = Self::start_with(save, metrics, 1);
        (writer, kept)
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
            at: chrono::Utc::now(),
            decision: "none",
            reason: Some("capped".into()),
            offer_id: None,
            delivery: None,
            response: json!({}),
            trace: Vec::new(),
            brands: Vec::new(),
            latency_us: 0,
            visit_hooks: Vec::new(),
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
}
