//! The check-in decision through HTTP: the archetype and every way to get "none".
//!
//! About 690 lines: 18 scenarios of the one endpoint that decides, with the world each needs.

use crate::helpers::*;
use chrono::Duration;
use geoffer::clock::Clock;
use serde_json::{Value, json};
use std::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// 40.7490,-73.9860: API.md's check-in, 71 m from the store's centre.
const NEAR: (f64, f64) = (40.7490, -73.9860);
/// Middle of the Hudson: no fence anywhere near.
const RIVER: (f64, f64) = (40.7600, -74.0200);

fn open_meteo(temp: f64, code: u16) -> Value {
    json!({ "latitude": 40.75, "longitude": -73.99, "generationtime_ms": 0.05, "utc_offset_seconds": 0,
        "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 20.0,
        "current_units": {"time": "iso8601", "interval": "seconds", "temperature_2m": "°C", "apparent_temperature": "°C",
                          "precipitation": "mm", "weather_code": "wmo code", "is_day": ""},
        "current": {"time": "2026-07-14T19:00", "interval": 900, "temperature_2m": temp, "apparent_temperature": temp + 2.0,
                    "precipitation": 0.0, "weather_code": code, "is_day": 1} })
}

async fn weather(temp: f64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/forecast"))
        .respond_with(ResponseTemplate::new(200).set_body_json(open_meteo(temp, 1)))
        .mount(&server)
        .await;
    server
}

/// The archetype offer from API.md, without holdout (the holdout has its own test).
fn chilled_offer() -> Value {
    let mut o = offer();
    o["holdout_pct"] = json!(0);
    o
}

fn place_only_offer(value: f64) -> Value {
    json!({"name": "Two-for-one", "title": "Two-for-one", "body": "At {{ fence.name }}", "value": value,
           "targeting": {"fences": {"tags": ["corner-store"]}}, "caps": {"per_person": {"count": 1, "period_days": 14}}})
}

struct World {
    app: TestApp,
    app_key: String,
    brand_key: String,
}

