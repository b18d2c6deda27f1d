//! What a decision answers: the delivery of a granted offer (its id, redemption code and
//! copy), the JSON answer, the limiter's claim key, and the replay of a check-in id decided
//! before.

use super::engine::Matched;
use super::input::CheckinInput;
use super::writer::DeliveryRecord;
use super::{CheckinAnswer, CheckinResponse, DeliveredOffer, FenceRef};
use crate::catalog::FenceInfo;
use crate::error::ApiError;
use crate::offers::Offer;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The answer to a check-in id decided before: the first answer for the same report of the
/// same user (a retry), 409 `checkin-id-reused` for anything else.
pub(super) fn replay(
    c: &CheckinInput,
    fingerprint: &str,
    prior: crate::store::Prior,
) -> Result<CheckinAnswer, ApiError> {
    // Decisions recorded before fingerprints existed: the same user is the test.
    let same = match &prior.fingerprint {
        Some(f) => f == fingerprint,
        None => prior.user_id == c.user_id,
    };
    if same {
        Ok(CheckinAnswer(prior.response))
    } else {
        Err(ApiError::CheckinIdReused(format!(
            "checkin_id `{}` was already used for another report; send each report with a new \
             checkin_id and retry only with the same body",
            c.checkin_id
        )))
    }
}

/// An offer's rendered copy.
pub(super) struct Rendered {
    pub(super) title: String,
    pub(super) body: String,
}

/// The delivery of a granted offer, with the copy rendered before the claim.
pub(super) fn deliver(
    app: &str,
    c: &CheckinInput,
    m: &Matched,
    offer: &Offer,
    at: DateTime<Utc>,
    copy: Rendered,
) -> DeliveryRecord {
    let id = delivery_id(app, &c.checkin_id, &offer.id);
    let redemption = offer.spec.redemption.as_ref();
    DeliveryRecord {
        id,
        device_id: c.device_id.clone(),
        brand: offer.brand.to_string(),
        offer_id: offer.id,
        fence_id: m.info.id,
        title: copy.title,
        body: copy.body,
        redemption_code: redemption.map(|r| redemption_code(&r.code_prefix, &id)),
        expires_at: redemption.map(|r| at + Duration::hours(i64::from(r.valid_hours))),
    }
}

pub(super) fn none(c: &CheckinInput, reason: &str) -> Value {
    CheckinResponse::none(&c.checkin_id, reason).to_value()
}

pub(super) fn offer_answer(
    c: &CheckinInput,
    d: &DeliveryRecord,
    offer: &Offer,
    fence: &FenceInfo,
) -> Value {
    let body = DeliveredOffer {
        delivery_id: d.id,
        offer_id: offer.id,
        brand: offer.brand.to_string(),
        title: d.title.clone(),
        body: d.body.clone(),
        redemption_code: d.redemption_code.clone(),
        expires_at: d.expires_at,
        fence: FenceRef {
            id: fence.id,
            name: fence.name.clone(),
        },
    };
    CheckinResponse {
        decision: "offer".into(),
        reason: None,
        checkin_id: c.checkin_id.clone(),
        offer: Some(body),
        offer_id: None,
    }
    .to_value()
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

/// Deterministic per check-in and offer, so concurrent retries produce the same delivery.
pub(super) fn delivery_id(app: &str, checkin_id: &str, offer: &Uuid) -> Uuid {
    let h = Sha256::new()
        .chain_update(app)
        .chain_update([0])
        .chain_update(checkin_id)
        .chain_update([0])
        .chain_update(offer.as_bytes())
        .finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    Uuid::new_v8(b)
}

/// `PREFIX-XXXXXXXXXXXX`: 60 bits from the delivery id in Crockford base32 (no I, L, O, U).
pub(super) fn redemption_code(prefix: &str, delivery: &Uuid) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let h = Sha256::digest(delivery.as_bytes());
    let mut n = u64::from_be_bytes(h[..8].try_into().unwrap_or([0; 8]));
    let code: String = (0..12)
        .map(|_| {
            let c = ALPHABET[(n & 31) as usize] as char;
            n >>= 5;
            c
        })
        .collect();
    format!("{prefix}-{code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_and_codes_are_stable_per_checkin_and_offer() {
        let o = Uuid::nil();
        assert_eq!(delivery_id("a", "c1", &o), delivery_id("a", "c1", &o));
        assert_ne!(delivery_id("a", "c1", &o), delivery_id("a", "c2", &o));
        let code = redemption_code("CHILL", &delivery_id("a", "c1", &o));
        assert!(code.starts_with("CHILL-") && code.len() == 18, "{code}");
    }
}
