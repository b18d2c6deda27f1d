//! Brands' webhooks through HTTP: registration and its SSRF rules, delivery from the outbox
//! with retries (the test clock moves past the backoffs), Standard Webhooks signatures
//! checked by an independent implementation (the `standardwebhooks` crate), a restart
//! between attempts, secret rotation, and erasure of a person's messages.

use crate::helpers::*;
use chrono::Duration;
use geoffer::clock::Clock;
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub(crate) const STORE: (f64, f64) = (40.7490, -73.9860);

pub(crate) fn options(
    db_url: Option<String>,
    now: Option<chrono::DateTime<chrono::Utc>>,
) -> Options {
    let mut o = Options {
        db_url,
        // The tests drive the sender themselves (`send_due`) after moving the clock.
        tweak: |s| {
            s.webhook_allow_loopback_http = true;
            s.webhook_poll_ms = 0;
        },
        ..Options::default()
    };
    if let Some(now) = now {
        o.now = now;
    }
    o
}

/// A brand with a fence and an offer there, an app key and a consenting user.
pub(crate) async fn brand_with_offer(app: &TestApp) -> (String, String) {
    let key = app.brand_with_key("chillco").await;
    let fence = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [STORE.1, STORE.0]},
        "properties": {"name": "Corner", "radius_m": 100, "timezone": "America/New_York", "tags": ["corner-store"]}});
    let a = app.post("/v1/brands/chillco/geofences", &key, &fence).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let offer = json!({"name": "Chilled", "title": "Chilled", "body": "At {{ fence.name }}", "value": 1.0,
        "targeting": {"fences": {"tags": ["corner-store"]}}, "caps": {"per_person": {"count": 5, "period_days": 30}},
        "redemption": {"code_prefix": "X", "valid_hours": 4}});
    let a = app.post("/v1/brands/chillco/offers", &key, &offer).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let app_key = app.key("app", None).await;
    app.consent(&app_key, "u-1", true, true).await;
    (key, app_key)
}

pub(crate) async fn register(app: &TestApp, key: &str, url: &str) -> Value {
    let a = app
        .post(
            "/v1/brands/chillco/webhooks",
            key,
            &json!({"url": url, "event_types": ["delivery.created", "delivery.opened"]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body
}

/// A check-in at the store that gets an offer; its delivery id.
async fn delivered(app: &TestApp, app_key: &str, checkin: &str) -> String {
    delivered_to(app, app_key, checkin, "u-1").await
}

async fn delivered_to(app: &TestApp, app_key: &str, checkin: &str, user: &str) -> String {
    let a = app
        .checkin(app_key, checkin, user, STORE.0, STORE.1, json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["decision"], "offer", "{}", a.body);
    a.body["offer"]["delivery_id"].as_str().unwrap().to_string()
}

pub(crate) fn header<'a>(r: &'a Request, name: &str) -> &'a str {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The signature `secret` gives the request, computed by the `standardwebhooks` crate (not
/// by geoffer's signer). Its `verify` also checks the timestamp against the real clock,
/// which the test clock is far from, so the signature is compared here instead.
pub(crate) fn independent_signature(secret: &str, r: &Request) -> String {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .sign(
            header(r, "webhook-id"),
            header(r, "webhook-timestamp").parse().unwrap(),
            &r.body,
        )
        .unwrap()
}

/// A receiver that answers `fail` to the first `times` requests, then 204.
pub(crate) async fn receiver_failing(times: u64, fail: u16) -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(fail))
        .up_to_n_times(times)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    receiver
}

