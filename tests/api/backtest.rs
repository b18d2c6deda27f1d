//! The backtest: an offer replayed on a brand's recorded decisions, caps on a virtual limiter.

use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use geoffer::clock::Clock;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// 71 m from ChillCo's corner store (inside its fence, and not in BeanLine's).
const STORE: (f64, f64) = (40.7490, -73.9860);
/// BeanLine's café, about 1.5 km north: no ChillCo fence there.
const CAFE: (f64, f64) = (40.7620, -73.9800);

/// A place offer for the corner store, open 11:00-19:00 New York time.
fn hello() -> Value {
    json!({"name": "Hello", "title": "Hello", "body": "At {{ fence.name }}", "value": 1.0,
           "targeting": {"fences": {"tags": ["corner-store"]},
                         "schedule": {"hours": [{"from": "11:00", "to": "19:00"}]}},
           "caps": {"per_person": {"count": 1, "period_days": 2}}})
}

struct World {
    app: TestApp,
    chill_key: String,
    app_key: String,
    hello_id: String,
    start: DateTime<Utc>,
    /// ChillCo's live deliveries during the period, by user.
    live: Vec<String>,
}

/// ChillCo's corner store and BeanLine's café, each with a place offer; people check in at
/// both over five days. Before the period, `u-early` got ChillCo's offer, which holds the
/// brand's 7-day cap into the period; during it, BeanLine's deliveries hold the person-day
/// cap against ChillCo's offer.
async fn world() -> World {
    let app = spawn_app().await;
    let start = app.clock.now();
    let chill_key = app.brand_with_key("chillco").await;
    let f = app
        .post("/v1/brands/chillco/geofences", &chill_key, &circle_fence())
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    let o = app
        .post("/v1/brands/chillco/offers", &chill_key, &hello())
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    let hello_id = o.body["id"].as_str().unwrap().to_string();
    let bean_key = app.brand_with_key("beanline").await;
    let mut cafe = circle_fence();
    cafe["geometry"]["coordinates"] = json!([CAFE.1, CAFE.0]);
    cafe["properties"]["name"] = json!("BeanLine Café");
    cafe["properties"]["tags"] = json!(["cafe"]);
    cafe["properties"]["external_id"] = json!("cafe-1");
    let f = app
        .post("/v1/brands/beanline/geofences", &bean_key, &cafe)
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    let bean = json!({"name": "Bean deal", "title": "Coffee", "body": "At {{ fence.name }}", "value": 2.0});
    let o = app
        .post("/v1/brands/beanline/offers", &bean_key, &bean)
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    let app_key = app.key("app", None).await;
    let users = ["u-early", "u-1", "u-2", "u-3", "u-4", "u-5"];
    for u in users {
        app.consent(&app_key, u, true, true).await;
    }
    // Before the period: u-early is served at the store (holds person-brand for 7 days).
    let a = app
        .checkin(&app_key, "pre-1", "u-early", STORE.0, STORE.1, json!({}))
        .await;
    assert_eq!(a.body["decision"], "offer", "{}", a.body);
    let mut live = Vec::new();
    let mut n = 0;
    for day in 1..=4 {
        // 15:00 in New York each day; the café first, then the store an hour later.
        app.clock.set(start + Duration::days(day));
        for u in ["u-1", "u-3"] {
            n += 1;
            let a = app
                .checkin(&app_key, &format!("c-{n}"), u, CAFE.0, CAFE.1, json!({}))
                .await;
            assert_eq!(a.status, 200, "{}", a.body);
        }
        app.clock
            .set(start + Duration::days(day) + Duration::hours(1));
        for u in users {
            n += 1;
            let a = app
                .checkin(&app_key, &format!("c-{n}"), u, STORE.0, STORE.1, json!({}))
                .await;
            assert_eq!(a.status, 200, "{}", a.body);
            if a.body["decision"] == "offer" {
                live.push(u.to_string());
            }
        }
    }
    World {
        app,
        chill_key,
        app_key,
        hello_id,
        start,
        live,
    }
}

impl World {
    fn period(&self) -> (String, String) {
        (
            (self.start + Duration::hours(12)).to_rfc3339(),
            (self.start + Duration::days(6)).to_rfc3339(),
        )
    }

    async fn backtest(&self, offer: Value, offer_id: Option<&str>) -> Value {
        let (from, to) = self.period();
        let mut body = json!({"offer": offer, "from": from, "to": to});
        if let Some(id) = offer_id {
            body["offer_id"] = json!(id);
        }
        let a = self
            .app
            .post("/v1/brands/chillco/offers/backtest", &self.chill_key, &body)
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }
}

