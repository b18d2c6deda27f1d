//! Health, readiness and metrics (no key needed).

use crate::error::{PROBLEM_JSON, RETRY_AFTER_S, problem_type, title_for};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the store answers and can record (a small committed write), Redis (when
/// configured) answers, and (with a shared PostgreSQL change log) the in-memory catalog
/// caught up with the log within `catalog_max_lag_ms`.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let c = state.services.health.check().await;
    let draining = state.draining.load(std::sync::atomic::Ordering::Relaxed);
    let ready = c.store && c.store_writes && c.limiter && c.catalog && !draining;
    let ok = |b: bool| if b { "ok" } else { "down" };
    let checks = json!({
        "store": ok(c.store),
        "store_writes": ok(c.store_writes),
        "limiter": ok(c.limiter),
        "limiter_kind": c.limiter_kind,
        "catalog": ok(c.catalog),
        "catalog_lag_ms": c.catalog_lag_ms,
        "catalog_max_lag_ms": c.catalog_lag_ms.map(|_| state.settings.catalog_max_lag_ms),
        "draining": draining,
    });
    if ready {
        return HttpResponse::Ok().json(json!({ "status": "ready", "checks": checks }));
    }
    // A problem of its own (type `unavailable`, the checks as an extension member), so the
    // error middleware keeps it as it is.
    let body = json!({
        "type": problem_type("unavailable"),
        "title": title_for(StatusCode::SERVICE_UNAVAILABLE),
        "status": 503,
        "detail": "a dependency is down; see `checks`",
        "checks": checks,
    });
    HttpResponse::ServiceUnavailable()
        .insert_header((RETRY_AFTER, RETRY_AFTER_S))
        .content_type(PROBLEM_JSON)
        .body(body.to_string())
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