pub(crate) async fn send_due(app: &TestApp) -> usize {
    app.state.services.webhook_sender.send_due().await.unwrap()
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_event_once_delivered_and_verifiably_signed() {
    let receiver = receiver_failing(3, 500).await;
    let app = spawn_app_with(options(None, None)).await;
    let (key, app_key) = brand_with_offer(&app).await;
    let hook = register(&app, &key, &format!("{}/hooks", receiver.uri())).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let delivery = delivered(&app, &app_key, "c-1").await;

    for _ in 0..4 {
        assert_eq!(send_due(&app).await, 1);
        // Not due again until the backoff has passed.
        assert_eq!(send_due(&app).await, 0);
        // Past the largest backoff (6 h), well inside the 24 h retry window.
        app.clock.advance(
            (Duration::hours(6) + Duration::minutes(1))
                .to_std()
                .unwrap(),
        );
    }
    assert_eq!(send_due(&app).await, 0, "delivered: nothing left to send");

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4);
    let id = header(&requests[0], "webhook-id").to_string();
    for r in &requests {
        assert_eq!(header(r, "webhook-id"), id, "the same id on every attempt");
        assert_eq!(
            header(r, "webhook-signature"),
            independent_signature(&secret, r)
        );
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["type"], "delivery.created");
        assert_eq!(body["data"]["delivery_id"], delivery);
        assert_eq!(body["data"]["user_id"], "u-1");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("40.749"),
            "no coordinates"
        );
    }

    let hook_id = hook["id"].as_str().unwrap();
    let attempts = app
        .get(
            &format!("/v1/brands/chillco/webhooks/{hook_id}/attempts"),
            &key,
        )
        .await;
    assert_eq!(attempts.status, 200, "{}", attempts.body);
    let outcomes: Vec<&str> = attempts.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["delivered", "failed", "failed", "failed"]);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains(r#"webhook_attempts_total{outcome="failed"} 3"#));
    assert!(metrics.contains(r#"webhook_attempts_total{outcome="delivered"} 1"#));
    assert_eq!(attempts.body["items"][0]["status_code"], 204);
    assert_eq!(attempts.body["items"][3]["status_code"], 500);

    // Replay re-queues the message, with the same id.
    let first = attempts.body["items"][0]["id"].as_str().unwrap();
    let a = app
        .post(
            &format!("/v1/brands/chillco/webhooks/{hook_id}/attempts/{first}/replay"),
            &key,
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(send_due(&app).await, 1);
    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 5);
    assert_eq!(header(&requests[4], "webhook-id"), id);

    // Opening the offer is the next event, with an id of its own.
    let ev = json!({"events": [{"event_id": "e-1", "user_id": "u-1", "type": "offer_opened",
        "delivery_id": delivery, "occurred_at": app.clock.now().to_rfc3339()}]});
    let a = app.post("/v1/events", &app_key, &ev).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(send_due(&app).await, 1);
    let requests = receiver.received_requests().await.unwrap();
    let opened = &requests[5];
    let body: Value = serde_json::from_slice(&opened.body).unwrap();
    assert_eq!(body["type"], "delivery.opened");
    assert_eq!(body["data"]["delivery_id"], delivery);
    assert_ne!(header(opened, "webhook-id"), id);
    assert_eq!(
        header(opened, "webhook-signature"),
        independent_signature(&secret, opened)
    );
}

#[tokio::test]
async fn a_message_that_failed_before_a_restart_is_delivered_after_it() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("shared.db").display());
    let first = spawn_app_with(options(Some(db.clone()), None)).await;
    let (key, app_key) = brand_with_offer(&first).await;
    let hook = register(&first, &key, &format!("{}/hooks", receiver.uri())).await;
    delivered(&first, &app_key, "c-1").await;
    assert_eq!(send_due(&first).await, 1);
    assert_eq!(receiver.received_requests().await.unwrap().len(), 1);
    // The first instance goes quiet (its sender never runs on its own); nothing of the
    // message lives in its memory. A second one on the same file, hours later, with its
    // background sender polling, delivers it.
    let later = first.clock.now() + Duration::hours(7);
    drop(first);
    let mut o = options(Some(db), Some(later));
    o.tweak = |s| {
        s.webhook_allow_loopback_http = true;
        s.webhook_poll_ms = 20;
    };
    let second = spawn_app_with(o).await;
    let hook_id = hook["id"].as_str().unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..250 {
        let a = second
            .get(
                &format!("/v1/brands/chillco/webhooks/{hook_id}/attempts"),
                &key,
            )
            .await;
        outcomes = a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["outcome"].as_str().unwrap().to_string())
            .collect();
        if outcomes.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(outcomes, ["delivered", "failed"]);
    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        header(&requests[0], "webhook-id"),
        header(&requests[1], "webhook-id")
    );
}

