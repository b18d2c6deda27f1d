//! Brands' webhook endpoints, their outbox and attempts. The outbox rows themselves are
//! written by the decision and event writes (in their transactions); this trait manages
//! endpoints and serves the sender.

use super::StoreResult;
use super::shared::Change;
use crate::webhooks::{AttemptRecord, AttemptView, Endpoint, Message};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// When the sender disables an endpoint that keeps failing.
#[derive(Debug, Clone)]
pub struct FailurePolicy {
    /// Consecutive failed attempts after which the endpoint is disabled.
    pub max_consecutive: i64,
    /// Failing without a success for this long disables it too.
    pub max_failing_for: Duration,
}

/// Webhook endpoints, the outbox and attempts.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Records a new endpoint, with its audit entry.
    async fn create_endpoint(&self, e: &Endpoint, change: &Change) -> StoreResult<()>;
    /// Replaces an endpoint's URL, event types, status and failure streak (the brand
    /// re-enabling or disabling it), with its audit entry; whether it existed. With
    /// `resume_since` (it was just enabled again), its waiting messages whose event is at or
    /// after that time are due at once (`e.updated_at`), in the same transaction.
    async fn update_endpoint(
        &self,
        e: &Endpoint,
        change: &Change,
        resume_since: Option<DateTime<Utc>>,
    ) -> StoreResult<bool>;
    /// The brand's endpoints, oldest first.
    async fn endpoints(&self, brand: &str) -> StoreResult<Vec<Endpoint>>;
    /// One of the brand's endpoints.
    async fn endpoint(&self, brand: &str, id: Uuid) -> StoreResult<Option<Endpoint>>;
    /// Deletes one of the brand's endpoints with its outbox rows and attempts, with its audit
    /// entry; whether it existed.
    async fn delete_endpoint(&self, brand: &str, id: Uuid, change: &Change) -> StoreResult<bool>;
    /// Replaces the secret; the old one keeps signing until `previous_until`. The endpoint
    /// after the change, `None` when the brand has no such endpoint. With its audit entry
    /// (which holds no secret).
    async fn rotate_secret(
        &self,
        brand: &str,
        id: Uuid,
        secret: &str,
        previous_until: DateTime<Utc>,
        change: &Change,
    ) -> StoreResult<Option<Endpoint>>;
    /// Claims up to `limit` messages due at `now` for active endpoints, leasing them until
    /// `lease_until` (so another replica does not send them meanwhile), with their
    /// endpoints.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(Message, Endpoint)>>;
    /// Records an attempt, moves its message on (delivered, retry, given up) and keeps the
    /// endpoint's failure streak, disabling it per `policy`, in one transaction. When this
    /// attempt disabled the endpoint, the same transaction tells the brand (an audit entry
    /// by `system`, and `endpoint.disabled` queued for its other subscribed active
    /// endpoints), and the endpoint as disabled is returned.
    async fn record_attempt(
        &self,
        a: &AttemptRecord,
        policy: &FailurePolicy,
    ) -> StoreResult<Option<Endpoint>>;
    /// The endpoint's attempts, newest first, older than `before` when given.
    async fn attempts(
        &self,
        brand: &str,
        endpoint: Uuid,
        before: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<AttemptView>>;
    /// Queues the message of one of the endpoint's attempts again, due at `now`; whether
    /// there was such an attempt.
    async fn replay(
        &self,
        brand: &str,
        endpoint: Uuid,
        attempt: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Deletes the messages delivered or given up whose event is older than `before`, with
    /// their attempts; returns how many. Waiting messages stay, however old.
    async fn purge_webhook_messages(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// The outbox rows about `person` (for erasure checks and tests).
    async fn outbox_rows_of(&self, person: &str) -> StoreResult<i64>;
}

/// Reason recorded when an endpoint is disabled for failing.
pub fn disabled_reason(policy: &FailurePolicy) -> String {
    format!(
        "disabled after {} consecutive failed attempts or {} hours of failures; fix the receiver, then enable it again",
        policy.max_consecutive,
        policy.max_failing_for.num_hours()
    )
}

/// Columns of `webhook_endpoints`, read the same way on both backends.
pub const ENDPOINT_COLUMNS: &str = "id, brand_id, url, event_types, secret, previous_secret,
    previous_secret_until, status, disabled_reason, consecutive_failures, failing_since,
    created_at, updated_at";

/// A `webhook_endpoints` row.
#[derive(Debug, sqlx::FromRow)]
pub struct EndpointRow {
    id: String,
    brand_id: String,
    url: String,
    event_types: String,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<i64>,
    status: String,
    disabled_reason: Option<String>,
    consecutive_failures: i64,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl TryFrom<EndpointRow> for Endpoint {
    type Error = anyhow::Error;

    fn try_from(r: EndpointRow) -> anyhow::Result<Endpoint> {
        Ok(Endpoint {
            id: Uuid::parse_str(&r.id)?,
            brand: r.brand_id,
            url: r.url,
            event_types: Endpoint::parse_event_types(&r.event_types),
            secret: r.secret,
            previous_secret: r.previous_secret,
            previous_secret_until: r.previous_secret_until.map(at),
            status: crate::webhooks::EndpointStatus::parse(&r.status),
            disabled_reason: r.disabled_reason,
            consecutive_failures: r.consecutive_failures,
            failing_since: r.failing_since.map(at),
            created_at: at(r.created_at),
            updated_at: at(r.updated_at),
        })
    }
}

/// A claimed `webhook_outbox` row.
#[derive(Debug, sqlx::FromRow)]
pub struct MessageRow {
    id: i64,
    endpoint_id: String,
    msg_id: String,
    event_type: String,
    payload: String,
    created_at: i64,
    attempts: i64,
}

impl TryFrom<MessageRow> for Message {
    type Error = anyhow::Error;

    fn try_from(r: MessageRow) -> anyhow::Result<Message> {
        Ok(Message {
            id: r.id,
            endpoint: Uuid::parse_str(&r.endpoint_id)?,
            msg_id: r.msg_id,
            event_type: r.event_type,
            payload: r.payload,
            created_at: at(r.created_at),
            attempts: r.attempts,
        })
    }
}

/// A `webhook_attempts` row with its message's id and type.
#[derive(Debug, sqlx::FromRow)]
pub struct AttemptRow {
    id: String,
    msg_id: String,
    event_type: String,
    at: i64,
    status_code: Option<i32>,
    error: Option<String>,
    duration_ms: i64,
    outcome: String,
}

impl TryFrom<AttemptRow> for AttemptView {
    type Error = anyhow::Error;

    fn try_from(r: AttemptRow) -> anyhow::Result<AttemptView> {
        Ok(AttemptView {
            id: Uuid::parse_str(&r.id)?,
            message_id: r.msg_id,
            event_type: r.event_type,
            at: at(r.at),
            status_code: r.status_code,
            error: r.error,
            duration_ms: r.duration_ms,
            outcome: r.outcome,
        })
    }
}
