//! Cross-cutting request handling: request ids, a span and a metric per route template, and the
//! rewrite of any error response that is not yet problem+json (actix's own 404/405/413 and
//! extractor errors) so clients see one error format everywhere.

use crate::error::{PROBLEM_JSON, problem_response};
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, web};
use std::time::Instant;
use tracing::{Instrument, Level};

/// Header carrying the request id (taken from the client when sane, else generated).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request id, tracing span, access log line (level by [`access_log_level`]) and metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // The route and status are fields of the access log line, not of the span: recording
    // them into the span re-formatted its fields at every request (1.3 % of geoffer's CPU
    // in a check-in load, issue 18), and nothing logs inside the span after they are known.
    let span = tracing::info_span!("request", request_id = %id, method = %method);
    let mut res = next.call(req).instrument(span.clone()).await?;
    // The route template (not the raw path) keeps metric and log cardinality low.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(state) = state {
        if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
            // Shutting down: this answer is the connection's last, and says so, so the
            // client sends its next request elsewhere instead of into a closing socket.
            res.response_mut()
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        state
            .metrics
            .http_requests
            .with_label_values(&[&route, &method, &status.to_string()])
            .inc();
        state
            .metrics
            .http_latency
            .with_label_values(&[&route, &method])
            .observe(elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        let ms = elapsed.as_secs_f64() * 1e3;
        match access_log_level(status) {
            Level::ERROR => tracing::error!(route, status, ms, "request"),
            Level::WARN => tracing::warn!(route, status, ms, "request"),
            Level::INFO => tracing::info!(route, status, ms, "request"),
            _ => tracing::debug!(route, status, ms, "request"),
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

/// The level of a request's access log line. Answered requests are counted per route and
/// status in `http_requests_total`, so a line each at INFO would only repeat the metric at
/// the cost of a formatted write per check-in (issue 18): they log at DEBUG. A client's
/// mistake (4xx) is INFO, a 503 (overload, a dependency down, draining) WARN, any other
/// 5xx ERROR.
pub fn access_log_level(status: u16) -> Level {
    match status {
        503 => Level::WARN,
        500.. => Level::ERROR,
        400..=499 => Level::INFO,
        _ => Level::DEBUG,
    }
}

/// Rewrites non-problem error responses into problem+json, keeping their status and headers.
pub fn problemize<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // The console answers its errors with HTML pages of its own; those stay as they are.
    let is_page = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_problem || is_page {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let (slug, detail) = match status.as_u16() {
        404 => (
            "not-found",
            format!("no route for {} {}", req.method(), req.path()),
        ),
        405 => (
            "method-not-allowed",
            format!("{} is not allowed on {}", req.method(), req.path()),
        ),
        413 => (
            "payload-too-large",
            "the request body is larger than this endpoint accepts".to_string(),
        ),
        415 => (
            "unsupported-media-type",
            "send the body as application/json".to_string(),
        ),
        503 => (
            "unavailable",
            "the service is unavailable; retry later".to_string(),
        ),
        s if s >= 500 => ("internal", "internal error".to_string()),
        _ => (
            "bad-request",
            status
                .canonical_reason()
                .unwrap_or("bad request")
                .to_string(),
        ),
    };
    let mut new = problem_response(status, slug, detail);
    for (name, value) in old.headers() {
        if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let res: ServiceResponse<EitherBody<B>> = ServiceResponse::new(req, new).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_requests_log_at_debug_and_failures_above_it() {
        for ok in [200, 201, 204, 304] {
            assert_eq!(access_log_level(ok), Level::DEBUG, "{ok}");
        }
        for client in [400, 403, 404, 409, 422] {
            assert_eq!(access_log_level(client), Level::INFO, "{client}");
        }
        assert_eq!(access_log_level(503), Level::WARN);
        for server in [500, 502, 504] {
            assert_eq!(access_log_level(server), Level::ERROR, "{server}");
        }
    }
}