#[tokio::test]
async fn private_addresses_and_plain_http_are_refused_at_registration() {
    let app = spawn_app_with(options(None, None)).await;
    let key = app.brand_with_key("chillco").await;
    for url in [
        "https://10.0.0.1/x",
        "https://169.254.169.254/",
        "https://localhost/",
        "https://[::1]/x",
        "http://example.com/x",
        "ftp://example.com/x",
    ] {
        let a = app
            .post(
                "/v1/brands/chillco/webhooks",
                &key,
                &json!({"url": url, "event_types": ["delivery.created"]}),
            )
            .await;
        assert_problem(&a, 422);
        assert_eq!(pointers(&a.body), ["/url"], "{url}: {}", a.body);
    }
    let a = app
        .post(
            "/v1/brands/chillco/webhooks",
            &key,
            &json!({"url": "http://127.0.0.1:9/x", "event_types": ["delivery.sent"]}),
        )
        .await;
    assert_problem(&a, 422);
    assert_eq!(pointers(&a.body), ["/event_types/0"]);
    assert_eq!(app.count_rows("webhook_endpoints").await, 0);

    // Roles: support reads but may not write; another brand sees nothing.
    let ok = register(&app, &key, "http://127.0.0.1:9/x").await;
    let id = ok["id"].as_str().unwrap();
    let support = app.key("support", None).await;
    let a = app
        .post(
            "/v1/brands/chillco/webhooks",
            &support,
            &json!({"url": "http://127.0.0.1:9/y", "event_types": ["delivery.created"]}),
        )
        .await;
    assert_problem(&a, 403);
    let a = app
        .get(&format!("/v1/brands/chillco/webhooks/{id}"), &support)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.get("secret").is_none(), "the secret is shown once");
    let other = app.brand_with_key("beanline").await;
    let a = app
        .get(&format!("/v1/brands/chillco/webhooks/{id}"), &other)
        .await;
    assert_problem(&a, 404);
    let a = app
        .delete(&format!("/v1/brands/chillco/webhooks/{id}"), &other)
        .await;
    assert_problem(&a, 404);
    let a = app
        .delete(&format!("/v1/brands/chillco/webhooks/{id}"), &key)
        .await;
    assert_eq!(a.status, 204);
    let a = app.get("/v1/brands/chillco/webhooks", &key).await;
    assert_eq!(a.body["items"], json!([]));
}

