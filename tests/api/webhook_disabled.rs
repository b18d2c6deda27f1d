//! An endpoint that keeps failing is disabled, and the brand is told: an audit entry by
//! `system` the brand and support read, and `endpoint.disabled`, signed, to the brand's other
//! subscribed endpoint (never to the disabled one). Re-enabling clears the streak and sends
//! the waiting message at once.

use crate::helpers::*;
use crate::webhooks::{STORE, brand_with_offer, header, independent_signature, options, send_due};
use chrono::Duration;
use geoffer::clock::Clock;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn answering(status: u16) -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&receiver)
        .await;
    receiver
}

async fn register(app: &TestApp, key: &str, url: String, types: &[&str]) -> Value {
    let a = app
        .post(
            "/v1/brands/chillco/webhooks",
            key,
            &json!({"url": url, "event_types": types}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body
}

fn types_of(requests: &[wiremock::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["type"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_disabled_endpoint_is_in_the_audit_log_and_told_to_the_brands_other_endpoint() {
    let broken = answering(500).await;
    let watcher = answering(204).await;
    let mut o = options(None, None);
    o.tweak = |s| {
        s.webhook_allow_loopback_http = true;
        s.webhook_poll_ms = 0;
        s.webhook_disable_after_failures = 3;
    };
    let app = spawn_app_with(o).await;
    let (key, app_key) = brand_with_offer(&app).await;
    // The failing endpoint subscribes to `endpoint.disabled` too: it must not get its own.
    let failing = register(
        &app,
        &key,
        format!("{}/hooks", broken.uri()),
        &["delivery.created", "endpoint.disabled"],
    )
    .await;
    let ops = register(
        &app,
        &key,
        format!("{}/ops", watcher.uri()),
        &["endpoint.disabled"],
    )
    .await;
    let failing_id = failing["id"].as_str().unwrap().to_string();
    let ops_secret = ops["secret"].as_str().unwrap().to_string();
    let a = app
        .checkin(&app_key, "c-1", "u-1", STORE.0, STORE.1, json!({}))
        .await;
    assert_eq!(a.body["decision"], "offer", "{}", a.body);

    let started = app.clock.now();
    for n in 0..3 {
        assert_eq!(send_due(&app).await, 1, "attempt {n}");
        if n < 2 {
            app.clock.advance(Duration::hours(7).to_std().unwrap());
        }
    }
    let failed_at = app.clock.now();
    // The third failure disabled it; the same transaction queued the news for `ops`.
    assert_eq!(
        send_due(&app).await,
        1,
        "endpoint.disabled, to the other endpoint"
    );
    assert_eq!(send_due(&app).await, 0);
    assert_eq!(
        types_of(&broken.received_requests().await.unwrap()),
        ["delivery.created"; 3]
    );
    let told = watcher.received_requests().await.unwrap();
    assert_eq!(types_of(&told), ["endpoint.disabled"]);
    let r = &told[0];
    assert_eq!(
        header(r, "webhook-signature"),
        independent_signature(&ops_secret, r)
    );
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["data"]["endpoint_id"], failing_id.as_str());
    assert_eq!(body["data"]["brand"], "chillco");
    assert_eq!(body["data"]["consecutive_failures"], 3);
    assert!(
        body["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("3 consecutive")
    );
    assert!(
        body["data"]["failing_since"]
            .as_str()
            .unwrap()
            .starts_with(&started.format("%Y-%m-%dT%H:%M").to_string())
    );
    assert!(
        !String::from_utf8_lossy(&r.body).contains("40.749"),
        "no coordinates"
    );

    // The endpoint says so, with the streak.
    let a = app
        .get(&format!("/v1/brands/chillco/webhooks/{failing_id}"), &key)
        .await;
    assert_eq!(a.body["status"], "disabled", "{}", a.body);
    assert_eq!(a.body["disabled_for_failing"], true);
    assert_eq!(a.body["consecutive_failures"], 3);
    crate::contract::conforms_to_document(&app, "/v1/brands/{brand}/webhooks/{id}", "get", &a)
        .await;

    // The audit log: geoffer did it, why, after how many failures, since when; the brand
    // and support read it through the audit API.
    let support = app.key("support", None).await;
    for reader in [&key, &support] {
        let log = app.get("/v1/audit/changes?brand=chillco", reader).await;
        assert_eq!(log.status, 200, "{}", log.body);
        let entry = log.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["entity"] == "webhook" && e["action"] == "disable")
            .unwrap_or_else(|| panic!("no disable entry: {}", log.body))
            .clone();
        assert_eq!(entry["key_id"], "system");
        assert_eq!(entry["role"], "system");
        assert_eq!(entry["entity_id"], failing_id.as_str());
        assert_eq!(
            entry["at"].as_str().unwrap()[..16],
            failed_at.format("%Y-%m-%dT%H:%M").to_string()
        );
        assert_eq!(entry["before"]["status"], "active");
        assert_eq!(entry["after"]["status"], "disabled");
        assert_eq!(entry["after"]["consecutive_failures"], 3);
        assert!(entry["after"]["failing_since"].is_string());
        assert!(
            entry["after"]["disabled_reason"]
                .as_str()
                .unwrap()
                .contains("3 consecutive")
        );
        assert!(!log.body.to_string().contains("whsec_"));
    }

    // Fixed and enabled again: the streak is cleared and the waiting message goes at once
    // (its retry was not due yet), within its retry window.
    broken.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&broken)
        .await;
    let a = app
        .put(
            &format!("/v1/brands/chillco/webhooks/{failing_id}"),
            &key,
            &json!({"url": failing["url"], "event_types": ["delivery.created", "endpoint.disabled"], "status": "active"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["consecutive_failures"], 0);
    assert_eq!(a.body["failing_since"], Value::Null);
    assert_eq!(a.body["disabled_for_failing"], false);
    assert_eq!(
        send_due(&app).await,
        1,
        "the waiting message, without moving the clock"
    );
    assert_eq!(
        types_of(&broken.received_requests().await.unwrap()),
        ["delivery.created"]
    );
    let attempts = app
        .get(
            &format!("/v1/brands/chillco/webhooks/{failing_id}/attempts"),
            &key,
        )
        .await;
    assert_eq!(attempts.body["items"][0]["outcome"], "delivered");
    assert_eq!(
        watcher.received_requests().await.unwrap().len(),
        1,
        "nothing more"
    );
}

#[tokio::test]
async fn an_endpoint_the_brand_disables_is_not_reported_as_failing() {
    let watcher = answering(204).await;
    let app = spawn_app_with(options(None, None)).await;
    let (key, _) = brand_with_offer(&app).await;
    let hook = register(
        &app,
        &key,
        format!("{}/a", watcher.uri()),
        &["delivery.created"],
    )
    .await;
    register(
        &app,
        &key,
        format!("{}/b", watcher.uri()),
        &["endpoint.disabled"],
    )
    .await;
    let id = hook["id"].as_str().unwrap();
    let a = app
        .put(
            &format!("/v1/brands/chillco/webhooks/{id}"),
            &key,
            &json!({"url": hook["url"], "event_types": ["delivery.created"], "status": "disabled"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "disabled");
    assert_eq!(a.body["disabled_for_failing"], false);
    assert_eq!(
        send_due(&app).await,
        0,
        "no endpoint.disabled for the brand's own choice"
    );
}
