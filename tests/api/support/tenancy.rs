//! Support reads across brands, a brand only its own, an app none; support writes nothing.

use super::world::*;
use crate::helpers::*;
use chrono::Duration;
use geoffer::clock::Clock;
use serde_json::{Value, json};

/// Adds brand `beanline` with a store at `at` and one offer; returns its key.
async fn beanline(w: &World, at: (f64, f64), value: f64) -> String {
    let key = w.app.brand_with_key("beanline").await;
    let mut fence = circle_fence();
    fence["geometry"]["coordinates"] = json!([at.1, at.0]);
    fence["properties"]["name"] = json!("Beanline Roastery");
    let f = w
        .app
        .post("/v1/brands/beanline/geofences", &key, &fence)
        .await;
    assert_eq!(f.status, 201, "{}", f.body);
    let o = w
        .app
        .post(
            "/v1/brands/beanline/offers",
            &key,
            &place_offer("Coffee", value),
        )
        .await;
    assert_eq!(o.status, 201, "{}", o.body);
    key
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["brand"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_brand_reads_only_its_own_deliveries_decisions_and_timeline_entries() {
    let w = world(Options::default(), &[place_offer("Two-for-one", 1.0)]).await;
    let bean_key = beanline(&w, SQUARE, 1.0).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let chill = w.checkin("c-chill", "u-1", json!({})).await;
    w.app.clock.set(w.app.clock.now() + Duration::hours(25));
    let bean = w
        .app
        .checkin(&w.app_key, "c-bean", "u-1", SQUARE.0, SQUARE.1, json!({}))
        .await
        .body;
    assert_eq!(
        (chill["decision"].as_str(), bean["decision"].as_str()),
        (Some("offer"), Some("offer"))
    );
    let bean_delivery = bean["offer"]["delivery_id"].as_str().unwrap();
    let (key, app) = (&w.brand_key, &w.app);

    assert_eq!(app.get("/v1/decisions/c-chill", key).await.status, 200);
    assert_problem(&app.get("/v1/decisions/c-bean", key).await, 404);
    assert_problem(
        &app.get(&format!("/v1/deliveries/{bean_delivery}"), key)
            .await,
        404,
    );
    assert_problem(&app.get("/v1/deliveries?brand=beanline", key).await, 404);
    assert_eq!(ids(&app.get("/v1/deliveries", key).await.body), ["chillco"]);
    assert_eq!(
        ids(&app.get("/v1/deliveries", &bean_key).await.body),
        ["beanline"]
    );
    assert_eq!(
        ids(&app.get("/v1/deliveries", &w.support_key).await.body),
        ["beanline", "chillco"]
    );

    let timeline = app.get("/v1/users/u-1/timeline", key).await;
    assert_eq!(timeline.status, 200, "{}", timeline.body);
    let kinds: Vec<&str> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["decision", "delivery"], "{}", timeline.body);
    let all = app.get("/v1/users/u-1/timeline", &w.support_key).await;
    assert_eq!(
        all.body["items"].as_array().unwrap().len(),
        5,
        "{}",
        all.body
    );

    for path in [
        "/v1/deliveries",
        "/v1/decisions/c-chill",
        "/v1/users/u-1/timeline",
        "/v1/audit/reads",
        &format!("/v1/deliveries/{bean_delivery}"),
    ] {
        let a = app.get(path, &w.app_key).await;
        let p = assert_problem(&a, 403);
        assert!(p["type"].as_str().unwrap().ends_with("forbidden"), "{path}");
    }
}

#[tokio::test]
async fn where_two_brands_stores_overlap_each_brand_sees_only_its_part_of_the_decision() {
    let w = world(Options::default(), &[place_offer("Two-for-one", 1.0)]).await;
    let bean_key = beanline(&w, NEAR, 5.0).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let answer = w.checkin("c-1", "u-1", json!({})).await;
    assert_eq!(answer["offer"]["brand"], "beanline", "{answer}");

    let mine = w.app.get("/v1/decisions/c-1", &w.brand_key).await.body;
    assert_eq!(
        mine["summary"],
        "Another brand's offer was delivered; none of yours was chosen."
    );
    assert_eq!(mine["delivery"], Value::Null);
    let names: Vec<&str> = mine["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["offer_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Two-for-one"]);
    assert_eq!(
        lines(candidate(&mine, "Two-for-one")),
        ["eligible, but another brand's offer ranked higher"]
    );
    assert_eq!(
        mine["trace"]["answer"]["offer"],
        json!({"other_brand": true})
    );
    assert!(
        !mine["trace"].to_string().contains("Coffee"),
        "{}",
        mine["trace"]
    );

    let theirs = w.app.get("/v1/decisions/c-1", &bean_key).await.body;
    assert_eq!(theirs["delivery"]["title"], "Coffee");
    let all = w.decision("c-1").await;
    assert_eq!(all["candidates"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn support_keys_change_nothing_anywhere() {
    let w = world(Options::default(), &[place_offer("Two-for-one", 1.0)]).await;
    let before = w.app.audit_count().await;
    let key = &w.support_key;
    let offers = w.app.get("/v1/brands/chillco/offers", key).await;
    let offer = offers.body["items"][0]["id"].as_str().unwrap().to_string();
    let checkin = json!({"checkin_id": "c", "user_id": "u-1", "lat": NEAR.0, "lon": NEAR.1,
                         "accuracy_m": 15, "recorded_at": "2026-07-14T19:00:00Z"});
    let writes = [
        (
            "/v1/brands".to_string(),
            json!({"id": "sneaky", "name": "Sneaky"}),
        ),
        ("/v1/keys".into(), json!({"role": "admin"})),
        ("/v1/brands/chillco/geofences".into(), circle_fence()),
        (
            "/v1/brands/chillco/offers".into(),
            place_offer("Mine now", 9.0),
        ),
        ("/v1/checkins".into(), checkin),
    ];
    for (path, body) in &writes {
        assert_problem(&w.app.post(path, key, body).await, 403);
    }
    assert_problem(
        &w.app
            .put(
                &format!("/v1/brands/chillco/offers/{offer}"),
                key,
                &place_offer("X", 1.0),
            )
            .await,
        403,
    );
    assert_problem(
        &w.app
            .delete(&format!("/v1/brands/chillco/offers/{offer}"), key)
            .await,
        403,
    );
    assert_problem(
        &w.app
            .put(
                "/v1/users/u-1/consent",
                key,
                &json!({"location": true, "personalization": true}),
            )
            .await,
        403,
    );
    assert_eq!(w.app.audit_count().await, before);
    assert_eq!(w.app.count_rows("consents").await, 0);
    assert_eq!(w.app.count_rows("decisions").await, 0);
}