#[tokio::test]
async fn after_rotation_messages_carry_both_signatures_each_verifying_with_its_secret() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let app = spawn_app_with(options(None, None)).await;
    let (key, app_key) = brand_with_offer(&app).await;
    let hook = register(&app, &key, &format!("{}/hooks", receiver.uri())).await;
    let old = hook["secret"].as_str().unwrap().to_string();
    let id = hook["id"].as_str().unwrap();
    let a = app
        .post(
            &format!("/v1/brands/chillco/webhooks/{id}/rotate-secret"),
            &key,
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let new = a.body["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);

    delivered(&app, &app_key, "c-1").await;
    assert_eq!(send_due(&app).await, 1);
    let r = &receiver.received_requests().await.unwrap()[0];
    let sigs: Vec<&str> = header(r, "webhook-signature").split(' ').collect();
    assert_eq!(
        sigs,
        [
            independent_signature(&new, r),
            independent_signature(&old, r)
        ]
    );

    // After the 24 h grace period only the new secret signs.
    app.clock.advance(Duration::hours(25).to_std().unwrap());
    // Someone else: the person caps would hold the first one back.
    app.consent(&app_key, "u-2", true, true).await;
    delivered_to(&app, &app_key, "c-2", "u-2").await;
    assert_eq!(send_due(&app).await, 1);
    let r = &receiver.received_requests().await.unwrap()[1];
    assert_eq!(
        header(r, "webhook-signature"),
        independent_signature(&new, r)
    );
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_the_brand_sees_why() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let mut o = options(None, None);
    o.tweak = |s| {
        s.webhook_allow_loopback_http = true;
        s.webhook_poll_ms = 0;
        s.webhook_disable_after_failures = 3;
    };
    let app = spawn_app_with(o).await;
    let (key, app_key) = brand_with_offer(&app).await;
    let hook = register(&app, &key, &format!("{}/hooks", receiver.uri())).await;
    delivered(&app, &app_key, "c-1").await;
    for _ in 0..3 {
        assert_eq!(send_due(&app).await, 1);
        app.clock.advance(Duration::hours(7).to_std().unwrap());
    }
    assert_eq!(send_due(&app).await, 0, "a disabled endpoint gets nothing");
    let a = app
        .get(
            &format!(
                "/v1/brands/chillco/webhooks/{}",
                hook["id"].as_str().unwrap()
            ),
            &key,
        )
        .await;
    assert_eq!(a.body["status"], "disabled", "{}", a.body);
    assert!(
        a.body["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("3 consecutive")
    );

    // The brand fixes its receiver and enables the endpoint again: the waiting message goes.
    let id = hook["id"].as_str().unwrap();
    let a = app
        .put(
            &format!("/v1/brands/chillco/webhooks/{id}"),
            &key,
            &json!({"url": hook["url"], "event_types": ["delivery.created"], "status": "active"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    crate::contract::conforms_to_document(&app, "/v1/brands/{brand}/webhooks/{id}", "put", &a)
        .await;
    assert_eq!(a.body["status"], "active");
    assert_eq!(a.body["disabled_reason"], Value::Null);
    assert_eq!(send_due(&app).await, 1);
    let attempts = app
        .get(&format!("/v1/brands/chillco/webhooks/{id}/attempts"), &key)
        .await;
    assert_eq!(attempts.body["items"][0]["outcome"], "delivered");

    // Every change is in the audit log, and no secret is.
    let log = app.get("/v1/audit/changes?brand=chillco", &key).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity"] == "webhook")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["update", "disable", "create"],
        "newest first: the brand's create, geoffer's disabling, the brand's re-enabling"
    );
    assert!(!log.body.to_string().contains("whsec_"));
}

#[tokio::test]
async fn erasure_removes_the_persons_webhook_messages_and_attempts() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&receiver)
        .await;
    let app = spawn_app_with(options(None, None)).await;
    let (key, app_key) = brand_with_offer(&app).await;
    register(&app, &key, &format!("{}/hooks", receiver.uri())).await;
    delivered(&app, &app_key, "c-1").await;
    assert_eq!(send_due(&app).await, 1);
    assert_eq!(app.count_rows("webhook_outbox").await, 1);
    assert_eq!(app.count_rows("webhook_attempts").await, 1);
    let a = app.delete("/v1/users/u-1", &app_key).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(app.count_rows("webhook_outbox").await, 0);
    assert_eq!(app.count_rows("webhook_attempts").await, 0);
}

#[tokio::test]
async fn webhook_answers_match_the_openapi_document() {
    use crate::contract::conforms_to_document as conforms;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&receiver)
        .await;
    let app = spawn_app_with(options(None, None)).await;
    let (key, app_key) = brand_with_offer(&app).await;
    let body =
        json!({"url": format!("{}/hooks", receiver.uri()), "event_types": ["delivery.created"]});
    let made = app.post("/v1/brands/chillco/webhooks", &key, &body).await;
    conforms(&app, "/v1/brands/{brand}/webhooks", "post", &made).await;
    let refused = app
        .post(
            "/v1/brands/chillco/webhooks",
            &key,
            &json!({"url": "https://10.0.0.1/", "event_types": ["delivery.created"]}),
        )
        .await;
    conforms(&app, "/v1/brands/{brand}/webhooks", "post", &refused).await;
    let id = made.body["id"].as_str().unwrap();
    let list = app.get("/v1/brands/chillco/webhooks", &key).await;
    conforms(&app, "/v1/brands/{brand}/webhooks", "get", &list).await;
    let one = app
        .get(&format!("/v1/brands/chillco/webhooks/{id}"), &key)
        .await;
    conforms(&app, "/v1/brands/{brand}/webhooks/{id}", "get", &one).await;
    let rotated = app
        .post(
            &format!("/v1/brands/chillco/webhooks/{id}/rotate-secret"),
            &key,
            &json!({}),
        )
        .await;
    conforms(
        &app,
        "/v1/brands/{brand}/webhooks/{id}/rotate-secret",
        "post",
        &rotated,
    )
    .await;
    delivered(&app, &app_key, "c-1").await;
    assert_eq!(send_due(&app).await, 1);
    let attempts = app
        .get(
            &format!("/v1/brands/chillco/webhooks/{id}/attempts?limit=1"),
            &key,
        )
        .await;
    conforms(
        &app,
        "/v1/brands/{brand}/webhooks/{id}/attempts",
        "get",
        &attempts,
    )
    .await;
    let attempt = attempts.body["items"][0]["id"].as_str().unwrap();
    let replayed = app
        .post(
            &format!("/v1/brands/chillco/webhooks/{id}/attempts/{attempt}/replay"),
            &key,
            &json!({}),
        )
        .await;
    conforms(
        &app,
        "/v1/brands/{brand}/webhooks/{id}/attempts/{attempt_id}/replay",
        "post",
        &replayed,
    )
    .await;
    let unknown = app
        .post(
            &format!(
                "/v1/brands/chillco/webhooks/{id}/attempts/{}/replay",
                uuid::Uuid::nil()
            ),
            &key,
            &json!({}),
        )
        .await;
    assert_problem(&unknown, 404);
}
