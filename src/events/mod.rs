//! Feedback events from apps: what happened to an offer (opened, dismissed, redeemed), what was
//! bought (online or in store), which brands a person follows, their stated interests.
//!
//! Long (about 470 lines) because the parser of every event type and its field rules are
//! here; the ingestion use case is `services/events.rs`.

mod lifecycle;

pub use lifecycle::{DeliveryState, Status, transition};

use crate::domain::{BrandId, check_tag};
use crate::error::FieldError;
use crate::people::check_user_id;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// Most events in one batch.
pub const MAX_BATCH: usize = 500;

/// Where a purchase happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Channel {
    Online,
    InStore,
}

/// A validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The app's id for the event (idempotency key).
    pub event_id: String,
    /// The app's user id.
    pub user_id: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The person opened a delivered offer.
    Opened { delivery_id: Uuid },
    /// The person dismissed it (cools the brand down).
    Dismissed { delivery_id: Uuid },
    /// The person redeemed it.
    Redeemed {
        delivery_id: Uuid,
        redemption_code: Option<String>,
    },
    /// A purchase, online or in store.
    Purchase(Purchase),
    /// Started following a brand.
    Follow { brand: BrandId },
    /// Stopped following a brand.
    Unfollow { brand: BrandId },
    /// Stated interests (replacing earlier ones) and an optional tier.
    Traits {
        interests: Vec<String>,
        tier: Option<String>,
    },
}

/// A purchase event's details.
#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    /// The brand sold it.
    pub brand: BrandId,
    /// Stock-keeping unit.
    pub sku: Option<String>,
    /// Category, e.g. `lamps`.
    pub category: Option<String>,
    /// Amount paid.
    pub amount: Option<f64>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
    /// Online or in store.
    pub channel: Channel,
    /// The store, for in-store purchases.
    pub fence_id: Option<Uuid>,
}

impl EventKind {
    /// The wire name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Opened { .. } => "offer_opened",
            Self::Dismissed { .. } => "offer_dismissed",
            Self::Redeemed { .. } => "offer_redeemed",
            Self::Purchase(_) => "purchase",
            Self::Follow { .. } => "follow",
            Self::Unfollow { .. } => "unfollow",
            Self::Traits { .. } => "traits",
        }
    }

    /// Does it need personalization consent (it builds the profile)?
    pub fn is_personal(&self) -> bool {
        matches!(
            self,
            Self::Purchase(_) | Self::Follow { .. } | Self::Unfollow { .. } | Self::Traits { .. }
        )
    }

    /// The delivery it is about, if any.
    pub fn delivery(&self) -> Option<Uuid> {
        match self {
            Self::Opened { delivery_id }
            | Self::Dismissed { delivery_id }
            | Self::Redeemed { delivery_id, .. } => Some(*delivery_id),
            _ => None,
        }
    }

    /// The brand it is about, if any (deliveries resolve theirs later).
    pub fn brand(&self) -> Option<&BrandId> {
        match self {
            Self::Purchase(p) => Some(&p.brand),
            Self::Follow { brand } | Self::Unfollow { brand } => Some(brand),
            _ => None,
        }
    }
}

/// One event as sent: any JSON value, so that a malformed event is answered on its own
/// (`rejected`, with its problem) instead of sinking its batch; [`parse`] checks it. Its
/// OpenAPI schema names the fields each `type` takes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct EventInput(pub Value);

impl utoipa::PartialSchema for EventInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <EventFields as utoipa::PartialSchema>::schema()
    }
}

impl ToSchema for EventInput {
    fn name() -> std::borrow::Cow<'static, str> {
        "EventInput".into()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <EventFields as ToSchema>::schemas(schemas)
    }
}

/// The fields of [`EventInput`], for its schema: `parse` reads them from the JSON value so
/// every problem can be named with its pointer.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
struct EventFields {
    /// Idempotency key, unique per app.
    pub event_id: String,
    /// The app's user id.
    pub user_id: String,
    /// RFC 3339.
    pub occurred_at: DateTime<Utc>,
    /// offer_opened, offer_dismissed, offer_redeemed, purchase, follow, unfollow, traits.
    #[serde(rename = "type")]
    pub type_: String,
    /// offer_* events.
    pub delivery_id: Option<Uuid>,
    /// offer_redeemed (optional): the code shown to the person.
    pub redemption_code: Option<String>,
    /// purchase, follow, unfollow.
    pub brand: Option<String>,
    /// purchase.
    pub sku: Option<String>,
    /// purchase.
    pub category: Option<String>,
    /// purchase.
    pub amount: Option<f64>,
    /// purchase.
    pub currency: Option<String>,
    /// purchase: online or in_store.
    pub channel: Option<Channel>,
    /// purchase (in store, optional).
    pub fence_id: Option<Uuid>,
    /// traits.
    pub interests: Option<Vec<String>>,
    /// traits (optional).
    pub tier: Option<String>,
}

