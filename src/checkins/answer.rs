//! What a check-in is answered: the wire type (`CheckinResponse`, what OpenAPI documents),
//! the answer to send (decided now, or replayed from the record), and the limiter's claim key.

use super::input::Checkin;
use super::model::Matched;
use crate::decisions::{DeliveryRecord, Prior};
use crate::error::ApiError;
use crate::habits::{VisitEvent, VisitKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

// Fields are in alphabetical order: answers were first sent (and recorded) as JSON objects
// with sorted keys, and retries replay those bytes; a fresh answer keeps the same order.

/// The fence an offer was triggered at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FenceRef {
    /// Fence id.
    pub id: Uuid,
    /// Fence name.
    pub name: String,
}

/// A visit event's kind, on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckinEventType {
    /// The visit to the fence began.
    Enter,
    /// The visit has lasted the deployment's dwell time.
    Dwell,
    /// The visit ended (beyond the exit margin, or after the timeout).
    Exit,
}

impl From<VisitKind> for CheckinEventType {
    fn from(k: VisitKind) -> Self {
        match k {
            VisitKind::Enter => Self::Enter,
            VisitKind::Dwell => Self::Dwell,
            VisitKind::Exit => Self::Exit,
        }
    }
}

/// A visit event the check-in caused (docs/visits.md).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckinEvent {
    /// When it happened: the report's time, or for an exit after the timeout the person's
    /// last report there.
    pub at: DateTime<Utc>,
    /// The fence.
    pub fence_id: Uuid,
    /// `enter`, `dwell` or `exit`.
    #[serde(rename = "type")]
    pub kind: CheckinEventType,
}

/// A delivered offer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveredOffer {
    /// Rendered body.
    pub body: String,
    /// The brand.
    pub brand: String,
    /// This delivery (use it in feedback events).
    pub delivery_id: Uuid,
    /// When the code stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where it was triggered.
    pub fence: FenceRef,
    /// The offer.
    pub offer_id: Uuid,
    /// Code to redeem, if the offer has one.
    pub redemption_code: Option<String>,
    /// Rendered title.
    pub title: String,
}

/// The answer to a check-in, as built by the engine (and stored, so retries replay it).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckinResponse {
    /// Echo of the request's id.
    pub checkin_id: String,
    /// `offer` or `none`.
    pub decision: String,
    /// The visit events this check-in caused, in order (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<CheckinEvent>,
    /// The offer, when decision is `offer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<DeliveredOffer>,
    /// With `held-out`: the offer this person was held out of (the control group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<Uuid>,
    /// Why none: no-fence, implausible-location, stale, in-motion, quiet-hours,
    /// no-eligible-offer, capped, held-out, limiter-unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl CheckinResponse {
    /// No offer, and why.
    pub fn none(checkin_id: &str, reason: &str) -> Self {
        Self {
            decision: "none".into(),
            reason: Some(reason.into()),
            checkin_id: checkin_id.into(),
            events: Vec::new(),
            offer: None,
            offer_id: None,
        }
    }

    /// The same answer, carrying the visit events the check-in caused.
    pub(super) fn with_events(mut self, events: &[VisitEvent]) -> Self {
        self.events = events
            .iter()
            .filter_map(|e| {
                Some(CheckinEvent {
                    at: DateTime::from_timestamp_millis(e.at_ms)?,
                    fence_id: e.fence.parse().ok()?,
                    kind: e.kind.into(),
                })
            })
            .collect();
        self
    }

    /// The offer delivered at `m`.
    pub(super) fn offer(c: &Checkin, d: &DeliveryRecord, m: &Matched) -> Self {
        let body = DeliveredOffer {
            delivery_id: d.id,
            offer_id: d.offer_id,
            brand: d.brand.clone(),
            title: d.title.clone(),
            body: d.body.clone(),
            redemption_code: d.redemption_code.clone(),
            expires_at: d.expires_at,
            fence: FenceRef {
                id: m.info.id,
                name: m.info.name.clone(),
            },
        };
        Self {
            decision: "offer".into(),
            reason: None,
            checkin_id: c.checkin_id.clone(),
            events: Vec::new(),
            offer: Some(body),
            offer_id: None,
        }
    }
}

/// The answer to a check-in, exactly as sent.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
// Boxing the fresh answer would cost an allocation on every decision; retries are the rare case.
#[allow(clippy::large_enum_variant)]
pub enum CheckinAnswer {
    /// Decided now.
    Decided(CheckinResponse),
    /// Decided before: the first answer, as recorded (a retry).
    Replayed(serde_json::Value),
}

impl CheckinAnswer {
    /// Why none (`None` for an offer).
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Decided(r) => r.reason.as_deref(),
            Self::Replayed(v) => v.get("reason").and_then(|r| r.as_str()),
        }
    }
}

/// The answer to a check-in id decided before: the first answer for the same report of the
/// same user (a retry), 409 `checkin-id-reused` for anything else.
pub(super) fn replay(
    c: &Checkin,
    fingerprint: &str,
    prior: Prior,
) -> Result<CheckinAnswer, ApiError> {
    // Decisions recorded before fingerprints existed: the same user is the test.
    let same = match &prior.fingerprint {
        Some(f) => f == fingerprint,
        None => prior.user_id == c.user_id,
    };
    if same {
        Ok(CheckinAnswer::Replayed(prior.response))
    } else {
        Err(ApiError::CheckinIdReused(format!(
            "checkin_id `{}` was already used for another report; send each report with a new \
             checkin_id and retry only with the same body",
            c.checkin_id
        )))
    }
}

/// The limiter's idempotency key: one per app, user and check-in id, so that another user
/// reusing an id never shares a claim or a budget reservation with the first. Cap holders
/// in traces carry it instead of the check-in id; support maps it back.
pub fn claim_key(app: &str, user_id: &str, checkin_id: &str) -> String {
    hex::encode(
        &Sha256::new()
            .chain_update(app)
            .chain_update([0])
            .chain_update(user_id)
            .chain_update([0])
            .chain_update(checkin_id)
            .finalize()[..16],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_answer_has_the_bytes_of_the_json_answers_recorded_before() {
        let typed = CheckinResponse {
            offer_id: Some(Uuid::nil()),
            ..CheckinResponse::none("c-1", "held-out")
        };
        let as_value = serde_json::to_value(&typed).unwrap();
        assert_eq!(
            serde_json::to_string(&CheckinAnswer::Decided(typed)).unwrap(),
            serde_json::to_string(&as_value).unwrap()
        );
        let offer = DeliveredOffer {
            body: "b".into(),
            brand: "chillco".into(),
            delivery_id: Uuid::nil(),
            expires_at: None,
            fence: FenceRef {
                id: Uuid::nil(),
                name: "f".into(),
            },
            offer_id: Uuid::nil(),
            redemption_code: Some("CHILL-1".into()),
            title: "t".into(),
        };
        let as_value = serde_json::to_value(&offer).unwrap();
        assert_eq!(
            serde_json::to_string(&offer).unwrap(),
            serde_json::to_string(&as_value).unwrap()
        );
    }
}
