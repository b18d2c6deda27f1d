//! Brands' webhook endpoints: the events they subscribe to, the records the store keeps
//! (endpoints, outbox messages, attempts), and the payloads of the events geoffer emits.
//! Plain data and rules, no I/O: the SSRF address rules are in [`address`], Standard
//! Webhooks signing in [`signing`], the retry schedule in [`retry`].

pub mod address;
pub mod retry;
pub mod signing;

use crate::decisions::record::{BudgetExhausted, DecisionRecord, DeliveryRecord, VisitHook};
use crate::limits::BudgetWindow;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

/// An event a brand can subscribe an endpoint to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// An offer was delivered to a person (emitted).
    #[serde(rename = "delivery.created")]
    DeliveryCreated,
    /// The person opened a delivered offer (emitted).
    #[serde(rename = "delivery.opened")]
    DeliveryOpened,
    /// The person redeemed a delivered offer (emitted).
    #[serde(rename = "delivery.redeemed")]
    DeliveryRedeemed,
    /// A person entered one of the brand's fences (emitted with personalization consent only).
    #[serde(rename = "visit.entered")]
    VisitEntered,
    /// A person left one of the brand's fences (emitted with personalization consent only).
    #[serde(rename = "visit.exited")]
    VisitExited,
    /// An offer's budget ran out: total once, daily at most once a day (emitted).
    #[serde(rename = "offer.budget_exhausted")]
    OfferBudgetExhausted,
    /// Another of the brand's endpoints was disabled for failing (emitted to the brand's
    /// other active endpoints that subscribe, never to the disabled one).
    #[serde(rename = "endpoint.disabled")]
    EndpointDisabled,
}

impl EventType {
    /// Every event type, in documentation order.
    pub const ALL: [EventType; 7] = [
        Self::DeliveryCreated,
        Self::DeliveryOpened,
        Self::DeliveryRedeemed,
        Self::VisitEntered,
        Self::VisitExited,
        Self::OfferBudgetExhausted,
        Self::EndpointDisabled,
    ];

    /// The wire name (`delivery.created`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeliveryCreated => "delivery.created",
            Self::DeliveryOpened => "delivery.opened",
            Self::DeliveryRedeemed => "delivery.redeemed",
            Self::VisitEntered => "visit.entered",
            Self::VisitExited => "visit.exited",
            Self::OfferBudgetExhausted => "offer.budget_exhausted",
            Self::EndpointDisabled => "endpoint.disabled",
        }
    }

    /// The event type of a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// How the store finds subscribers: `event_types` is kept as a JSON array of names, so
    /// the quoted name occurs in it exactly when the endpoint subscribes.
    pub fn quoted(self) -> String {
        format!("\"{}\"", self.as_str())
    }
}

/// The `disabled_reason` of an endpoint the brand disabled itself (`PUT` with `status:
/// disabled`); any other reason means geoffer disabled it for failing.
pub const DISABLED_BY_BRAND: &str = "disabled by the brand";

/// Whether an endpoint receives messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    /// Messages are sent.
    Active,
    /// Nothing is sent; messages wait in the outbox (see `disabled_reason`).
    Disabled,
}

impl EndpointStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    /// The status of a stored name (anything unknown reads as disabled: send nothing).
    pub fn parse(s: &str) -> Self {
        if s == "active" {
            Self::Active
        } else {
            Self::Disabled
        }
    }
}

/// An endpoint as the store keeps it. The secrets never leave except once, on create and
/// rotate; `Debug` does not print them.
#[derive(Clone, PartialEq)]
pub struct Endpoint {
    /// Its id.
    pub id: Uuid,
    /// The brand it belongs to.
    pub brand: String,
    /// Where messages are POSTed (checked against the SSRF rules).
    pub url: String,
    /// What it subscribes to.
    pub event_types: Vec<EventType>,
    /// The signing secret (`whsec_` + base64).
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    /// End of the rotation grace period.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Active or disabled.
    pub status: EndpointStatus,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i64,
    /// The first failure since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("brand", &self.brand)
            .field("url", &self.url)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// A new active endpoint with a fresh secret.
    pub fn new(
        id: Uuid,
        brand: String,
        url: String,
        event_types: Vec<EventType>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            brand,
            url,
            event_types,
            secret: signing::new_secret(),
            previous_secret: None,
            previous_secret_until: None,
            status: EndpointStatus::Active,
            disabled_reason: None,
            consecutive_failures: 0,
            failing_since: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// `event_types` as stored: a JSON array of names.
    pub fn event_types_json(&self) -> String {
        serde_json::to_string(&self.event_types).unwrap_or_else(|_| "[]".into())
    }

    /// Reads `event_types` as stored (unknown names are dropped).
    pub fn parse_event_types(stored: &str) -> Vec<EventType> {
        serde_json::from_str::<Vec<String>>(stored)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| EventType::parse(s))
            .collect()
    }

