//! A person's timeline in time order, and traces purged after retention.

use super::world::*;
use crate::helpers::*;
use chrono::Utc;
use geoffer::clock::Clock;
use serde_json::json;

/// Consent changes are stamped by the wall clock, decisions by the app clock: keep them
/// together by moving the app clock to the wall clock before each check-in.
async fn now_checkin(w: &World, id: &str) -> serde_json::Value {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    w.app.clock.set(Utc::now());
    let answer = w.checkin(id, "u-1", json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    answer
}

#[tokio::test]
async fn a_timeline_lists_consent_changes_decisions_and_deliveries_in_time_order() {
    let w = world(
        Options {
            now: Utc::now(),
            quiet_hours: Some("off".into()),
            ..Default::default()
        },
        &[place_offer("Two-for-one", 1.0)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    assert_eq!(now_checkin(&w, "c-1").await["decision"], "offer");
    // Consent changes take the test clock's time too: move it past the check-in.
    w.app.clock.set(Utc::now());
    w.app.consent(&w.app_key, "u-1", true, false).await;
    assert_eq!(now_checkin(&w, "c-2").await["reason"], "capped");

    let t = w.app.get("/v1/users/u-1/timeline", &w.support_key).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let items = t.body["items"].as_array().unwrap();
    let summaries: Vec<&str> = items
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "consent: location on, personalization on",
            "decision: offer from chillco delivered (check-in c-1)",
            "delivery: “Two-for-one” from chillco (delivered)",
            "consent: location on, personalization off",
            "decision: no offer, capped (check-in c-2)",
        ]
    );
    assert_eq!(items[2]["detail"]["body"], "At Corner Store 5th Ave");

    // Pages of two walk the same entries; `from`/`to` cut the window.
    let mut walked = Vec::new();
    let mut path = "/v1/users/u-1/timeline?limit=2".to_string();
    loop {
        let page = w.app.get(&path, &w.support_key).await.body;
        walked.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["summary"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/users/u-1/timeline?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(walked, summaries);
    let third = items[3]["at"].as_str().unwrap();
    let cut = w
        .app
        .get(
            &format!("/v1/users/u-1/timeline?from={third}"),
            &w.support_key,
        )
        .await;
    assert_eq!(
        cut.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        cut.body
    );
    let other_app = w
        .app
        .get("/v1/users/u-1/timeline?app=other", &w.support_key)
        .await;
    assert_eq!(other_app.body["items"], json!([]));
    let bad = w
        .app
        .get("/v1/users/u-1/timeline?to=soon", &w.support_key)
        .await;
    assert_eq!(pointers(assert_problem(&bad, 400)), ["/query/to"]);
}

#[tokio::test]
async fn traces_past_retention_are_purged_while_decisions_and_deliveries_stay() {
    let w = world(
        Options {
            tweak: |s| s.trace_retention_days = 30,
            ..Default::default()
        },
        &[place_offer("Two-for-one", 1.0)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let old = w.checkin("old", "u-1", json!({})).await;
    w.app
        .clock
        .advance(std::time::Duration::from_secs(20 * 86_400));
    w.checkin("recent", "u-1", json!({})).await;
    w.app
        .clock
        .advance(std::time::Duration::from_secs(11 * 86_400));

    let keep = w.app.state.settings.trace_retention().unwrap();
    let purge = || {
        geoffer::services::retention::purge_expired(
            w.app.state.store.as_ref(),
            w.app.clock.as_ref(),
            keep,
        )
    };
    assert_eq!(purge().await.unwrap(), 1);
    assert_eq!(
        purge().await.unwrap(),
        0,
        "a purged trace is not purged again"
    );

    let d = w.decision("old").await;
    assert_eq!(d["trace"], serde_json::Value::Null);
    assert_eq!(
        d["trace_purged_at"].as_str().unwrap(),
        (w.app.clock.now()).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    assert_eq!(
        (d["decision"].as_str(), d["summary"].as_str()),
        (
            Some("offer"),
            Some("Delivered “Two-for-one” from chillco at Corner Store 5th Ave.")
        )
    );
    assert_eq!(d["delivery"]["body"], old["offer"]["body"]);
    let first = d["explanation"][0].as_str().unwrap();
    assert!(
        first.starts_with("trace purged on 2026-08-14 after the retention period"),
        "{first}"
    );
    assert!(w.decision("recent").await["trace"]["context"].is_object());
    assert_eq!(w.app.count_rows("decisions").await, 2);
    assert_eq!(w.app.count_rows("deliveries").await, 2);
}