/// Fields each type allows besides the common ones.
fn allowed(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "offer_opened" | "offer_dismissed" => &["delivery_id"],
        "offer_redeemed" => &["delivery_id", "redemption_code"],
        "purchase" => &[
            "brand", "sku", "category", "amount", "currency", "channel", "fence_id",
        ],
        "follow" | "unfollow" => &["brand"],
        "traits" => &["interests", "tier"],
        _ => return None,
    })
}

/// Parses one event; `at` is its pointer in the batch. Every problem is named.
pub fn parse(v: &Value, at: &str, now: DateTime<Utc>) -> Result<Event, Vec<FieldError>> {
    let mut errs = Vec::new();
    let Some(obj) = v.as_object() else {
        return Err(vec![FieldError::new(at, "an event is a JSON object")]);
    };
    let p = |f: &str| format!("{at}/{f}");
    let text = |f: &str, errs: &mut Vec<FieldError>| -> Option<String> {
        match obj.get(f) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 128 => Some(s.clone()),
            Some(_) => {
                errs.push(FieldError::new(
                    p(f),
                    "must be a string of 1-128 characters",
                ));
                None
            }
        }
    };
    let event_id = text("event_id", &mut errs);
    if obj.get("event_id").is_none() {
        errs.push(FieldError::new(p("event_id"), "event_id is required"));
    }
    let user_id = text("user_id", &mut errs);
    match &user_id {
        Some(u) => {
            if let Err(e) = check_user_id(u) {
                errs.push(FieldError::new(p("user_id"), e));
            }
        }
        None => errs.push(FieldError::new(p("user_id"), "user_id is required")),
    }
    let occurred_at = match obj
        .get("occurred_at")
        .and_then(Value::as_str)
        .map(DateTime::parse_from_rfc3339)
    {
        Some(Ok(t)) if t.with_timezone(&Utc) <= now + chrono::Duration::minutes(2) => {
            Some(t.with_timezone(&Utc))
        }
        Some(Ok(_)) => {
            errs.push(FieldError::new(
                p("occurred_at"),
                "occurred_at is in the future",
            ));
            None
        }
        _ => {
            errs.push(FieldError::new(
                p("occurred_at"),
                "occurred_at must be an RFC 3339 time",
            ));
            None
        }
    };
    let kind_name = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let Some(extra) = allowed(kind_name) else {
        errs.push(FieldError::new(p("type"), format!("unknown event type `{kind_name}`; use offer_opened, offer_dismissed, offer_redeemed, purchase, follow, unfollow or traits")));
        return Err(errs);
    };
    for key in obj.keys() {
        let common = ["event_id", "user_id", "occurred_at", "type", "device_id"];
        if !common.contains(&key.as_str()) && !extra.contains(&key.as_str()) {
            errs.push(FieldError::new(
                p(key),
                format!("`{key}` is not a field of {kind_name} events"),
            ));
        }
    }
    let kind = kind_of(kind_name, obj, at, &mut errs);
    match (event_id, user_id, occurred_at, kind) {
        (Some(event_id), Some(user_id), Some(occurred_at), Some(kind)) if errs.is_empty() => {
            Ok(Event {
                event_id,
                user_id,
                occurred_at,
                kind,
            })
        }
        _ => Err(errs),
    }
}