async fn world(o: Options, offers: &[Value]) -> World {
    let app = spawn_app_with(o).await;
    let brand_key = app.brand_with_key("chillco").await;
    let f = app
        .post("/v1/brands/chillco/geofences", &brand_key, &circle_fence())
        .await;
    assert_eq!(f.status, 201);
    for offer in offers {
        let a = app
            .post("/v1/brands/chillco/offers", &brand_key, offer)
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let app_key = app.key("app", None).await;
    World {
        app,
        app_key,
        brand_key,
    }
}

/// Nine earlier visits, three days apart at 09:00 New York time (before the offer's hours).
async fn regular_visits(w: &World, user: &str) {
    let end = w.app.clock.now();
    for i in (1..=9).rev() {
        w.app
            .clock
            .set(end - Duration::days(3 * i) - Duration::hours(6));
        let a = w
            .app
            .checkin(
                &w.app_key,
                &format!("visit-{i}"),
                user,
                NEAR.0,
                NEAR.1,
                json!({}),
            )
            .await;
        assert_eq!(a.body["decision"], "none", "{}", a.body);
    }
    w.app.clock.set(end);
}

async fn archetype(temp: f64) -> (World, MockServer) {
    let server = weather(temp).await;
    let w = world(
        Options {
            weather_url: server.uri(),
            ..Default::default()
        },
        &[chilled_offer()],
    )
    .await;
    w.app.consent(&w.app_key, "u-123", true, true).await;
    w.app
        .seed_profile("u-123", &["chillco"], &["cold-drinks"])
        .await;
    regular_visits(&w, "u-123").await;
    (w, server)
}

#[tokio::test]
async fn a_regular_who_follows_the_brand_gets_the_chilled_drink_on_a_hot_afternoon() {
    let (w, _weather) = archetype(31.4).await;
    let a = w
        .app
        .checkin(
            &w.app_key,
            "hot-1",
            "u-123",
            NEAR.0,
            NEAR.1,
            json!({"speed_mps": 1.2, "activity": "walking"}),
        )
        .await;
    assert_eq!(a.body["decision"], "offer", "{}", a.body);
    let offer = &a.body["offer"];
    let body = offer["body"].as_str().unwrap();
    assert!(body.contains("Corner Store 5th Ave"), "{body}");
    assert!(body.contains("31"), "{body}");
    assert_eq!(offer["fence"]["name"], "Corner Store 5th Ave");
    assert!(
        offer["redemption_code"]
            .as_str()
            .unwrap()
            .starts_with("CHILL-")
    );
    assert_eq!(
        offer["expires_at"].as_str().unwrap(),
        "2026-07-14T23:00:00Z"
    );
    let trace = w.app.trace("hot-1").await;
    let habit = &trace["fences"][0]["habit_fence"];
    assert_eq!(habit["visits_28d"], 10, "{habit}");
    // The moment is kept for a later replay: the audience facts the rules read, typed outcomes.
    assert_eq!(trace["audience"]["follows"], json!(["chillco"]), "{trace}");
    assert_eq!(trace["audience"]["interests"], json!(["cold-drinks"]));
    assert_eq!(
        trace["candidates"][0]["result"],
        json!({"kind": "delivered", "replayed": false})
    );
}

#[tokio::test]
async fn the_same_regular_on_a_cool_day_gets_nothing_and_the_trace_names_the_weather_rule() {
    let (w, _weather) = archetype(18.0).await;
    let a = w
        .app
        .checkin(&w.app_key, "cool-1", "u-123", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(
        (a.body["decision"].as_str(), a.body["reason"].as_str()),
        (Some("none"), Some("no-eligible-offer")),
        "{}",
        a.body
    );
    let trace = w.app.trace("cool-1").await;
    let rules = trace["candidates"][0]["rules"].as_array().unwrap();
    let weather = rules
        .iter()
        .find(|r| r["rule"] == "weather.min_temp_c")
        .unwrap();
    assert_eq!(
        (
            weather["passed"].as_bool(),
            weather["expected"].as_f64(),
            weather["actual"].as_f64()
        ),
        (Some(false), Some(28.0), Some(18.0))
    );
    assert_eq!(weather["text"], "weather: needs ≥ 28 °C, was 18 °C");
    // Everything else about the moment was right: weather is the only failing rule.
    assert_eq!(
        trace["candidates"][0]["failed"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_user_without_location_consent_is_refused_and_nothing_is_stored() {
    let w = world(Options::default(), &[place_only_offer(1.0)]).await;
    let a = w
        .app
        .checkin(&w.app_key, "c-1", "stranger", NEAR.0, NEAR.1, json!({}))
        .await;
    let p = assert_problem(&a, 403);
    assert!(p["type"].as_str().unwrap().ends_with("consent-required"));
    w.app.consent(&w.app_key, "declined", false, false).await;
    let b = w
        .app
        .checkin(&w.app_key, "c-2", "declined", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_problem(&b, 403);
    assert_eq!(w.app.count_rows("decisions").await, 0);
    assert_eq!(w.app.count_rows("deliveries").await, 0);
}

#[tokio::test]
async fn a_driver_at_twenty_metres_a_second_gets_nothing() {
    let w = world(Options::default(), &[place_only_offer(1.0)]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let a = w
        .app
        .checkin(
            &w.app_key,
            "c-1",
            "u-1",
            NEAR.0,
            NEAR.1,
            json!({"speed_mps": 20.0}),
        )
        .await;
    assert_eq!(a.body["reason"], "in-motion", "{}", a.body);
    let b = w
        .app
        .checkin(
            &w.app_key,
            "c-2",
            "u-1",
            NEAR.0,
            NEAR.1,
            json!({"speed_mps": 0.0, "activity": "automotive"}),
        )
        .await;
    assert_eq!(b.body["reason"], "in-motion", "{}", b.body);
    // Walking past, the same person gets the offer.
    let c = w
        .app
        .checkin(
            &w.app_key,
            "c-3",
            "u-1",
            NEAR.0,
            NEAR.1,
            json!({"speed_mps": 1.3, "activity": "walking"}),
        )
        .await;
    assert_eq!(c.body["decision"], "offer", "{}", c.body);
}

#[tokio::test]
async fn eleven_at_night_local_time_is_quiet_hours() {
    let w = world(
        Options {
            now: "2026-07-15T03:00:00Z".parse().unwrap(),
            ..Default::default()
        },
        &[place_only_offer(1.0)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let a = w
        .app
        .checkin(&w.app_key, "late", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(a.body["reason"], "quiet-hours", "{}", a.body);
    assert_eq!(
        w.app.trace("late").await["fences"][0]["local_time"],
        "2026-07-14T23:00:00-04:00"
    );
}

#[tokio::test]
async fn slow_weather_costs_only_the_budget_and_skips_only_weather_gated_offers() {
    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/forecast"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(open_meteo(35.0, 0))
                .set_delay(std::time::Duration::from_secs(5)),
        )
        .mount(&slow)
        .await;
    let mut hot_only = place_only_offer(5.0);
    hot_only["name"] = json!("Hot days only");
    hot_only["targeting"]["weather"] = json!({"min_temp_c": 25});
    let w = world(
        Options {
            weather_url: slow.uri(),
            weather_budget_ms: 250,
            ..Default::default()
        },
        &[hot_only, place_only_offer(1.0)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let started = Instant::now();
    let a = w
        .app
        .checkin(&w.app_key, "slow-1", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    let took = started.elapsed();
    assert_eq!(a.body["offer"]["title"], "Two-for-one", "{}", a.body);
    // The upstream takes 5 s; the answer arrives once the 250 ms budget has run out.
    assert!(
        took < std::time::Duration::from_millis(1_500),
        "took {took:?}"
    );
    let trace = w.app.trace("slow-1").await;
    assert_eq!(
        (
            trace["weather"]["known"].as_bool(),
            trace["weather"]["reason"].as_str()
        ),
        (Some(false), Some("timeout"))
    );
}

#[tokio::test]
async fn weather_upstream_down_skips_only_weather_gated_offers() {
    let down = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&down)
        .await;
    let mut hot_only = place_only_offer(5.0);
    hot_only["targeting"]["weather"] = json!({"min_temp_c": 25});
    let w = world(
        Options {
            weather_url: down.uri(),
            ..Default::default()
        },
        &[hot_only, place_only_offer(1.0)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let a = w
        .app
        .checkin(&w.app_key, "down-1", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(a.body["offer"]["title"], "Two-for-one", "{}", a.body);
    let trace = w.app.trace("down-1").await;
    let texts: Vec<&str> = trace["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["failed"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
        })
        .collect();
    assert!(
        texts.iter().any(|t| t.starts_with("weather: unknown")),
        "{texts:?}"
    );
}

#[tokio::test]
async fn a_retried_checkin_gets_the_same_answer_one_record_and_one_cap_use() {
    let mut twice = place_only_offer(1.0);
    twice["caps"] = json!({"per_person": {"count": 2, "period_days": 30}});
    let w = world(Options::default(), &[twice]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let (a, b) = tokio::join!(
        w.app
            .checkin(&w.app_key, "dup", "u-1", NEAR.0, NEAR.1, json!({})),
        w.app
            .checkin(&w.app_key, "dup", "u-1", NEAR.0, NEAR.1, json!({}))
    );
    assert_eq!(a.body["decision"], "offer", "{}", a.body);
    assert_eq!(a.body, b.body);
    let again = w
        .app
        .checkin(&w.app_key, "dup", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(a.body, again.body);
    assert_eq!(w.app.count_rows("decisions").await, 1);
    assert_eq!(w.app.count_rows("deliveries").await, 1);
    // The offer allows two deliveries: the retries used one, so one more is left, then none.
    w.app
        .clock
        .advance(std::time::Duration::from_secs(8 * 86_400));
    let second = w
        .app
        .checkin(&w.app_key, "later", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(second.body["decision"], "offer", "{}", second.body);
    w.app
        .clock
        .advance(std::time::Duration::from_secs(8 * 86_400));
    let third = w
        .app
        .checkin(&w.app_key, "latest", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(third.body["reason"], "capped", "{}", third.body);
}

#[tokio::test]
async fn a_checkin_id_reused_for_a_different_report_is_refused_not_decided_again() {
    let w = world(Options::default(), &[place_only_offer(1.0)]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let driving = w
        .app
        .checkin(
            &w.app_key,
            "same-id",
            "u-1",
            NEAR.0,
            NEAR.1,
            json!({"activity": "automotive"}),
        )
        .await;
    assert_eq!(driving.body["reason"], "in-motion", "{}", driving.body);
    // The same id with "walking" is another report, not a retry: it would get an offer as
    // a new check-in, so it is refused (409) and nothing is decided or delivered.
    let reused = w
        .app
        .checkin(
            &w.app_key,
            "same-id",
            "u-1",
            NEAR.0,
            NEAR.1,
            json!({"activity": "walking"}),
        )
        .await;
    let p = assert_problem(&reused, 409);
    assert!(
        p["type"].as_str().unwrap().ends_with("checkin-id-reused"),
        "{p}"
    );
    assert_eq!(w.app.count_rows("decisions").await, 1);
    assert_eq!(w.app.count_rows("deliveries").await, 0);
}

#[tokio::test]
async fn a_stale_checkin_feeds_habits_but_never_triggers_an_offer() {
    let w = world(Options::default(), &[place_only_offer(1.0)]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let now = w.app.clock.now();
    for (i, days) in [9, 6, 3].iter().enumerate() {
        let recorded = now - Duration::days(*days) - Duration::minutes(20);
        let body = json!({"checkin_id": format!("old-{i}"), "user_id": "u-1", "lat": NEAR.0, "lon": NEAR.1,
                          "accuracy_m": 15, "recorded_at": recorded.to_rfc3339()});
        let a = w.app.post("/v1/checkins", &w.app_key, &body).await;
        assert_eq!(a.body["reason"], "stale", "{}", a.body);
    }
    assert_eq!(w.app.count_rows("deliveries").await, 0);
    let fresh = w
        .app
        .checkin(&w.app_key, "fresh", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(fresh.body["decision"], "offer");
    assert_eq!(
        w.app.trace("fresh").await["fences"][0]["habit_fence"]["visits_28d"],
        4
    );
}

#[tokio::test]
async fn a_checkin_outside_every_fence_answers_none_and_keeps_nothing() {
    let w = world(Options::default(), &[place_only_offer(1.0)]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let a = w
        .app
        .checkin(&w.app_key, "river", "u-1", RIVER.0, RIVER.1, json!({}))
        .await;
    assert_eq!(
        a.body,
        json!({"decision": "none", "reason": "no-fence", "checkin_id": "river"})
    );
    assert_eq!(w.app.count_rows("decisions").await, 0);
    assert_problem(
        &w.app.get("/v1/decisions/river", &w.app.admin_key).await,
        404,
    );
}

#[tokio::test]
async fn a_poor_accuracy_report_does_not_match_a_fence_that_asks_for_better() {
    let w = world(Options::default(), &[place_only_offer(1.0)]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let a = w
        .app
        .checkin(
            &w.app_key,
            "fuzzy",
            "u-1",
            NEAR.0,
            NEAR.1,
            json!({"accuracy_m": 400}),
        )
        .await;
    assert_eq!(a.body["reason"], "no-fence", "{}", a.body);
}

#[tokio::test]
async fn without_personalization_consent_habits_are_neither_kept_nor_used() {
    let w = world(
        Options::default(),
        &[chilled_offer(), place_only_offer(0.1)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, false).await;
    w.app
        .seed_profile("u-1", &["chillco"], &["cold-drinks"])
        .await;
    let a = w
        .app
        .checkin(&w.app_key, "c-1", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(a.body["offer"]["title"], "Two-for-one", "{}", a.body);
    let trace = w.app.trace("c-1").await;
    assert!(trace["fences"][0]["habit_fence"].is_null());
    assert_eq!(trace["context"]["personalization"], false);
}

#[tokio::test]
async fn a_person_in_the_holdout_gets_none_and_the_decision_says_so() {
    let mut held = place_only_offer(1.0);
    held["holdout_pct"] = json!(50);
    let w = world(Options::default(), &[held]).await;
    let offers = w.app.get("/v1/brands/chillco/offers", &w.brand_key).await;
    let offer_id = offers.body["items"][0]["id"].as_str().unwrap().to_string();
    let user = (0..100)
        .map(|i| format!("u-{i}"))
        .find(|u| {
            let person = geoffer::people::PersonId::of(geoffer::auth::DEFAULT_APP, u);
            geoffer::checkins::scoring::held_out(person.as_str(), &offer_id, 50.0)
        })
        .unwrap();
    w.app.consent(&w.app_key, &user, true, true).await;
    let a = w
        .app
        .checkin(&w.app_key, "h-1", &user, NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(a.body["reason"], "held-out", "{}", a.body);
    assert_eq!(
        w.app.trace("h-1").await["candidates"][0]["outcome"],
        "held out (50% holdout)"
    );
    assert_eq!(w.app.count_rows("deliveries").await, 0);
}

#[tokio::test]
async fn a_second_offer_the_same_day_is_capped_and_scoring_prefers_the_richer_moment() {
    let server = weather(30.0).await;
    let mut hot = place_only_offer(1.0);
    hot["name"] = json!("Hot");
    hot["title"] = json!("Hot at {{ weather.temp_c | round }}°C");
    hot["targeting"]["weather"] = json!({"min_temp_c": 25});
    let w = world(
        Options {
            weather_url: server.uri(),
            ..Default::default()
        },
        &[place_only_offer(1.0), hot],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let a = w
        .app
        .checkin(&w.app_key, "c-1", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(a.body["offer"]["title"], "Hot at 30.0°C", "{}", a.body);
    w.app.clock.advance(std::time::Duration::from_secs(3_600));
    let b = w
        .app
        .checkin(&w.app_key, "c-2", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(b.body["reason"], "capped", "{}", b.body);
    let trace = w.app.trace("c-2").await;
    assert_eq!(
        trace["limiter"][0]["denial"]["cap"], "person-day",
        "{trace}"
    );
}

#[tokio::test]
async fn a_fence_created_through_the_api_matches_within_a_second_and_stops_after_delete() {
    let w = world(Options::default(), &[]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let far = (51.5007, -0.1246);
    let mut fence = circle_fence();
    fence["geometry"]["coordinates"] = json!([far.1, far.0]);
    fence["properties"]["external_id"] = json!("london");
    fence["properties"]["timezone"] = json!("Europe/London");
    let created = w
        .app
        .post("/v1/brands/chillco/geofences", &w.brand_key, &fence)
        .await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let mut n = 0;
    let matched = loop {
        n += 1;
        let a = w
            .app
            .checkin(
                &w.app_key,
                &format!("probe-{n}"),
                "u-1",
                far.0,
                far.1,
                json!({}),
            )
            .await;
        if a.body["reason"] != "no-fence" || n > 50 {
            break a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        matched.body["reason"], "no-eligible-offer",
        "{}",
        matched.body
    );
    w.app
        .delete(&format!("/v1/brands/chillco/geofences/{id}"), &w.brand_key)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let after = w
        .app
        .checkin(&w.app_key, "after-delete", "u-1", far.0, far.1, json!({}))
        .await;
    assert_eq!(after.body["reason"], "no-fence", "{}", after.body);
}

#[tokio::test]
async fn invalid_reports_are_named_and_change_nothing() {
    let w = world(Options::default(), &[place_only_offer(1.0)]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    for (field, value) in [
        ("lat", json!(91)),
        ("accuracy_m", json!(0)),
        ("accuracy_m", json!(6000)),
        ("recorded_at", json!("2026-07-14T19:05:00Z")),
        ("activity", json!("flying")),
    ] {
        let mut extra = json!({});
        extra[field] = value;
        let a = w
            .app
            .checkin(&w.app_key, "bad", "u-1", NEAR.0, NEAR.1, extra)
            .await;
        assert_eq!(
            pointers(assert_problem(&a, 422)),
            vec![format!("/{field}")],
            "{field}"
        );
    }
    assert_eq!(w.app.count_rows("decisions").await, 0);
}

#[tokio::test]
async fn only_app_keys_check_in_and_user_ids_are_scoped_to_their_app() {
    let w = world(Options::default(), &[place_only_offer(1.0)]).await;
    assert_problem(
        &w.app
            .checkin(&w.brand_key, "c", "u-1", NEAR.0, NEAR.1, json!({}))
            .await,
        403,
    );
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let other = w
        .app
        .post(
            "/v1/keys",
            &w.app.admin_key,
            &json!({"role": "app", "app": "other-app"}),
        )
        .await;
    let other_key = other.body["key"].as_str().unwrap();
    // The same user id in another app is another person, who has not consented.
    assert_problem(
        &w.app
            .checkin(other_key, "c", "u-1", NEAR.0, NEAR.1, json!({}))
            .await,
        403,
    );
    let c = w.app.get("/v1/users/u-1/consent", other_key).await;
    assert_eq!(c.body["location"], false);
}
