//! Health, readiness and metrics (no key needed).

use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the store (and Redis, when configured) answer.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.ping().await.is_ok();
    let limiter = state.engine.limiter.ping().await.is_ok();
    let ok = |b: bool| if b { "ok" } else { "down" };
    let body = json!({
        "status": if store && limiter { "ready" } else { "unavailable" },
        "checks": { "store": ok(store), "limiter": ok(limiter), "limiter_kind": state.engine.limiter.kind() },
    });
    if store && limiter {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
