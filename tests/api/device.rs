//! The device protocol (docs/sdk.md): nearby fences, batched check-ins, back-pressure.

use crate::helpers::*;
use chrono::Duration;
use geoffer::clock::Clock;
use serde_json::{Value, json};
use sqlx::Connection;

/// 40.7490,-73.9860: 71 m from fence A's centre (inside it).
const NEAR: (f64, f64) = (40.7490, -73.9860);

fn fence_at(name: &str, lat: f64, lon: f64, radius_m: u32) -> Value {
    json!({ "type": "Feature",
        "geometry": { "type": "Point", "coordinates": [lon, lat] },
        "properties": { "name": name, "radius_m": radius_m, "timezone": "America/New_York",
                        "max_accuracy_m": 100 } })
}

fn place_offer() -> Value {
    json!({"name": "Always", "title": "Hello", "body": "At {{ fence.name }}", "value": 1.0})
}

/// Creates `brand` with fences (name, lat, lon) and, if `offer`, one offer for all of them.
/// Returns the fence ids by name.
async fn brand(
    app: &TestApp,
    brand: &str,
    fences: &[(&str, f64, f64)],
    offer: bool,
) -> Vec<(String, String)> {
    let key = app.brand_with_key(brand).await;
    let mut ids = Vec::new();
    for (name, lat, lon) in fences {
        let path = format!("/v1/brands/{brand}/geofences");
        let a = app
            .post(&path, &key, &fence_at(name, *lat, *lon, 100))
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        ids.push((name.to_string(), a.body["id"].as_str().unwrap().to_string()));
    }
    if offer {
        let path = format!("/v1/brands/{brand}/offers");
        let a = app.post(&path, &key, &place_offer()).await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
    ids
}

/// The fence names a nearby answer lists, in order.
fn listed(a: &Answer, ids: &[(String, String)]) -> Vec<String> {
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["fences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let id = f["id"].as_str().unwrap();
            ids.iter()
                .find(|(_, i)| i == id)
                .map_or_else(|| id.to_string(), |(n, _)| n.clone())
        })
        .collect()
}

/// A key of another app (`other-app`), whose `user` has consented to location.
async fn other_app_user(app: &TestApp, user: &str) -> String {
    let other = app
        .post(
            "/v1/keys",
            &app.admin_key,
            &json!({"role": "app", "app": "other-app"}),
        )
        .await;
    let key = other.body["key"].as_str().unwrap().to_string();
    app.consent(&key, user, true, false).await;
    key
}

async fn nearby(app: &TestApp, key: &str, user: &str, limit: Option<u32>) -> Answer {
    let limit = limit.map_or_else(String::new, |n| format!("&limit={n}"));
    let path = format!(
        "/v1/fences/nearby?user_id={user}&lat={}&lon={}{limit}",
        NEAR.0, NEAR.1
    );
    app.get(&path, key).await
}

