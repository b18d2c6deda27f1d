//! `offer.budget_exhausted` end to end: the claim that takes the last unit of an offer's
//! budget puts the event in the outbox with its decision, once per budget window (a daily
//! budget once each day, the total once), and a receiver gets it signed, with no person in
//! it.

use crate::helpers::*;
use crate::webhooks::{STORE, header, independent_signature, options, send_due};
use chrono::Duration;
use geoffer::clock::Clock;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A brand with a fence and an offer with `budget` there, an endpoint subscribed to
/// `offer.budget_exhausted` only, and an app key; the brand key, the offer and the secret.
async fn budgeted_offer(app: &TestApp, budget: Value, url: &str) -> (String, String, String) {
    let key = app.brand_with_key("chillco").await;
    let fence = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [STORE.1, STORE.0]},
        "properties": {"name": "Corner", "radius_m": 100, "timezone": "America/New_York", "tags": ["corner-store"]}});
    let a = app.post("/v1/brands/chillco/geofences", &key, &fence).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let offer = json!({"name": "Chilled", "title": "Chilled", "body": "At {{ fence.name }}", "value": 1.0,
        "targeting": {"fences": {"tags": ["corner-store"]}}, "budget": budget});
    let a = app.post("/v1/brands/chillco/offers", &key, &offer).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let offer_id = a.body["id"].as_str().unwrap().to_string();
    let hook = app
        .post(
            "/v1/brands/chillco/webhooks",
            &key,
            &json!({"url": url, "event_types": ["offer.budget_exhausted"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let secret = hook.body["secret"].as_str().unwrap().to_string();
    (offer_id, app.key("app", None).await, secret)
}

/// A check-in of a consenting `user` at the store; the decision.
async fn checkin(app: &TestApp, app_key: &str, id: &str, user: &str) -> String {
    app.consent(app_key, user, true, false).await;
    let a = app
        .checkin(app_key, id, user, STORE.0, STORE.1, json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["decision"].as_str().unwrap().to_string()
}

async fn receiver() -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    receiver
}

#[tokio::test]
async fn the_check_in_that_spends_a_total_budget_sends_budget_exhausted_once_without_the_person() {
    let receiver = receiver().await;
    let app = spawn_app_with(options(None, None)).await;
    let url = format!("{}/hooks", receiver.uri());
    let (offer, app_key, secret) = budgeted_offer(&app, json!({"total": 2}), &url).await;

    assert_eq!(checkin(&app, &app_key, "c-1", "u-1").await, "offer");
    assert_eq!(send_due(&app).await, 0, "one unit is left: nothing to say");
    assert_eq!(checkin(&app, &app_key, "c-2", "u-2").await, "offer");
    assert_eq!(checkin(&app, &app_key, "c-3", "u-3").await, "none");
    // A retry of the check-in that spent the budget answers as before and adds nothing.
    assert_eq!(checkin(&app, &app_key, "c-2", "u-2").await, "offer");
    assert_eq!(send_due(&app).await, 1);
    assert_eq!(send_due(&app).await, 0);

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        header(r, "webhook-signature"),
        independent_signature(&secret, r)
    );
    assert_eq!(header(r, "webhook-id"), format!("msg_{offer}_budget_total"));
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["type"], "offer.budget_exhausted");
    assert_eq!(
        body["data"],
        json!({"offer_id": offer, "brand": "chillco", "budget": "total", "limit": 2})
    );
    let text = String::from_utf8_lossy(&r.body);
    assert!(!text.contains("u-2") && !text.contains("40.749"), "{text}");
}

#[tokio::test]
async fn a_daily_budget_is_reported_spent_once_each_day_and_the_total_once() {
    let receiver = receiver().await;
    let app = spawn_app_with(options(None, None)).await;
    let url = format!("{}/hooks", receiver.uri());
    let (offer, app_key, _) = budgeted_offer(&app, json!({"total": 3, "daily": 1}), &url).await;
    let mut days = Vec::new();
    for (n, user) in ["u-1", "u-2", "u-3"].iter().enumerate() {
        days.push(app.clock.now().date_naive());
        assert_eq!(
            checkin(&app, &app_key, &format!("c-{n}"), user).await,
            "offer"
        );
        let late = format!("late-{n}");
        assert_eq!(checkin(&app, &app_key, &late, "u-9").await, "none");
        app.clock.advance(Duration::days(1).to_std().unwrap());
    }
    assert_eq!(send_due(&app).await, 3);
    let requests = receiver.received_requests().await.unwrap();
    let mut seen: Vec<(String, Value)> = requests
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            (header(r, "webhook-id").to_string(), body["data"].clone())
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let daily = |day: chrono::NaiveDate| {
        (
            format!("msg_{offer}_budget_daily_{}", day.format("%Y%m%d")),
            json!({"offer_id": offer, "brand": "chillco", "budget": "daily", "limit": 1,
                   "day": day.format("%Y-%m-%d").to_string()}),
        )
    };
    assert_eq!(
        seen,
        vec![
            daily(days[0]),
            daily(days[1]),
            (
                format!("msg_{offer}_budget_total"),
                json!({"offer_id": offer, "brand": "chillco", "budget": "total", "limit": 3})
            ),
        ]
    );
}
