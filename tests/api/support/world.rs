//! A small world for support tests: one brand with its corner store, an app, a support key,
//! weather on demand, and deliveries seeded straight into the store for bulk reads.

use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use geoffer::decisions::record::{DecisionRecord, DeliveryRecord, pack_trace};
use geoffer::people::PersonId;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// 71 m from the corner store's centre (API.md's check-in).
pub const NEAR: (f64, f64) = (40.7490, -73.9860);
/// Times Square, well away from the corner store.
pub const SQUARE: (f64, f64) = (40.7580, -73.9855);

/// A weather upstream that answers `temp` °C with WMO `code` (1: clear).
pub async fn weather(temp: f64, code: u16) -> MockServer {
    let body = json!({ "latitude": 40.75, "longitude": -73.99, "utc_offset_seconds": 0,
        "current": {"time": "2026-07-14T19:00", "interval": 900, "temperature_2m": temp,
                    "apparent_temperature": temp, "precipitation": 0.0, "weather_code": code, "is_day": 1} });
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/forecast"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    server
}

/// An offer at any corner store, once per person per 14 days, no holdout.
pub fn place_offer(name: &str, value: f64) -> Value {
    json!({"name": name, "title": name, "body": "At {{ fence.name }}", "value": value,
           "targeting": {"fences": {"tags": ["corner-store"]}},
           "caps": {"per_person": {"count": 1, "period_days": 14}},
           "redemption": {"code_prefix": "SAVE", "valid_hours": 4}})
}

pub struct World {
    pub app: TestApp,
    pub app_key: String,
    pub brand_key: String,
    pub support_key: String,
}

/// Brand `chillco` with the corner store and `offers`, an app key and a support key.
pub async fn world(o: Options, offers: &[Value]) -> World {
    let app = spawn_app_with(o).await;
    let brand_key = app.brand_with_key("chillco").await;
    let f = app
        .post("/v1/brands/chillco/geofences", &brand_key, &circle_fence())
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    for offer in offers {
        let a = app
            .post("/v1/brands/chillco/offers", &brand_key, offer)
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let app_key = app.key("app", None).await;
    let support_key = app.key("support", None).await;
    World {
        app,
        app_key,
        brand_key,
        support_key,
    }
}

impl World {
    /// Checks `user` in near the corner store now, with `extra` report fields.
    pub async fn checkin(&self, id: &str, user: &str, extra: Value) -> Value {
        let a = self
            .app
            .checkin(&self.app_key, id, user, NEAR.0, NEAR.1, extra)
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    /// The explained decision, read with the support key.
    pub async fn decision(&self, checkin_id: &str) -> Value {
        let a = self
            .app
            .get(&format!("/v1/decisions/{checkin_id}"), &self.support_key)
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }
}

/// The candidate named `offer` in an explained decision.
pub fn candidate<'a>(decision: &'a Value, offer: &str) -> &'a Value {
    decision["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["offer_name"] == offer)
        .unwrap_or_else(|| panic!("no candidate {offer} in {decision}"))
}

/// Its lines as strings.
pub fn lines(candidate: &Value) -> Vec<String> {
    strings(&candidate["lines"])
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// A delivered decision as the engine would record it (for bulk reads; no HTTP).
pub fn delivered(brand: &str, user: &str, at: DateTime<Utc>, title: &str) -> DecisionRecord {
    let id = Uuid::new_v4();
    let offer = Uuid::from_u128(u128::from(brand.len() as u64));
    DecisionRecord {
        app: "default".into(),
        checkin_id: format!("seed-{id}"),
        fingerprint: format!("seed-{id}"),
        person: PersonId::of("default", user).to_string(),
        user_id: user.into(),
        at,
        decision: "offer",
        reason: None,
        offer_id: Some(offer),
        delivery: Some(DeliveryRecord {
            id,
            device_id: title.len().is_multiple_of(2).then(|| "d-1".to_string()),
            brand: brand.into(),
            offer_id: offer,
            fence_id: Uuid::from_u128(7),
            title: title.into(),
            body: format!("Body of {title}"),
            redemption_code: Some(format!("CODE-{id}")),
            expires_at: Some(at + Duration::hours(4)),
            budget_exhausted: None,
        }),
        response: json!({"decision": "offer"}),
        trace: pack_trace(&json!({"fences": [{"brand": brand}]}).to_string()),
        brands: vec![brand.to_string()],
        latency_us: 1,
        visit_hooks: Vec::new(),
    }
}