#[tokio::test]
async fn a_backtest_of_the_live_offer_reproduces_its_deliveries() {
    let w = world().await;
    // The world is what the test says: caps bound live (u-early all period, the café's
    // deliveries on the day), and the offer still went out more than once.
    assert!(!w.live.contains(&"u-early".to_string()), "{:?}", w.live);
    let people: BTreeSet<&String> = w.live.iter().collect();
    assert!(w.live.len() >= 4 && people.len() >= 3, "{:?}", w.live);
    let b = w.backtest(hello(), Some(&w.hello_id)).await;
    // docs/backtest.md's worked example is this answer (`-- --nocapture` prints it).
    eprintln!("{b:#}");
    let live = w.live.len() as u64;
    assert_eq!(b["live_deliveries"], live, "{b:#}");
    assert_eq!(b["deliveries"], live, "{b:#}");
    // Same check-ins, so the same people: every replayed delivery is a live one.
    assert_eq!(b["reproduced"], live, "{b:#}");
    assert_eq!(b["people_reached"], people.len() as u64, "{b:#}");
    assert_eq!(b["truncated"], false);
    // 4 days × (6 at the store) = 24 check-ins at ChillCo's fence; the café's are not its.
    assert_eq!(b["checkins_considered"], 24, "{b:#}");
    let caps: Vec<&str> = b["caps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        caps.contains(&"person-brand") && caps.contains(&"person-day"),
        "{b:#}"
    );
    assert!(b["summary"].as_str().unwrap().contains("reached"), "{b:#}");
}

#[tokio::test]
async fn tightening_a_rule_reduces_reach_and_names_it_binding() {
    let w = world().await;
    let live = w.backtest(hello(), Some(&w.hello_id)).await;
    let mut tight = hello();
    // The check-ins are at 15:00 local; evenings only now.
    tight["targeting"]["schedule"]["hours"] = json!([{"from": "17:00", "to": "21:00"}]);
    let b = w.backtest(tight, Some(&w.hello_id)).await;
    assert!(
        b["people_reached"].as_u64() < live["people_reached"].as_u64(),
        "{b:#}"
    );
    assert_eq!(b["deliveries"], 0, "{b:#}");
    assert_eq!(b["binding_rule"], "schedule.hours", "{b:#}");
    assert_eq!(b["rule_failures"][0]["count"], 24, "{b:#}");
    // The same tightening as a new offer beside the live one: it never gets a delivery
    // either, and displaces nothing.
    let mut new = hello();
    new["name"] = json!("Evening hello");
    new["targeting"]["schedule"]["hours"] = json!([{"from": "17:00", "to": "21:00"}]);
    let b = w.backtest(new, None).await;
    assert_eq!(b["deliveries"], 0, "{b:#}");
    assert!(b["live_deliveries"].is_null());
    assert_eq!(b["displaced"], json!([]));
}

#[tokio::test]
async fn an_erased_person_is_absent_from_every_backtest() {
    let w = world().await;
    let before = w.backtest(hello(), Some(&w.hello_id)).await;
    let mut other = hello();
    other["name"] = json!("Another hello");
    other["value"] = json!(5.0);
    let before_new = w.backtest(other.clone(), None).await;
    assert!(w.live.contains(&"u-2".to_string()), "{:?}", w.live);
    let del = w.app.delete("/v1/users/u-2", &w.app_key).await;
    assert_eq!(del.status, 202, "{}", del.body);
    for (b, was) in [
        (w.backtest(hello(), Some(&w.hello_id)).await, before),
        (w.backtest(other, None).await, before_new),
    ] {
        // u-2's four check-ins at the store are gone, and so is the person.
        assert_eq!(
            b["checkins_considered"].as_u64().unwrap(),
            was["checkins_considered"].as_u64().unwrap() - 4,
            "{b:#}"
        );
        assert_eq!(
            b["people_reached"].as_u64().unwrap(),
            was["people_reached"].as_u64().unwrap() - 1,
            "{b:#}"
        );
    }
}

#[tokio::test]
async fn a_new_offer_holds_out_the_same_people_in_two_backtests() {
    let w = world().await;
    let mut half = hello();
    half["name"] = json!("Half held out");
    half["value"] = json!(5.0);
    half["holdout_pct"] = json!(50);
    let first = w.backtest(half.clone(), None).await;
    // Some people are held out and some not (those met the caps instead).
    let held = first["held_out"].as_u64().unwrap();
    assert!(held > 0 && held < 24, "{first:#}");
    // Its id comes from the brand and the offer as sent, so the holdout splits alike.
    assert_eq!(w.backtest(half, None).await, first);
}

#[tokio::test]
async fn a_bad_period_or_another_brand_is_refused() {
    let w = world().await;
    let (from, to) = w.period();
    let path = "/v1/brands/chillco/offers/backtest";
    let reversed = json!({"offer": hello(), "from": to, "to": from});
    let a = w.app.post(path, &w.chill_key, &reversed).await;
    assert_problem(&a, 422);
    assert_eq!(pointers(&a.body), ["/to"]);
    let long =
        json!({"offer": hello(), "from": (w.start - Duration::days(200)).to_rfc3339(), "to": to});
    let a = w.app.post(path, &w.chill_key, &long).await;
    assert_problem(&a, 422);
    assert_eq!(pointers(&a.body), ["/from", "/to"]);
    let mut bad = hello();
    bad["value"] = json!(-1);
    let a = w
        .app
        .post(
            path,
            &w.chill_key,
            &json!({"offer": bad, "from": from, "to": to, "offer_id": uuid::Uuid::nil()}),
        )
        .await;
    assert_problem(&a, 422);
    assert_eq!(pointers(&a.body), ["/offer/value", "/offer_id"]);
    let bean_key = w.app.key("brand", Some("beanline")).await;
    let ok = json!({"offer": hello(), "from": from, "to": to});
    assert_problem(&w.app.post(path, &bean_key, &ok).await, 404);
    let support = w.app.key("support", None).await;
    assert_problem(&w.app.post(path, &support, &ok).await, 403);
}

