//! A webhook endpoint geoffer disabled for failing, as the brand user sees it: a warning on
//! the fences page (where `/console` leads a brand) and the offers list, naming the endpoint,
//! why and what to do; the webhooks page with **Re-enable**; after it, the warning is gone
//! and the waiting message is delivered.

use crate::browser::{WIDTHS, browser};
use crate::helpers::{TestApp, spawn_app_with};
use chrono::Duration;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Inside the seeded circle (Corner Store 5th Ave).
const AT: (f64, f64) = (40.7489, -73.9851);

async fn answering(receiver: &MockServer, status: u16) {
    receiver.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status))
        .mount(receiver)
        .await;
}

/// `hookco` with an endpoint at `receiver` that failed three times (disabled), and a second
/// one that only hears about that; returns the brand key and the failing endpoint's id.
async fn disabled_endpoint(
    app: &TestApp,
    receiver: &MockServer,
    ops: &MockServer,
) -> (String, String) {
    let key = app.brand_with_key("hookco").await;
    app.seed_fences("hookco", &key).await;
    let (s, hook) = app
        .post(
            "/v1/brands/hookco/webhooks",
            &key,
            json!({"url": format!("{}/hooks/geoffer-deliveries-endpoint", receiver.uri()),
                   "event_types": ["delivery.created"]}),
        )
        .await;
    assert_eq!(s, 201, "{hook}");
    let (s, b) = app
        .post(
            "/v1/brands/hookco/webhooks",
            &key,
            json!({"url": format!("{}/ops", ops.uri()), "event_types": ["endpoint.disabled"]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    app.offer_delivered("hookco", &key, "c-1", "u-1", AT).await;
    for _ in 0..3 {
        assert_eq!(app.webhook_sender.send_due().await.unwrap(), 1);
        app.clock.advance(Duration::hours(7).to_std().unwrap());
    }
    // `endpoint.disabled` to the other endpoint.
    assert_eq!(app.webhook_sender.send_due().await.unwrap(), 1);
    assert_eq!(ops.received_requests().await.unwrap().len(), 1);
    (key, hook["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_disabled_endpoint_is_announced_to_the_brand_until_it_is_enabled_again() {
    let Some(b) = browser().await else { return };
    let app = spawn_app_with(|s| {
        s.webhook_allow_loopback_http = true;
        s.webhook_poll_ms = 0;
        s.webhook_disable_after_failures = 3;
    })
    .await;
    let receiver = MockServer::start().await;
    answering(&receiver, 500).await;
    let ops = MockServer::start().await;
    answering(&ops, 204).await;
    let (key, id) = disabled_endpoint(&app, &receiver, &ops).await;
    let (s, hook) = app
        .get(&format!("/v1/brands/hookco/webhooks/{id}"), &key)
        .await;
    assert_eq!(s, 200);
    assert_eq!(hook["status"], "disabled", "{hook}");

    b.sign_in(&app.base, &key).await;
    let alert = format!("#webhook-alert-{id}");
    for width in WIDTHS {
        b.resize(width).await;
        // `/console` leads the brand to its fences: the warning is there, and on the offers.
        for (page, path) in [
            ("webhook-alert-fences", "/console".to_string()),
            (
                "webhook-alert-offers",
                "/console/brands/hookco/offers".into(),
            ),
            (
                "webhooks-disabled",
                "/console/brands/hookco/webhooks".into(),
            ),
        ] {
            b.goto(&app.base, &path).await;
            let text = b.text(&alert).await;
            assert!(
                text.contains("A webhook endpoint is disabled."),
                "{page}: {text}"
            );
            assert!(
                text.contains("/hooks/geoffer-deliveries-endpoint"),
                "names it: {text}"
            );
            assert!(text.contains("failed 3 times in a row"), "why: {text}");
            assert!(
                text.contains("the receiver answered 500"),
                "last error: {text}"
            );
            assert!(
                text.contains("What to do: fix the receiver, then re-enable it"),
                "{text}"
            );
            assert!(b.find(&alert).await.is_displayed().await.unwrap());
            b.assert_no_sideways_scroll(page).await;
            b.screenshot(page, width).await;
        }
    }
    // The warning links to the endpoint on the webhooks page.
    b.goto(&app.base, "/console/brands/hookco/fences").await;
    b.find(&format!("{alert} a")).await.click().await.unwrap();
    b.find(&format!("#endpoint-{id} .status-disabled")).await;

    // Fixed; re-enabled in the console: the warning is gone and the message goes at once.
    answering(&receiver, 204).await;
    b.find(&format!("#enable-{id}"))
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_text_containing("#notice", "enabled again").await;
    assert_eq!(b.count(".alert").await, 0);
    assert_eq!(app.webhook_sender.send_due().await.unwrap(), 1);
    let (_, hook) = app
        .get(&format!("/v1/brands/hookco/webhooks/{id}"), &key)
        .await;
    assert_eq!(hook["status"], "active", "{hook}");
    assert_eq!(hook["consecutive_failures"], 0);
    for width in WIDTHS {
        b.resize(width).await;
        b.goto(&app.base, "/console/brands/hookco/webhooks").await;
        b.find(&format!("#endpoint-{id} .status-active")).await;
        b.assert_no_sideways_scroll("webhooks-enabled").await;
        b.screenshot("webhooks-enabled", width).await;
        b.goto(&app.base, "/console").await;
        b.find("#webhooks-link").await;
        assert_eq!(b.count(".alert").await, 0, "the fences page has no warning");
    }
}
