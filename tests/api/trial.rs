//! "Try it": a test decision through the real engine, that records nothing and sees only the
//! brand's own fences and offers.

use crate::contract::conforms_to_document;
use crate::helpers::*;
use serde_json::{Value, json};

/// 71 m from the corner store's centre (API.md's check-in).
const NEAR: (f64, f64) = (40.7490, -73.9860);
/// Middle of the Hudson: no fence anywhere near.
const RIVER: (f64, f64) = (40.7600, -74.0200);
/// Tuesday 15:00 in New York.
const AFTERNOON: &str = "2026-07-14T19:00:00Z";

/// The archetype offer (weather, habit, audience, schedule), without holdout.
fn chilled_offer() -> Value {
    let mut o = offer();
    o["holdout_pct"] = json!(0);
    o
}

/// An offer for the place alone, with a budget of one delivery in all.
fn last_coupon() -> Value {
    json!({"name": "Last coupon", "title": "The last coupon", "body": "At {{ fence.name }}", "value": 0.5,
           "targeting": {"fences": {"tags": ["corner-store"]}}, "budget": {"total": 1}})
}

struct World {
    app: TestApp,
    brand_key: String,
    chilled: String,
    coupon: String,
}

/// ChillCo's corner store with the chilled-drink offer (and the coupon, `with_coupon`);
/// BeanLine has a café fence at the same spot, with an offer of its own.
async fn world(with_coupon: bool) -> World {
    let app = spawn_app().await;
    let brand_key = app.brand_with_key("chillco").await;
    let f = app
        .post("/v1/brands/chillco/geofences", &brand_key, &circle_fence())
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    let mut ids = Vec::new();
    let offers = [chilled_offer(), last_coupon()];
    for o in &offers[..if with_coupon { 2 } else { 1 }] {
        let a = app.post("/v1/brands/chillco/offers", &brand_key, o).await;
        assert_eq!(a.status, 201, "{}", a.body);
        ids.push(a.body["id"].as_str().unwrap().to_string());
    }
    let bean_key = app.brand_with_key("beanline").await;
    let mut cafe = circle_fence();
    cafe["properties"]["name"] = json!("BeanLine Café");
    cafe["properties"]["external_id"] = json!("cafe-1");
    let f = app
        .post("/v1/brands/beanline/geofences", &bean_key, &cafe)
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    let mut bean_offer = last_coupon();
    bean_offer["name"] = json!("Bean deal");
    let a = app
        .post("/v1/brands/beanline/offers", &bean_key, &bean_offer)
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    World {
        app,
        brand_key,
        chilled: ids[0].clone(),
        coupon: ids.get(1).cloned().unwrap_or_default(),
    }
}

/// A regular who follows ChillCo and likes cold drinks, at the store on a hot clear afternoon.
fn hot_regular() -> Value {
    json!({"lat": NEAR.0, "lon": NEAR.1, "at": AFTERNOON,
           "weather": {"condition": "clear", "temp_c": 31},
           "person": {"persona": "regular", "follows_brand": true, "interests": ["cold-drinks"],
                      "usual_item": "cola-330"}})
}

async fn try_it(w: &World, key: &str, body: &Value) -> Answer {
    w.app.post("/v1/brands/chillco/offers/try", key, body).await
}

fn candidate<'a>(body: &'a Value, offer_id: &str) -> &'a Value {
    body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["offer_id"] == offer_id)
        .unwrap_or_else(|| panic!("{offer_id} not among the candidates: {body}"))
}