/// Open-Meteo's answer: 31 °C and clear.
fn hot_weather() -> Value {
    json!({ "latitude": 40.75, "longitude": -73.99, "generationtime_ms": 0.05, "utc_offset_seconds": 0,
        "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 20.0,
        "current": {"time": "2026-07-14T19:00", "interval": 900, "temperature_2m": 31.0,
                    "apparent_temperature": 33.0, "precipitation": 0.0, "weather_code": 1, "is_day": 1} })
}

#[tokio::test]
async fn a_weather_offer_gets_the_weather_from_the_log_where_no_decision_fetched_it() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/v1/forecast"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(hot_weather()))
        .mount(&server)
        .await;
    let app = spawn_app_with(Options {
        weather_url: server.uri(),
        ..Default::default()
    })
    .await;
    let start = app.clock.now();
    let chill_key = app.brand_with_key("chillco").await;
    let f = app
        .post("/v1/brands/chillco/geofences", &chill_key, &circle_fence())
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    let o = app
        .post("/v1/brands/chillco/offers", &chill_key, &hello())
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    // FrostCo's kiosk, 270 m south of the store, in the same ~5 km weather cell; its offer
    // asks for the weather, so a check-in there fetches it (and the log keeps the hour).
    let frost_key = app.brand_with_key("frostco").await;
    let mut kiosk = circle_fence();
    kiosk["geometry"]["coordinates"] = json!([-73.9857, 40.7460]);
    kiosk["properties"]["name"] = json!("FrostCo Kiosk");
    kiosk["properties"]["tags"] = json!(["kiosk"]);
    kiosk["properties"]["external_id"] = json!("kiosk-1");
    kiosk["properties"]["radius_m"] = json!(60);
    let f = app
        .post("/v1/brands/frostco/geofences", &frost_key, &kiosk)
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    let ice = json!({"name": "Ice", "title": "Ice", "body": "At {{ fence.name }}", "value": 1.0,
        "targeting": {"fences": {"tags": ["kiosk"]}, "weather": {"min_temp_c": 25}}});
    let o = app
        .post("/v1/brands/frostco/offers", &frost_key, &ice)
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    let app_key = app.key("app", None).await;
    for u in ["u-kiosk", "u-1", "u-2"] {
        app.consent(&app_key, u, true, true).await;
    }
    // Day 1: someone at the kiosk, then two people at the store in the same hour. Day 2:
    // the same two at the store, nobody at the kiosk, so no weather that hour.
    let mut n = 0;
    for day in 1..=2 {
        app.clock.set(start + Duration::days(day));
        if day == 1 {
            let a = app
                .checkin(&app_key, "k-1", "u-kiosk", 40.7460, -73.9857, json!({}))
                .await;
            assert_eq!(a.body["decision"], "offer", "{}", a.body);
        }
        for u in ["u-1", "u-2"] {
            n += 1;
            let a = app
                .checkin(&app_key, &format!("c-{n}"), u, STORE.0, STORE.1, json!({}))
                .await;
            assert_eq!(a.status, 200, "{}", a.body);
        }
    }
    let mut hot_hello = hello();
    hot_hello["name"] = json!("Hot hello");
    hot_hello["value"] = json!(5.0);
    hot_hello["targeting"]["weather"] = json!({"min_temp_c": 25});
    let body = json!({"offer": hot_hello,
        "from": (start + Duration::hours(12)).to_rfc3339(),
        "to": (start + Duration::days(3)).to_rfc3339()});
    let b = app
        .post("/v1/brands/chillco/offers/backtest", &chill_key, &body)
        .await;
    assert_eq!(b.status, 200, "{}", b.body);
    let b = b.body;
    assert_eq!(b["candidate_checkins"], 4, "{b:#}");
    // No store decision fetched the weather (only a trace without it is read from the log).
    // Day 1 from the log (31 °C): both delivered; day 2 had no weather anywhere.
    assert_eq!(b["weather_logged"], 2, "{b:#}");
    assert_eq!(b["weather_missing"], 2, "{b:#}");
    assert_eq!(b["deliveries"], 2, "{b:#}");
    assert_eq!(b["people_reached"], 2, "{b:#}");
    assert_eq!(b["per_day"][0]["deliveries"], 2, "{b:#}");
    assert!(
        b["binding_rule"].as_str().unwrap().starts_with("weather"),
        "{b:#}"
    );
}