#[tokio::test]
async fn nearby_lists_fences_with_an_offer_for_the_person_nearest_first_and_drops_capped_ones() {
    // Brand caps bind; the day and week caps leave room for a second brand.
    let app = spawn_app_with(Options {
        tweak: |s| {
            s.cap_person_day = 5;
            s.cap_person_week = 5;
        },
        ..Default::default()
    })
    .await;
    let mut ids = brand(
        &app,
        "chillco",
        &[
            ("A", 40.7484, -73.9857),
            ("B", 40.7574, -73.9857),
            ("far", 45.0, -73.98),
        ],
        true,
    )
    .await;
    ids.extend(brand(&app, "brewco", &[("C", 40.7394, -73.9857)], true).await);
    // A fence with no offer matters to nobody.
    ids.extend(brand(&app, "quietco", &[("D", 40.7490, -73.9870)], false).await);
    let app_key = app.key("app", None).await;
    app.consent(&app_key, "u-1", true, true).await;

    let a = nearby(&app, &app_key, "u-1", None).await;
    assert_eq!(listed(&a, &ids), ["A", "B", "C"], "{}", a.body);
    let first = &a.body["fences"][0];
    assert_eq!(first["distance_m"], 0.0, "inside A: {first}");
    assert_eq!(first["shape"], "circle");
    assert_eq!(first["radius_m"], 100.0);
    // Nothing else with an offer within the widest search (200 km): ask again after that.
    assert_eq!(a.body["refresh_after_m"], 200_000.0);
    // Two listed: the third is the nearest left out, so moving less than its distance
    // cannot reach an unlisted fence.
    let two = nearby(&app, &app_key, "u-1", Some(2)).await;
    assert_eq!(listed(&two, &ids), ["A", "B"]);
    let c_distance = a.body["fences"][2]["distance_m"].as_f64().unwrap();
    let refresh = two.body["refresh_after_m"].as_f64().unwrap();
    assert!(
        (refresh - c_distance).abs() <= 1.0,
        "{refresh} vs {c_distance}"
    );

    // An offer at A fills u-1's chillco cap: chillco's fences drop out, brewco's stays.
    let c = app
        .checkin(&app_key, "ck-1", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(c.body["decision"], "offer", "{}", c.body);
    let a = nearby(&app, &app_key, "u-1", None).await;
    assert_eq!(listed(&a, &ids), ["C"], "{}", a.body);

    // The same user id in another app is another person: nothing of u-1's caps shows there.
    let other_key = other_app_user(&app, "u-1").await;
    let a = nearby(&app, &other_key, "u-1", None).await;
    assert_eq!(listed(&a, &ids), ["A", "B", "C"]);
}

#[tokio::test]
async fn nearby_without_consent_answers_what_a_checkin_would_and_needs_an_app_key() {
    let app = spawn_app().await;
    brand(&app, "chillco", &[("A", 40.7484, -73.9857)], true).await;
    let app_key = app.key("app", None).await;
    let a = nearby(&app, &app_key, "u-2", None).await;
    let c = app
        .checkin(&app_key, "ck-2", "u-2", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(
        assert_problem(&a, 403)["type"],
        assert_problem(&c, 403)["type"]
    );
    assert!(
        a.body["type"]
            .as_str()
            .unwrap()
            .ends_with("/consent-required")
    );
    let support = app.key("support", None).await;
    assert_problem(&nearby(&app, &support, "u-2", None).await, 403);
    app.consent(&app_key, "u-2", true, false).await;
    let bad = app
        .get("/v1/fences/nearby?user_id=u-2&lat=91&lon=0", &app_key)
        .await;
    assert_eq!(pointers(assert_problem(&bad, 400)), ["/query/lat"]);
    let bad = nearby(&app, &app_key, "u-2", Some(101)).await;
    assert_eq!(pointers(assert_problem(&bad, 400)), ["/query/limit"]);
}

/// 100 reports of three people at fence A, recorded over the last 20 minutes, sent in an
/// order unrelated to time: report `i` was recorded `(13 i mod 100) × 12` seconds ago.
fn hundred_reports(app: &TestApp) -> Vec<Value> {
    let now = app.clock.now();
    (0..100)
        .map(|i| {
            let ago = (i * 13 % 100) * 12;
            json!({"checkin_id": format!("b-{i}"), "user_id": format!("p-{}", i % 3),
                   "lat": NEAR.0, "lon": NEAR.1, "accuracy_m": 15,
                   "recorded_at": (now - Duration::seconds(ago)).to_rfc3339()})
        })
        .collect()
}

#[tokio::test]
async fn a_batch_is_decided_in_time_order_per_person_and_a_retry_answers_the_same() {
    let app = spawn_app().await;
    brand(&app, "chillco", &[("A", 40.7484, -73.9857)], true).await;
    let app_key = app.key("app", None).await;
    for p in 0..3 {
        app.consent(&app_key, &format!("p-{p}"), true, true).await;
    }
    let mut reports = hundred_reports(&app);
    reports[5]["lat"] = json!(91);
    reports[6] = json!("not a report");
    let batch = json!({ "checkins": reports });
    let a = app.post("/v1/checkins/batch", &app_key, &batch).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let results = a.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);

    // The malformed reports have their own problems, pointing into the batch.
    for (i, pointer) in [(5, "/checkins/5/lat"), (6, "/checkins/6")] {
        assert_eq!(results[i]["index"], i);
        assert_eq!(results[i]["status"], 422, "{}", results[i]);
        let problem = &results[i]["problem"];
        assert!(problem["type"].as_str().unwrap().ends_with("/validation"));
        assert_eq!(pointers(problem), [pointer]);
    }
    // Each person's offer went to their oldest fresh report (decided first); older ones are
    // stale, later ones capped.
    for p in 0..3 {
        let mine: Vec<usize> = (0..100)
            .filter(|i| i % 3 == p && ![5, 6].contains(i))
            .collect();
        let ago = |i: usize| (i * 13 % 100) * 12;
        let first_fresh = *mine
            .iter()
            .filter(|i| ago(**i) <= 600)
            .max_by_key(|i| ago(**i))
            .unwrap();
        for i in mine {
            let answer = &results[i]["answer"];
            assert_eq!(results[i]["status"], 200, "{}", results[i]);
            assert_eq!(answer["checkin_id"], format!("b-{i}"));
            let expected = if i == first_fresh {
                "offer"
            } else if ago(i) > 600 {
                "stale"
            } else {
                "capped"
            };
            let got = answer["reason"].as_str().unwrap_or("offer");
            assert_eq!(got, expected, "report {i} of p-{p}: {answer}");
        }
    }

    // The same batch again answers the same, from the durable record.
    app.clock.advance(std::time::Duration::from_secs(60));
    let again = app.post("/v1/checkins/batch", &app_key, &batch).await;
    assert_eq!(again.body, a.body);
    let decided = app.count_rows("decisions").await;

    // More than 100 reports: refused whole, nothing decided.
    let mut many = hundred_reports(&app);
    many.push(many[0].clone());
    let a = app
        .post("/v1/checkins/batch", &app_key, &json!({ "checkins": many }))
        .await;
    assert_eq!(pointers(assert_problem(&a, 422)), ["/checkins"]);
    assert_eq!(app.count_rows("decisions").await, decided);
}

#[tokio::test]
async fn past_the_apps_request_limit_the_answer_is_429_with_retry_after() {
    let app = spawn_app_with(Options {
        tweak: |s| s.app_requests_per_minute = 2,
        ..Default::default()
    })
    .await;
    brand(&app, "chillco", &[("A", 40.7484, -73.9857)], true).await;
    let app_key = app.key("app", None).await;
    app.consent(&app_key, "u-1", true, true).await;
    for _ in 0..2 {
        assert_eq!(nearby(&app, &app_key, "u-1", None).await.status, 200);
    }
    let res = app
        .client
        .post(format!("{}/v1/checkins/batch", app.base))
        .bearer_auth(&app_key)
        .json(&json!({"checkins": [{"checkin_id": "x"}]}))
        .send()
        .await
        .unwrap();
    let retry_after = res.headers()["retry-after"].to_str().unwrap().to_string();
    let a = read(res).await;
    let p = assert_problem(&a, 429);
    assert!(p["type"].as_str().unwrap().ends_with("/app-request-limit"));
    assert_eq!(retry_after, "30");
    // Another app has its own allowance; this one's comes back with time.
    let other_key = other_app_user(&app, "u-1").await;
    assert_eq!(nearby(&app, &other_key, "u-1", None).await.status, 200);
    app.clock.advance(std::time::Duration::from_secs(30));
    let c = app
        .checkin(&app_key, "ck-1", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(c.body["decision"], "offer", "{}", c.body);
}

#[tokio::test]
async fn a_full_decision_queue_answers_503_with_retry_after_before_any_claim() {
    let app = spawn_app_with(Options {
        tweak: |s| s.decision_queue_capacity = 1,
        ..Default::default()
    })
    .await;
    brand(&app, "chillco", &[("A", 40.7484, -73.9857)], true).await;
    let app_key = app.key("app", None).await;
    for u in 0..8 {
        app.consent(&app_key, &format!("u-{u}"), true, true).await;
    }
    // Another connection holds SQLite's write lock: the writer waits on its first commit and
    // the one-place queue fills behind it.
    let mut lock = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();
    let probe = json!({"checkins": ["not a report"]});
    let mut waiting = Vec::new();
    let mut full = None;
    for u in 0..6 {
        let (base, key, client) = (app.base.clone(), app_key.clone(), app.client.clone());
        let body = json!({"checkin_id": format!("w-{u}"), "user_id": format!("u-{u}"),
                          "lat": NEAR.0, "lon": NEAR.1, "accuracy_m": 15,
                          "recorded_at": app.clock.now().to_rfc3339()});
        waiting.push(tokio::spawn(async move {
            let res = client
                .post(format!("{base}/v1/checkins"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            res.status()
        }));
        // The probe's only report is malformed: it decides nothing, it only meets the queue.
        for _ in 0..50 {
            let res = app
                .client
                .post(format!("{}/v1/checkins/batch", app.base))
                .bearer_auth(&app_key)
                .json(&probe)
                .send()
                .await
                .unwrap();
            if res.status() == 503 {
                full = Some(res);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        if full.is_some() {
            break;
        }
    }
    let res = full.expect("the queue filled up behind the stuck writer");
    assert_eq!(res.headers()["retry-after"], "1");
    let a = read(res).await;
    let p = assert_problem(&a, 503);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("waiting to be recorded")
    );
    // A single check-in meets the same refusal, before it claims anything.
    let late = app
        .checkin(&app_key, "late", "u-7", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_problem(&late, 503);
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    for w in waiting {
        assert_eq!(w.await.unwrap(), 200);
    }
    // Nothing of the refused check-in was kept: decided now, it gets the offer.
    let late = app
        .checkin(&app_key, "late", "u-7", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(late.body["decision"], "offer", "{}", late.body);
}