#[tokio::test]
async fn a_regular_on_a_hot_afternoon_at_the_store_would_get_the_chilled_drink_offer() {
    let w = world(true).await;
    let a = try_it(&w, &w.brand_key, &hot_regular()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    conforms_to_document(&w.app, "/v1/brands/{brand}/offers/try", "post", &a).await;
    assert_eq!(a.body["decision"], "offer", "{}", a.body);
    let offer = &a.body["offer"];
    assert_eq!(offer["offer_id"], w.chilled.as_str());
    assert_eq!(offer["offer_name"], "Chilled drink on hot days");
    assert_eq!(offer["fence"]["name"], "Corner Store 5th Ave");
    let body = offer["body"].as_str().unwrap();
    assert!(
        body.starts_with("It's 31.0°C. Your usual cola-330"),
        "{body}"
    );
    assert_eq!(
        a.body["summary"],
        "Would send “Chilled drink on hot days” at Corner Store 5th Ave."
    );
    assert_eq!(candidate(&a.body, &w.chilled)["outcome"], "delivered");
    assert_eq!(candidate(&a.body, &w.coupon)["outcome"], "not-chosen");
}

#[tokio::test]
async fn the_same_try_in_the_rain_would_send_nothing_and_names_the_weather_rule() {
    let w = world(false).await;
    let mut body = hot_regular();
    body["weather"] = json!({"condition": "rain", "temp_c": 31});
    let a = try_it(&w, &w.brand_key, &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["decision"], "none");
    assert_eq!(a.body["reason"], "no-eligible-offer");
    let chilled = candidate(&a.body, &w.chilled);
    assert_eq!(chilled["outcome"], "not-eligible");
    let lines: Vec<&str> = chilled["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("weather") && l.contains("rain")),
        "{lines:?}"
    );
    // A first visit on the hot day fails the habit rule, and says so.
    let mut first = hot_regular();
    first["person"] =
        json!({"persona": "first-visit", "follows_brand": true, "interests": ["cold-drinks"]});
    let a = try_it(&w, &w.brand_key, &first).await;
    assert_eq!(a.body["decision"], "none", "{}", a.body);
    let lines = candidate(&a.body, &w.chilled)["lines"].to_string();
    assert!(lines.contains("habit"), "{lines}");
}

#[tokio::test]
async fn trying_records_nothing_and_uses_no_cap_or_budget() {
    let w = world(true).await;
    for _ in 0..3 {
        let a = try_it(&w, &w.brand_key, &hot_regular()).await;
        assert_eq!(a.body["decision"], "offer", "{}", a.body);
    }
    // The coupon alone: a first visit without personalization gets the place-only offer.
    let plain = json!({"lat": NEAR.0, "lon": NEAR.1, "at": AFTERNOON,
                       "person": {"persona": "first-visit", "personalization": false}});
    let a = try_it(&w, &w.brand_key, &plain).await;
    assert_eq!(a.body["offer"]["offer_id"], w.coupon.as_str(), "{}", a.body);
    for table in ["decisions", "deliveries"] {
        assert_eq!(w.app.count_rows(table).await, 0, "{table}");
    }
    let results = w
        .app
        .get(
            &format!("/v1/brands/chillco/offers/{}/results", w.coupon),
            &w.brand_key,
        )
        .await;
    assert_eq!(results.status, 200, "{}", results.body);
    assert_eq!(results.body["treated"]["deliveries"], 0, "{}", results.body);
    assert_eq!(results.body["control"]["held_out"], 0, "{}", results.body);
    // The coupon's budget of one is still there for a real person.
    let app_key = w.app.key("app", None).await;
    w.app.consent(&app_key, "u-1", true, false).await;
    let real = w
        .app
        .checkin(&app_key, "c-1", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(real.status, 200, "{}", real.body);
    assert_eq!(real.body["decision"], "offer", "{}", real.body);
    assert_eq!(real.body["offer"]["offer_id"], w.coupon.as_str());
    assert_eq!(w.app.count_rows("decisions").await, 1);
}

#[tokio::test]
async fn another_brands_fences_and_offers_never_appear() {
    let w = world(true).await;
    let a = try_it(&w, &w.brand_key, &hot_regular()).await;
    let text = a.body.to_string();
    assert!(
        !text.contains("beanline") && !text.contains("BeanLine"),
        "{text}"
    );
    assert!(!text.contains("Bean deal"), "{text}");
    // BeanLine's key cannot try ChillCo's offers: ChillCo is not there for it.
    let bean_key = w.app.key("brand", Some("beanline")).await;
    assert_problem(&try_it(&w, &bean_key, &hot_regular()).await, 404);
    // Off every fence: nothing, in words.
    let mut river = hot_regular();
    river["lat"] = json!(RIVER.0);
    river["lon"] = json!(RIVER.1);
    let a = try_it(&w, &w.brand_key, &river).await;
    assert_eq!(a.body["reason"], "no-fence", "{}", a.body);
    assert!(a.body["candidates"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_input_is_named_at_the_field_and_support_may_not_try() {
    let w = world(true).await;
    let mut far = hot_regular();
    far["lat"] = json!(91);
    let a = try_it(&w, &w.brand_key, &far).await;
    assert_eq!(pointers(assert_problem(&a, 422)), ["/lat"]);
    let mut hot = hot_regular();
    hot["weather"]["temp_c"] = json!(75);
    let a = try_it(&w, &w.brand_key, &hot).await;
    assert_eq!(pointers(assert_problem(&a, 422)), ["/weather/temp_c"]);
    let mut sunny = hot_regular();
    sunny["weather"]["condition"] = json!("sunny");
    let a = try_it(&w, &w.brand_key, &sunny).await;
    assert_eq!(pointers(assert_problem(&a, 422)), ["/weather/condition"]);
    let mut who = hot_regular();
    who["person"]["persona"] = json!("celebrity");
    let a = try_it(&w, &w.brand_key, &who).await;
    assert_eq!(pointers(assert_problem(&a, 422)), ["/person/persona"]);
    let res = w
        .app
        .client
        .post(format!("{}/v1/brands/chillco/offers/try", w.app.base))
        .bearer_auth(&w.brand_key)
        .header("content-type", "application/json")
        .body("{\"lat\": ")
        .send()
        .await
        .unwrap();
    assert_problem(&read(res).await, 400);
    let support = w.app.key("support", None).await;
    assert_problem(&try_it(&w, &support, &hot_regular()).await, 403);
    let admin = try_it(&w, &w.app.admin_key.clone(), &hot_regular()).await;
    assert_eq!(admin.body["decision"], "offer", "{}", admin.body);
}
