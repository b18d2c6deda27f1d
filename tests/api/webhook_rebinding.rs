//! DNS rebinding: a name that resolved to a public address at registration and resolves to
//! a loopback one when the message is sent is not connected to; the attempt is recorded as
//! failed, saying why. The name's answers come from a resolver the test controls, plugged
//! into the same service and sender the app builds.

use crate::helpers::*;
use crate::webhooks::{brand_with_offer, options};
use geoffer::auth::{Principal, Role};
use geoffer::services::webhook_dns::Lookup;
use geoffer::services::webhook_sender::SenderConfig;
use geoffer::services::{WebhookSender, WebhookService};
use geoffer::store::webhooks::FailurePolicy;
use geoffer::webhooks::NewEndpoint;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `hooks.rebind.example` resolves to a public address until `rebind`, then to loopback.
#[derive(Default)]
struct Rebinding {
    rebound: AtomicBool,
    asked: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Lookup for Rebinding {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        self.asked.lock().unwrap().push(host.to_string());
        let ip = if self.rebound.load(Ordering::SeqCst) {
            "127.0.0.1"
        } else {
            "93.184.216.34"
        };
        Ok(vec![SocketAddr::new(ip.parse().unwrap(), port)])
    }
}

#[tokio::test]
async fn a_name_rebound_to_loopback_after_registration_is_refused_when_sending() {
    let app = spawn_app_with(options(None, None)).await;
    let (key, app_key) = brand_with_offer(&app).await;
    let dns = Arc::new(Rebinding::default());
    let store = app.state.store.clone();
    let service =
        WebhookService::new(store.clone(), app.clock.clone(), true).resolving(dns.clone());
    let admin = Principal {
        key_id: "test-admin".into(),
        role: Role::Admin,
        brand: None,
        app: None,
    };
    let new = |url: &str| NewEndpoint {
        url: url.into(),
        event_types: vec!["delivery.created".into()],
    };
    let hook = service
        .create(&admin, "chillco", new("https://hooks.rebind.example/in"))
        .await
        .expect("a public address passes registration");

    let a = app
        .checkin(&app_key, "c-1", "u-1", 40.7490, -73.9860, json!({}))
        .await;
    assert_eq!(a.body["decision"], "offer", "{}", a.body);
    dns.rebound.store(true, Ordering::SeqCst);
    let sender = WebhookSender::resolving(
        store,
        app.clock.clone(),
        SenderConfig {
            timeout: std::time::Duration::from_secs(2),
            batch: 10,
            policy: FailurePolicy {
                max_consecutive: 20,
                max_failing_for: chrono::Duration::hours(24),
            },
            allow_loopback_http: true,
        },
        dns.clone(),
    )
    .unwrap();
    assert_eq!(sender.send_due().await.unwrap(), 1);
    assert_eq!(
        dns.asked.lock().unwrap().as_slice(),
        ["hooks.rebind.example", "hooks.rebind.example"],
        "resolved at registration and again when connecting"
    );

    let attempts = app
        .get(
            &format!("/v1/brands/chillco/webhooks/{}/attempts", hook.id),
            &key,
        )
        .await;
    assert_eq!(attempts.status, 200, "{}", attempts.body);
    let attempt = &attempts.body["items"][0];
    assert_eq!(attempt["outcome"], "failed", "{attempt}");
    assert_eq!(attempt["status_code"], serde_json::Value::Null);
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.contains("a loopback address (127.0.0.1)")
            && error.contains("refused by the webhook address rules"),
        "{error}"
    );

    // Registration refuses the name now that it resolves to loopback.
    let refused = service
        .create(&admin, "chillco", new("https://hooks.rebind.example/again"))
        .await
        .expect_err("loopback is refused at registration");
    assert!(format!("{refused:?}").contains("loopback"), "{refused:?}");
}
