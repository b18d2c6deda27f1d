//! A `geoffer serve` process SIGKILLed between webhook attempts: the receiver fails at
//! first, the process dies with every message waiting for its retry, and another process on
//! the same SQLite file delivers each of them, exactly once marked delivered. The receiver
//! deduplicates by `webhook-id` and misses nothing.

use super::postgres::{delivery_of, serve, wait_ready};
use super::{NEAR, world};
use crate::helpers::*;
use crate::webhooks::receiver_failing;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const PEOPLE: usize = 3;

/// A check-in at the fence reported now (the process runs on the real clock); the answer.
async fn checkin(base: &str, key: &str, id: &str, user: &str) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/v1/checkins"))
        .bearer_auth(key)
        .json(
            &json!({"checkin_id": id, "user_id": user, "lat": NEAR.0, "lon": NEAR.1,
                      "accuracy_m": 15, "recorded_at": chrono::Utc::now().to_rfc3339()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The endpoint's attempts as (webhook-id, outcome), newest first.
async fn attempts(base: &str, key: &str, hook: &str) -> Vec<(String, String)> {
    let body: Value = reqwest::Client::new()
        .get(format!(
            "{base}/v1/brands/chillco/webhooks/{hook}/attempts?limit=100"
        ))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|a| {
            let field = |f: &str| a[f].as_str().unwrap().to_string();
            (field("message_id"), field("outcome"))
        })
        .collect()
}

/// Polls the attempts until `done` holds of them (at most 90 s: a retry is due within 30 s).
async fn attempts_until(
    base: &str,
    key: &str,
    hook: &str,
    done: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let seen = attempts(base, key, hook).await;
        if done(&seen) {
            return seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "attempts so far: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn count(seen: &[(String, String)], outcome: &str) -> usize {
    seen.iter().filter(|(_, o)| o == outcome).count()
}

#[tokio::test]
async fn a_process_killed_between_attempts_leaves_every_message_for_the_next_to_deliver_once() {
    let receiver = receiver_failing(PEOPLE as u64, 500).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hooks.db").display());
    let config = dir.path().join("geoffer.toml");
    std::fs::write(
        &config,
        "webhook_allow_loopback_http = true\nwebhook_poll_ms = 20\nwebhook_timeout_ms = 5000\n",
    )
    .unwrap();

    // The world is made by an in-process app on the file, which then goes away.
    let options = Options {
        db_url: Some(db.clone()),
        tweak: |s| {
            s.webhook_allow_loopback_http = true;
            s.webhook_poll_ms = 0;
        },
        ..Options::default()
    };
    let (app, app_key) = world(options, PEOPLE).await;
    let admin = app.admin_key.clone();
    let hook = app
        .post(
            "/v1/brands/chillco/webhooks",
            &admin,
            &json!({"url": format!("{}/hooks", receiver.uri()), "event_types": ["delivery.created"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let hook = hook.body["id"].as_str().unwrap().to_string();
    drop(app);

    let (mut first, base) = serve(&db, Some(&config));
    wait_ready(&base).await;
    let mut deliveries = BTreeSet::new();
    for u in 0..PEOPLE {
        let body = checkin(&base, &app_key, &format!("k-{u}"), &format!("u-{u}")).await;
        deliveries.insert(delivery_of(&body).unwrap_or_else(|| panic!("no offer: {body}")));
    }
    // Every message failed once and waits for its retry (at least a second away): kill.
    let before = attempts_until(&base, &admin, &hook, |s| count(s, "failed") == PEOPLE).await;
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    assert_eq!(count(&before, "delivered"), 0, "{before:?}");

    let (mut second, base) = serve(&db, Some(&config));
    wait_ready(&base).await;
    let after = attempts_until(&base, &admin, &hook, |s| count(s, "delivered") == PEOPLE).await;
    let _ = second.kill();
    let _ = second.wait();

    // Each message exactly once marked delivered, after exactly one failure.
    let mut per_message: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, outcome) in &after {
        per_message.entry(id).or_default().push(outcome);
    }
    assert_eq!(per_message.len(), PEOPLE, "{after:?}");
    for outcomes in per_message.values() {
        assert_eq!(outcomes, &["delivered", "failed"], "{after:?}");
    }
    // The receiver, deduplicating by webhook-id, has every delivery once.
    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2 * PEOPLE);
    let mut received = BTreeSet::new();
    for r in requests.iter().filter(|r| r.method.as_str() == "POST") {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        let id = r.headers.get("webhook-id").unwrap().to_str().unwrap();
        assert_eq!(
            id,
            format!(
                "msg_{}_created",
                body["data"]["delivery_id"].as_str().unwrap()
            )
        );
        received.insert(body["data"]["delivery_id"].as_str().unwrap().to_string());
    }
    assert_eq!(received, deliveries);
}
