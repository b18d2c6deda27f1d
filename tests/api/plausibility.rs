//! Plausibility (issue 19): a jump faster than anyone travels, a report the SDK marks as
//! mocked, or one device reporting for distant users gets `implausible-location` and no offer,
//! counted in metrics and explained to support. A walk between two nearby stores does not.

use crate::helpers::*;
use crate::support::redis_server::RedisServer;
use serde_json::{Value, json};
use std::time::Duration;

/// API.md's check-in, 71 m from the Manhattan store's centre.
const MANHATTAN: (f64, f64) = (40.7490, -73.9860);
/// About 840 m east of the Manhattan store: a block or two's walk.
const A_WALK_AWAY: (f64, f64) = (40.7484, -73.9757);
/// 10.67° of longitude west of the Manhattan store on its parallel: about 900 km away.
const FAR_WEST: (f64, f64) = (40.7484, -84.6557);

fn store(name: &str, (lat, lon): (f64, f64)) -> Value {
    json!({ "type": "Feature",
        "geometry": { "type": "Point", "coordinates": [lon, lat] },
        "properties": { "name": name, "radius_m": 120, "timezone": "America/New_York",
                        "tags": ["corner-store"], "max_accuracy_m": 100 } })
}

/// Offers at every store, several a day, so that only plausibility can say no; the day starts
/// at 09:00 in New York, so that six hours later is not yet quiet hours.
fn generous() -> Options {
    Options {
        now: "2026-07-14T13:00:00Z".parse().unwrap(),
        tweak: |s| {
            s.cap_person_day = 10;
            s.cap_person_week = 10;
            s.cap_person_brand = 10;
        },
        ..Default::default()
    }
}

struct World {
    app: TestApp,
    app_key: String,
    support_key: String,
}

/// Three stores of one brand (Manhattan, a walk away, 900 km west) with a place-only offer,
/// and people with location consent (personalization as given).
async fn world(o: Options, people: &[(&str, bool)]) -> World {
    let app = spawn_app_with(o).await;
    let brand_key = app.brand_with_key("chillco").await;
    for (name, at) in [
        ("Corner Store 5th Ave", MANHATTAN),
        ("Corner Store Madison", A_WALK_AWAY),
        ("Corner Store Lima", FAR_WEST),
    ] {
        let f = app
            .post("/v1/brands/chillco/geofences", &brand_key, &store(name, at))
            .await;
        assert_eq!(f.status, 201, "{}", f.body);
    }
    let offer = json!({"name": "Two-for-one", "title": "Two-for-one", "body": "At {{ fence.name }}",
        "value": 1.0, "targeting": {"fences": {"tags": ["corner-store"]}},
        "caps": {"per_person": {"count": 10, "period_days": 1}}});
    let a = app
        .post("/v1/brands/chillco/offers", &brand_key, &offer)
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let app_key = app.key("app", None).await;
    for (user, personalization) in people {
        app.consent(&app_key, user, true, *personalization).await;
    }
    let support_key = app.key("support", None).await;
    World {
        app,
        app_key,
        support_key,
    }
}