    /// The secrets a message sent at `now` is signed with: the current one, and the one
    /// before it during the rotation grace period.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut s = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && until > now
        {
            s.push(old.as_str());
        }
        s
    }

    /// Whether geoffer disabled it because it kept failing (not the brand by choice).
    pub fn disabled_for_failing(&self) -> bool {
        self.status == EndpointStatus::Disabled
            && self.disabled_reason.as_deref() != Some(DISABLED_BY_BRAND)
    }

    /// What the brand sees: everything but the secrets (`secret` only when just made).
    pub fn view(&self, secret: Option<String>) -> EndpointView {
        EndpointView {
            id: self.id,
            url: self.url.clone(),
            event_types: self.event_types.clone(),
            status: self.status,
            disabled_reason: self.disabled_reason.clone(),
            disabled_for_failing: self.disabled_for_failing(),
            consecutive_failures: self.consecutive_failures,
            failing_since: self.failing_since,
            secret,
            previous_secret_expires_at: self.previous_secret_until,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A webhook endpoint, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndpointView {
    /// Its id.
    pub id: Uuid,
    /// Where messages are POSTed.
    pub url: String,
    /// The events it receives.
    pub event_types: Vec<EventType>,
    /// `active`, or `disabled` (with `disabled_reason`).
    pub status: EndpointStatus,
    /// Why it was disabled (it kept failing, or the brand disabled it).
    pub disabled_reason: Option<String>,
    /// Geoffer disabled it because it kept failing: fix the receiver, then enable it again
    /// (`PUT` with `status: active`).
    pub disabled_for_failing: bool,
    /// Failed attempts in a row since the last delivered one (0 after a success or when
    /// re-enabled).
    pub consecutive_failures: i64,
    /// The first failed attempt since the last delivered one, while it keeps failing.
    pub failing_since: Option<DateTime<Utc>>,
    /// The signing secret: only in the answer that created or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Until when the secret before the last rotation still signs messages too.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new endpoint.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://` URL (no IP literals, no private addresses).
    pub url: String,
    /// One or more of the event type names.
    #[schema(value_type = Vec<EventType>, min_items = 1)]
    pub event_types: Vec<String>,
}

/// A changed endpoint (`PUT`): the URL and event types replace the old ones; `status`, when
/// given, enables or disables it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointUpdate {
    /// `https://` URL (no IP literals, no private addresses).
    pub url: String,
    /// One or more of the event type names.
    #[schema(value_type = Vec<EventType>, min_items = 1)]
    pub event_types: Vec<String>,
    /// `active` re-enables a disabled endpoint (its waiting messages go out); `disabled`
    /// stops sending. Absent: unchanged.
    pub status: Option<EndpointStatus>,
}

/// A message waiting in the outbox, claimed for sending.
#[derive(Debug, Clone)]
pub struct Message {
    /// The outbox row.
    pub id: i64,
    /// Its endpoint.
    pub endpoint: Uuid,
    /// `webhook-id`: the same for every attempt, so receivers can deduplicate.
    pub msg_id: String,
    /// The event type's name.
    pub event_type: String,
    /// The JSON body, byte for byte as signed.
    pub payload: String,
    /// When the event happened (the outbox row was written).
    pub created_at: DateTime<Utc>,
    /// Attempts so far.
    pub attempts: i64,
}

/// How an attempt ended, and what happens to its message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttemptOutcome {
    /// 2xx: the message is delivered.
    Delivered,
    /// Failed; try again at this time.
    Retry(DateTime<Utc>),
    /// Failed, and the message is past its retry window: it stays failed (replay re-queues).
    GaveUp,
}

impl AttemptOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retry(_) => "failed",
            Self::GaveUp => "gave-up",
        }
    }
}

/// One attempt, as the sender records it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// Its id (minted at `at`: newest first sorts by id).
    pub id: Uuid,
    /// The outbox row.
    pub message: i64,
    /// The endpoint.
    pub endpoint: Uuid,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The receiver's status code, if it answered.
    pub status_code: Option<i32>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// The message's fate.
    pub outcome: AttemptOutcome,
}

/// One attempt, as the brand sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptView {
    /// The attempt id (replay takes it).
    pub id: Uuid,
    /// The message's `webhook-id`.
    pub message_id: String,
    /// The event type.
    pub event_type: String,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The receiver's status code, if it answered.
    pub status_code: Option<i32>,
    /// What went wrong (timeout, refused address, ...), if anything.
    pub error: Option<String>,
    /// How long it took (ms).
    pub duration_ms: i64,
    /// `delivered`, `failed` (retried later) or `gave-up`.
    pub outcome: String,
}

