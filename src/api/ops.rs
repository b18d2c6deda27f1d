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

/// Readiness: the store answers and can record (a small committed write), and Redis (when
/// configured) answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (store, writes, limiter) = futures_util::join!(
        state.store.ping(),
        state.store.write_probe(),
        state.engine.limiter().ping()
    );
    let (store, writes, limiter) = (store.is_ok(), writes.is_ok(), limiter.is_ok());
    let draining = state.draining.load(std::sync::atomic::Ordering::Relaxed);
    let ready = store && writes && limiter && !draining;
    let ok = |b: bool| if b { "ok" } else { "down" };
    let checks = json!({ "store": ok(store), "store_writes": ok(writes), "limiter": ok(limiter), "limiter_kind": state.engine.limiter().kind(), "draining": draining });
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