impl World {
    async fn at(&self, id: &str, user: &str, (lat, lon): (f64, f64), extra: Value) -> Value {
        let a = self
            .app
            .checkin(&self.app_key, id, user, lat, lon, extra)
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    async fn decision(&self, id: &str) -> Value {
        let a = self
            .app
            .get(&format!("/v1/decisions/{id}"), &self.support_key)
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    async fn metrics(&self) -> String {
        let res = self.app.client.get(format!("{}/metrics", self.app.base));
        res.send().await.unwrap().text().await.unwrap()
    }

    fn wait(&self, minutes: u64) {
        self.app.clock.advance(Duration::from_secs(minutes * 60));
    }
}

async fn a_jump_of_900_km_in_ten_minutes(o: Options, personalization: bool) {
    let w = world(o, &[("u-1", personalization)]).await;
    let first = w.at("c-1", "u-1", MANHATTAN, json!({})).await;
    assert_eq!(first["decision"], "offer", "{first}");
    w.wait(10);
    let jump = w.at("c-2", "u-1", FAR_WEST, json!({})).await;
    assert_eq!(jump["decision"], "none", "{jump}");
    assert_eq!(jump["reason"], "implausible-location", "{jump}");
    assert!(jump.get("offer").is_none());
    // Support sees why, in words and typed in the trace.
    let d = w.decision("c-2").await;
    let summary = d["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("No offer: the location was implausible: 89")
            && summary.contains("km from the person's check-in inside a fence 10 min earlier")
            && summary.contains("above the 300 km/h limit"),
        "{summary}"
    );
    let trace = &d["trace"];
    assert_eq!(trace["implausible"]["check"], "speed", "{trace}");
    let km = trace["implausible"]["distance_m"].as_f64().unwrap() / 1000.0;
    assert!((895.0..900.0).contains(&km), "{km} km");
    assert!(trace["implausible"].get("lat").is_none());
    assert!(
        w.metrics()
            .await
            .contains("geoffer_implausible_checkins_total{check=\"speed\"} 1")
    );
    let m = w.metrics().await;
    assert!(
        m.contains("geoffer_decisions_total{decision=\"none\",reason=\"implausible-location\"} 1"),
        "{m}"
    );
    // The jump is where the person is now: the next report there is plausible again.
    w.wait(10);
    let settled = w.at("c-3", "u-1", FAR_WEST, json!({})).await;
    assert_eq!(settled["decision"], "offer", "{settled}");
}

#[tokio::test]
async fn a_900_km_jump_in_ten_minutes_gets_implausible_location_and_no_offer() {
    a_jump_of_900_km_in_ten_minutes(generous(), true).await;
}

#[tokio::test]
async fn the_jump_is_caught_without_personalization_consent_too() {
    a_jump_of_900_km_in_ten_minutes(generous(), false).await;
}

#[tokio::test]
async fn the_jump_is_caught_with_the_hot_state_in_redis_with_and_without_personalization() {
    let redis = RedisServer::start();
    for personalization in [true, false] {
        let o = Options {
            redis_url: Some(redis.url()),
            limiter_timeout_ms: 1_000,
            ..generous()
        };
        a_jump_of_900_km_in_ten_minutes(o, personalization).await;
    }
}

#[tokio::test]
async fn a_walk_between_two_nearby_stores_is_plausible() {
    let w = world(generous(), &[("u-1", true)]).await;
    let first = w.at("c-1", "u-1", MANHATTAN, json!({})).await;
    assert_eq!(first["decision"], "offer", "{first}");
    w.wait(8);
    let next = w.at("c-2", "u-1", A_WALK_AWAY, json!({})).await;
    assert_eq!(next["decision"], "offer", "{next}");
    // Six hours later the first sighting is forgotten, so even a jump is not compared.
    w.wait(6 * 60);
    let later = w.at("c-3", "u-1", FAR_WEST, json!({})).await;
    assert_eq!(later["decision"], "offer", "{later}");
}

#[tokio::test]
async fn a_mocked_report_gets_implausible_location_and_feeds_no_habits() {
    let w = world(generous(), &[("u-1", true)]).await;
    let mocked = w
        .at("c-1", "u-1", MANHATTAN, json!({"is_mocked": true}))
        .await;
    assert_eq!(mocked["reason"], "implausible-location", "{mocked}");
    let d = w.decision("c-1").await;
    assert_eq!(
        d["summary"],
        "No offer: the location was implausible: the app reported the location as mocked."
    );
    assert_eq!(d["trace"]["implausible"], json!({"check": "mocked"}));
    assert_eq!(d["trace"]["context"]["is_mocked"], true);
    // Neither a visit nor a sighting came of it: the next report's habits start from nothing,
    // and a jump from the mocked place is not compared.
    w.wait(10);
    let real = w
        .at("c-2", "u-1", FAR_WEST, json!({"is_mocked": false}))
        .await;
    assert_eq!(real["decision"], "offer", "{real}");
    let trace = w.app.trace("c-2").await;
    assert_eq!(
        trace["fences"][0]["habit_fence"]["visits_28d"], 1,
        "{trace}"
    );
    assert!(
        w.metrics()
            .await
            .contains("geoffer_implausible_checkins_total{check=\"mocked\"} 1")
    );
}

#[tokio::test]
async fn one_device_reporting_for_a_distant_user_is_implausible() {
    let w = world(generous(), &[("u-1", false), ("u-2", false), ("u-3", true)]).await;
    let phone = json!({"device_id": "d-1"});
    let first = w.at("c-1", "u-1", MANHATTAN, phone.clone()).await;
    assert_eq!(first["decision"], "offer", "{first}");
    w.wait(5);
    let other = w.at("c-2", "u-2", FAR_WEST, phone.clone()).await;
    assert_eq!(other["reason"], "implausible-location", "{other}");
    let d = w.decision("c-2").await;
    assert_eq!(d["trace"]["implausible"]["check"], "shared-device");
    assert!(
        d["summary"]
            .as_str()
            .unwrap()
            .contains("the same device reported for another user 898 km away 5 min earlier"),
        "{}",
        d["summary"]
    );
    // The other user's fence is not named in this person's decision.
    assert!(d["trace"]["implausible"].get("from_fence").is_none());
    // A family sharing a phone in one place is fine: the device was last used there by u-2.
    w.wait(5);
    let family = w.at("c-3", "u-3", FAR_WEST, phone).await;
    assert_eq!(family["decision"], "offer", "{family}");
}