/// The when and what of an event, as every payload wraps it (Standard Webhooks' suggested
/// `type` / `timestamp` / `data`).
fn envelope(kind: EventType, at: DateTime<Utc>, data: serde_json::Value) -> String {
    json!({
        "type": kind.as_str(),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// The `webhook-id` of a delivery's event: stable, so every attempt and replay carries it.
pub fn delivery_msg_id(delivery: Uuid, kind: EventType) -> String {
    let what = kind.as_str().rsplit('.').next().unwrap_or("event");
    format!("msg_{delivery}_{what}")
}

/// `delivery.created`: pseudonymous ids only (the app's user id, never a location).
pub fn delivery_created_payload(d: &DecisionRecord, x: &DeliveryRecord) -> String {
    envelope(
        EventType::DeliveryCreated,
        d.at,
        json!({
            "delivery_id": x.id,
            "offer_id": x.offer_id,
            "fence_id": x.fence_id,
            "brand": x.brand,
            "user_id": d.user_id,
            "expires_at": x.expires_at,
        }),
    )
}

/// A visit event's message for the brand of `fence` (`visit.entered` / `visit.exited`): the
/// app's user id and the fence id, never a location. Its id is stable per person, fence,
/// event and time.
pub fn visit_hook(
    event: EventType,
    person: &str,
    user_id: &str,
    fence: Uuid,
    brand: &str,
    at: DateTime<Utc>,
) -> VisitHook {
    use sha2::{Digest, Sha256};
    let id = Sha256::new()
        .chain_update(person)
        .chain_update([0])
        .chain_update(fence.as_bytes())
        .chain_update(event.as_str())
        .chain_update(at.timestamp_millis().to_be_bytes())
        .finalize();
    VisitHook {
        event,
        brand: brand.to_string(),
        msg_id: format!("msg_visit_{}", hex::encode(&id[..16])),
        payload: envelope(
            event,
            at,
            json!({ "fence_id": fence, "brand": brand, "user_id": user_id }),
        ),
    }
}

/// The envelope of `delivery.opened` / `delivery.redeemed` up to its `data`, for the store
/// to complete from the delivery row (its ids): `{"type":…,"timestamp":…` — the caller
/// appends `,"data":{…}}`.
pub fn delivery_event_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The `webhook-id` of an offer's budget running out: one per budget window (`total`, or
/// `daily` and the UTC day), so the outbox holds it once per window however often a claim
/// reports it (a retry reports it again).
pub fn budget_exhausted_msg_id(offer: Uuid, b: &BudgetExhausted) -> String {
    match b.window {
        BudgetWindow::Total => format!("msg_{offer}_budget_total"),
        BudgetWindow::Daily => format!("msg_{offer}_budget_daily_{}", b.day.format("%Y%m%d")),
    }
}

/// The `webhook-id` of an endpoint's disabling: one per endpoint and moment it was disabled,
/// so the same endpoint disabled again later (after a re-enable) is told again.
pub fn endpoint_disabled_msg_id(endpoint: Uuid, at: DateTime<Utc>) -> String {
    format!("msg_{endpoint}_disabled_{}", at.timestamp_millis())
}

/// `endpoint.disabled`, sent to the brand's other endpoints: which endpoint (id and URL),
/// why, after how many failed attempts in a row and since when. Nothing about any person.
pub fn endpoint_disabled_payload(disabled: &Endpoint, at: DateTime<Utc>) -> String {
    envelope(
        EventType::EndpointDisabled,
        at,
        json!({
            "endpoint_id": disabled.id,
            "brand": disabled.brand,
            "url": disabled.url,
            "reason": disabled.disabled_reason,
            "consecutive_failures": disabled.consecutive_failures,
            "failing_since": disabled.failing_since
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        }),
    )
}

/// `offer.budget_exhausted`: the offer, its brand and the budget window; nothing about the
/// person whose delivery took the last unit.
pub fn budget_exhausted_payload(
    d: &DecisionRecord,
    x: &DeliveryRecord,
    b: &BudgetExhausted,
) -> String {
    let mut data = json!({
        "offer_id": x.offer_id,
        "brand": x.brand,
        "budget": b.window.as_str(),
        "limit": b.limit,
    });
    if b.window == BudgetWindow::Daily {
        data["day"] = json!(b.day.format("%Y-%m-%d").to_string());
    }
    envelope(EventType::OfferBudgetExhausted, d.at, data)
}
