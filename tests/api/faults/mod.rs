//! Fault runs (issue 14): a healthy Redis under a burst, Redis down, a full disk, the weather
//! upstream recovering (in weather.rs), and SIGTERM with requests in flight.

mod disk;
mod postgres;
mod redis_burst;
mod shutdown;
mod webhooks;

use crate::helpers::*;
use serde_json::json;

/// Where the fault tests' check-ins happen: inside the one fence.
pub const NEAR: (f64, f64) = (40.7490, -73.9860);

/// An app built with `options`, one fence with an always-eligible offer, and `users`
/// people (`u-0`, `u-1`, ...) who consented; returns the app and an app key.
pub async fn world(options: Options, users: usize) -> (TestApp, String) {
    let app = spawn_app_with(options).await;
    let brand_key = app.brand_with_key("chillco").await;
    let fence = app
        .post("/v1/brands/chillco/geofences", &brand_key, &circle_fence())
        .await;
    assert_eq!(fence.status, 201, "{}", fence.body);
    let offer = app
        .post(
            "/v1/brands/chillco/offers",
            &brand_key,
            &json!({"name": "Always", "title": "Hello", "body": "At {{ fence.name }}", "value": 1.0}),
        )
        .await;
    assert_eq!(offer.status, 201, "{}", offer.body);
    let key = app.key("app", None).await;
    for u in 0..users {
        app.consent(&key, &format!("u-{u}"), true, true).await;
    }
    (app, key)
}