fn kind_of(
    name: &str,
    obj: &serde_json::Map<String, Value>,
    at: &str,
    errs: &mut Vec<FieldError>,
) -> Option<EventKind> {
    let p = |f: &str| format!("{at}/{f}");
    let uuid = |f: &str, errs: &mut Vec<FieldError>| match obj
        .get(f)
        .and_then(Value::as_str)
        .map(Uuid::parse_str)
    {
        Some(Ok(u)) => Some(u),
        _ => {
            errs.push(FieldError::new(p(f), format!("{f} must be an id (UUID)")));
            None
        }
    };
    let brand = |errs: &mut Vec<FieldError>| match obj
        .get("brand")
        .and_then(Value::as_str)
        .map(BrandId::parse)
    {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            errs.push(FieldError::new(p("brand"), e));
            None
        }
        None => {
            errs.push(FieldError::new(p("brand"), "brand is required"));
            None
        }
    };
    let opt_str = |f: &str, errs: &mut Vec<FieldError>| match obj.get(f) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 128 => Some(s.clone()),
        _ => {
            errs.push(FieldError::new(
                p(f),
                "must be a string of 1-128 characters",
            ));
            None
        }
    };
    match name {
        "offer_opened" => {
            uuid("delivery_id", errs).map(|delivery_id| EventKind::Opened { delivery_id })
        }
        "offer_dismissed" => {
            uuid("delivery_id", errs).map(|delivery_id| EventKind::Dismissed { delivery_id })
        }
        "offer_redeemed" => {
            let code = opt_str("redemption_code", errs);
            uuid("delivery_id", errs).map(|delivery_id| EventKind::Redeemed {
                delivery_id,
                redemption_code: code,
            })
        }
        "follow" => brand(errs).map(|brand| EventKind::Follow { brand }),
        "unfollow" => brand(errs).map(|brand| EventKind::Unfollow { brand }),
        "traits" => {
            let interests: Vec<String> = match obj.get("interests").and_then(Value::as_array) {
                Some(list) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                None => {
                    errs.push(FieldError::new(
                        p("interests"),
                        "interests must be an array of tags",
                    ));
                    return None;
                }
            };
            for (i, t) in interests.iter().enumerate() {
                if let Err(e) = check_tag(t) {
                    errs.push(FieldError::new(format!("{at}/interests/{i}"), e));
                }
            }
            let tier = opt_str("tier", errs);
            Some(EventKind::Traits { interests, tier })
        }
        "purchase" => {
            let brand = brand(errs);
            let (sku, category) = (opt_str("sku", errs), opt_str("category", errs));
            if sku.is_none() && category.is_none() {
                errs.push(FieldError::new(
                    p("sku"),
                    "a purchase names a sku, a category, or both",
                ));
            }
            let amount = match obj.get("amount") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_f64() {
                    Some(a) if a.is_finite() && a >= 0.0 => Some(a),
                    _ => {
                        errs.push(FieldError::new(
                            p("amount"),
                            "amount must be a number of at least 0",
                        ));
                        None
                    }
                },
            };
            let currency = opt_str("currency", errs);
            if currency
                .as_ref()
                .is_some_and(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
            {
                errs.push(FieldError::new(
                    p("currency"),
                    "currency is an ISO 4217 code such as USD",
                ));
            }
            let channel = match obj
                .get("channel")
                .map(|v| serde_json::from_value::<Channel>(v.clone()))
            {
                Some(Ok(c)) => Some(c),
                _ => {
                    errs.push(FieldError::new(
                        p("channel"),
                        "channel must be `online` or `in_store`",
                    ));
                    None
                }
            };
            let fence_id = match obj.get("fence_id") {
                None | Some(Value::Null) => None,
                Some(_) => uuid("fence_id", errs),
            };
            Some(EventKind::Purchase(Purchase {
                brand: brand?,
                sku,
                category,
                amount,
                currency,
                channel: channel?,
                fence_id,
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-07-20T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_api_example_purchase_parses() {
        let v = json!({"event_id": "e1", "user_id": "u-123", "occurred_at": "2026-07-20T11:00:00Z", "type": "purchase",
                       "brand": "chillco", "sku": "cola-330", "category": "soft-drinks", "amount": 1.99, "currency": "USD", "channel": "in_store"});
        let e = parse(&v, "/events/0", now()).unwrap();
        assert!(matches!(e.kind, EventKind::Purchase(ref p) if p.channel == Channel::InStore));
    }

    #[test]
    fn each_problem_is_named_with_its_pointer() {
        let v = json!({"event_id": "e1", "user_id": "u-1", "occurred_at": "2026-07-20T11:00:00Z", "type": "purchase",
                       "brand": "ChillCo", "channel": "teleport", "colour": "red"});
        let errs = parse(&v, "/events/3", now()).unwrap_err();
        let ptrs: Vec<_> = errs.iter().map(|e| e.pointer.as_str()).collect();
        for want in [
            "/events/3/brand",
            "/events/3/channel",
            "/events/3/colour",
            "/events/3/sku",
        ] {
            assert!(ptrs.contains(&want), "{ptrs:?}");
        }
    }

    #[test]
    fn unknown_types_and_future_times_are_refused() {
        let v = json!({"event_id": "e1", "user_id": "u-1", "occurred_at": "2026-07-21T00:00:00Z", "type": "teleported"});
        let errs = parse(&v, "", now()).unwrap_err();
        assert_eq!(errs.len(), 2);
    }
}
