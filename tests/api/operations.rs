use crate::helpers::*;
use reqwest::Method;
use std::collections::BTreeSet;

#[tokio::test]
async fn health_and_readiness_answer_without_a_key() {
    let app = spawn_app().await;
    let h = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(h.status, 200);
    let r = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (r.status.as_u16(), r.body["checks"]["store"].as_str()),
        (200, Some("ok"))
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.get("/v1/brands/chillco/geofences", &key).await;
    let res = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(text.contains("geoffer_http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/v1/brands/{brand}/geofences\""),
        "{text}"
    );
    assert!(text.contains("geoffer_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("x-request-id").is_some());
    let res = app
        .client
        .get(format!("{}/v1/nothing", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let doc = app
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let served = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/brands",
        "/v1/brands/{brand}",
        "/v1/keys",
        "/v1/brands/{brand}/geofences",
        "/v1/brands/{brand}/geofences/import",
        "/v1/brands/{brand}/geofences/{id}",
        "/v1/brands/{brand}/offers",
        "/v1/brands/{brand}/offers/{id}",
        "/v1/audit/changes",
        "/v1/audit/reads",
        "/v1/deliveries",
        "/v1/deliveries/{delivery_id}",
        "/v1/decisions/{checkin_id}",
        "/v1/users/{user_id}/timeline",
        "/v1/users/{user_id}/consent",
        "/v1/checkins",
    ];
    for path in served {
        assert!(
            documented.contains(path),
            "{path} missing from openapi.json"
        );
    }
    assert!(doc["components"]["schemas"].get("Problem").is_some());
    assert!(doc["components"]["securitySchemes"].get("bearer").is_some());
}
