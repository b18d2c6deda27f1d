//! Copy and delivery of a granted offer: its title and body rendered from the moment (before
//! the claim, so an offer whose copy cannot be rendered never uses a cap), its delivery id
//! and redemption code.

use super::Engine;
use super::input::Checkin;
use super::model::{Matched, Scene};
use crate::decisions::DeliveryRecord;
use crate::offers::{Offer, creative};
use crate::weather::WeatherLookup;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What an offer's templates can use (docs/errors.md, "Offer copy").
#[derive(Serialize)]
struct CopyContext<'a> {
    fence: Named<'a>,
    brand: Named<'a>,
    weather: CopyWeather<'a>,
    habit: CopyHabit,
    distance_m: f64,
    local_time: String,
}

#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
}

/// Empty when the weather is unknown, so templates see no value rather than a null one.
#[derive(Serialize)]
struct CopyWeather<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temp_c: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feels_like_c: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<&'a str>,
}

#[derive(Serialize)]
struct CopyHabit {
    usual_item: Option<String>,
    visits_per_week: Option<f64>,
}

/// An offer's rendered copy.
pub(super) struct Rendered {
    pub(super) title: String,
    pub(super) body: String,
}

impl Engine {
    /// The offer's title and body for this moment, each within its bound.
    pub(super) fn copy(
        &self,
        m: &Matched,
        offer: &Offer,
        scene: &Scene,
        now: DateTime<Utc>,
    ) -> Result<Rendered, String> {
        let usual = scene.profile.and_then(|p| {
            p.usual_item(
                &offer.brand,
                now - Duration::days(self.config.usual_item_days),
            )
        });
        let (temp_c, feels_like_c, condition) = match scene.weather {
            WeatherLookup::Known(w) => (
                Some(w.temp_c),
                Some(w.feels_like_c),
                Some(w.condition.as_str()),
            ),
            WeatherLookup::Unknown { .. } => (None, None, None),
        };
        let brand = self
            .catalog
            .brand_name(&offer.brand)
            .unwrap_or_else(|| offer.brand.to_string());
        let ctx = minijinja::Value::from(minijinja::value::Serde(CopyContext {
            fence: Named { name: &m.info.name },
            brand: Named { name: &brand },
            weather: CopyWeather {
                temp_c,
                feels_like_c,
                condition,
            },
            habit: CopyHabit {
                usual_item: usual,
                visits_per_week: m.fence_habit.as_ref().map(|h| h.visits_per_week),
            },
            distance_m: m.hit.center_distance_m.unwrap_or(0.0).round(),
            local_time: m.local.format("%H:%M").to_string(),
        }));
        Ok(Rendered {
            title: creative::render(&offer.spec.title, &ctx, creative::Part::Title)
                .map_err(|e| format!("title: {e}"))?,
            body: creative::render(&offer.spec.body, &ctx, creative::Part::Body)
                .map_err(|e| format!("body: {e}"))?,
        })
    }
}

/// The delivery of a granted offer, with the copy rendered before the claim.
pub(super) fn deliver(
    app: &str,
    c: &Checkin,
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
        budget_exhausted: None,
    }
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
