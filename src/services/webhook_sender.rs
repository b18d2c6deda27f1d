//! The webhook sender: claims due outbox messages (a bounded batch, leased so replicas do
//! not double-send), POSTs each signed the Standard Webhooks way, records the attempt, and
//! schedules the retry (exponential backoff, full jitter, for up to 24 h) or gives up.
//! Endpoints that keep failing are disabled with a reason the brand sees; the store tells
//! the brand in the same transaction (an audit entry, `endpoint.disabled` to its other
//! endpoints).
//!
//! SSRF: the URL is checked again before every send, the client resolves names through
//! [`super::webhook_dns`]'s public-only resolver (every address a name resolves to is
//! checked at the moment of connecting, against DNS rebinding), follows no redirects and
//! uses no proxy.

use super::webhook_dns::{Lookup, PublicOnly, SystemLookup};
use crate::clock::Clock;
use crate::store::shared::mint_id;
use crate::store::webhooks::FailurePolicy;
use crate::store::{Store, StoreResult};
use crate::webhooks::address::check_url;
use crate::webhooks::retry::next_attempt;
use crate::webhooks::signing::signature_header;
use crate::webhooks::{AttemptOutcome, AttemptRecord, Endpoint, Message};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the sender behaves (from the `webhook_*` settings).
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Longest one request may take.
    pub timeout: Duration,
    /// Messages claimed per round.
    pub batch: i64,
    /// When an endpoint that keeps failing is disabled.
    pub policy: FailurePolicy,
    /// `webhook_allow_loopback_http`.
    pub allow_loopback_http: bool,
}

/// Sends due webhook messages.
pub struct WebhookSender {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    config: SenderConfig,
    /// `webhook_attempts_total{outcome}`: delivered, failed (retried later), gave-up.
    attempts: Option<prometheus::IntCounterVec>,
}

impl WebhookSender {
    /// The same sender, counting its attempts in `attempts` (labelled by `outcome`).
    pub fn counting(mut self, attempts: prometheus::IntCounterVec) -> Self {
        self.attempts = Some(attempts);
        self
    }

    /// A sender over `store`, timing attempts by `clock`, resolving names with the system.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: SenderConfig,
    ) -> anyhow::Result<Self> {
        Self::resolving(store, clock, config, Arc::new(SystemLookup))
    }

    /// The same with names resolved by `lookup` (each answer still filtered to public
    /// addresses when connecting).
    pub fn resolving(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: SenderConfig,
        lookup: Arc<dyn Lookup>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .dns_resolver(PublicOnly(lookup))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent("geoffer-webhooks/1")
            .build()?;
        Ok(Self {
            store,
            clock,
            client,
            config,
            attempts: None,
        })
    }

    /// One round: claims the messages due now and sends them (concurrently); returns how
    /// many were attempted. The background task calls exactly this; tests call it after
    /// moving the clock.
    pub async fn send_due(&self) -> StoreResult<usize> {
        let now = self.clock.now();
        // The lease outlasts any attempt, so no other replica claims a message meanwhile; a
        // sender that dies mid-attempt leaves it due again when the lease ends.
        let lease = now
            + chrono::Duration::from_std(self.config.timeout * 2).unwrap_or_default()
            + chrono::Duration::seconds(60);
        let claimed = self.store.claim_due(now, lease, self.config.batch).await?;
        let n = claimed.len();
        let sends = claimed.into_iter().map(|(m, e)| self.send_one(m, e));
        for r in futures_util::future::join_all(sends).await {
            r?;
        }
        Ok(n)
    }

    async fn send_one(&self, m: Message, e: Endpoint) -> StoreResult<()> {
        let now = self.clock.now();
        let started = Instant::now();
        let (status_code, error) = match self.post(&m, &e, now).await {
            Ok(code) if (200..300).contains(&code) => (Some(code), None),
            Ok(code) => (Some(code), Some(format!("the receiver answered {code}"))),
            Err(why) => (None, Some(why)),
        };
        let outcome = if error.is_none() {
            AttemptOutcome::Delivered
        } else {
            match next_attempt(m.created_at, m.attempts + 1, now, rand::random::<f64>()) {
                Some(at) => AttemptOutcome::Retry(at),
                None => AttemptOutcome::GaveUp,
            }
        };
        if let Some(counter) = &self.attempts {
            counter.with_label_values(&[outcome.as_str()]).inc();
        }
        if let Some(why) = &error {
            tracing::info!(endpoint = %e.id, msg = %m.msg_id, error = %why, "webhook attempt failed");
        }
        let attempt = AttemptRecord {
            id: mint_id(now),
            message: m.id,
            endpoint: e.id,
            at: now,
            status_code: status_code.map(i32::from),
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            outcome,
        };
        if let Some(off) = self
            .store
            .record_attempt(&attempt, &self.config.policy)
            .await?
        {
            // The brand is told by the same transaction (audit entry, `endpoint.disabled`
            // to its other endpoints); this line is for the operator.
            tracing::warn!(endpoint = %off.id, brand = %off.brand,
                failures = off.consecutive_failures, "webhook endpoint disabled for failing");
        }
        Ok(())
    }

    /// POSTs the message; the status code, or why there was none.
    async fn post(
        &self,
        m: &Message,
        e: &Endpoint,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u16, String> {
        // The rules may have tightened since registration (or the setting changed).
        check_url(&e.url, self.config.allow_loopback_http)
            .map_err(|why| format!("the URL is refused: {why}"))?;
        let ts = now.timestamp();
        let signature = signature_header(&e.signing_secrets(now), &m.msg_id, ts, &m.payload);
        let res = self
            .client
            .post(&e.url)
            .header("content-type", "application/json")
            .header("webhook-id", &m.msg_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(m.payload.clone())
            .send()
            .await
            .map_err(|err| {
                let mut why = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(s) = source {
                    why.push_str(": ");
                    why.push_str(&s.to_string());
                    source = s.source();
                }
                why
            })?;
        Ok(res.status().as_u16())
    }
}

/// Sends every `every` until `stop` changes or its sender is dropped.
pub fn spawn(
    sender: Arc<WebhookSender>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    // A full batch: more may be due; go on at once.
                    loop {
                        match sender.send_due().await {
                            Ok(n) if n as i64 >= sender.config.batch => continue,
                            Ok(_) => break,
                            Err(e) => {
                                tracing::warn!(error = %e, "the webhook sender could not read the outbox");
                                break;
                            }
                        }
                    }
                }
                _ = stop.changed() => break,
            }
        }
    })
}
