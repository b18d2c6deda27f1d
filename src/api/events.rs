//! `POST /v1/events`: feedback from apps, in batches; each event gets its own outcome.

use super::extract::ValidJson;
use crate::auth::Principal;
use crate::error::{ApiError, FieldError, Problem, problem_type, title_for};
use crate::events::{Event, EventKind, MAX_BATCH, parse};
use crate::people::PersonId;
use crate::state::AppState;
use crate::store::Applied;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A batch of events.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1–500 events, each an `EventInput` (see the schema of that name). Each is checked on its
    /// own: a malformed one is answered as `rejected` in the results, with its problem, and
    /// does not sink the others.
    #[schema(min_items = 1, max_items = 500)]
    pub events: Vec<Value>,
}

/// What happened to one event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResult {
    /// The event's id, when it had one.
    pub event_id: Option<String>,
    /// `accepted`, `duplicate` (seen before: nothing changed) or `rejected`.
    pub status: &'static str,
    /// Why it was rejected (problem+json body, with its own status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// Accepted, but something secondary did not happen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The batch answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// One entry per event, in order.
    pub results: Vec<EventResult>,
    /// Counts.
    pub accepted: usize,
    /// Counts.
    pub duplicates: usize,
    /// Counts.
    pub rejected: usize,
}

fn problem(status: StatusCode, slug: &str, detail: String, errors: Vec<FieldError>) -> Problem {
    Problem {
        type_: problem_type(slug),
        title: title_for(status),
        status: status.as_u16(),
        detail,
        errors,
    }
}

fn rejected(event_id: Option<String>, p: Problem) -> EventResult {
    EventResult {
        event_id,
        status: "rejected",
        problem: Some(p),
        warnings: Vec::new(),
    }
}

/// Record feedback events (app). A bad event does not sink the good ones; replaying a batch
/// changes nothing.
#[utoipa::path(post, path = "/v1/events", tag = "events", security(("bearer" = [])), request_body = EventBatch,
    responses((status = 200, description = "One result per event", body = BatchResult)))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<EventBatch>,
) -> Result<HttpResponse, ApiError> {
    let app = who.require_app()?;
    let batch = body.0.events;
    if batch.is_empty() || batch.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "/events",
            format!("send 1-{MAX_BATCH} events per batch, got {}", batch.len()),
        ));
    }
    let now = state.engine.clock().now();
    let mut results = Vec::with_capacity(batch.len());
    for (i, raw) in batch.iter().enumerate() {
        results.push(one(&state, app, raw, i, now).await);
    }
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    let (accepted, duplicates, rejected) =
        (count("accepted"), count("duplicate"), count("rejected"));
    Ok(HttpResponse::Ok().json(BatchResult {
        results,
        accepted,
        duplicates,
        rejected,
    }))
}

async fn one(
    state: &AppState,
    app: &str,
    raw: &Value,
    i: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> EventResult {
    let id = raw
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    // A follow names a brand people can follow here: one that exists (checked in memory).
    let known_brand = |ev: Event| match &ev.kind {
        EventKind::Follow { brand } | EventKind::Unfollow { brand }
            if state.engine.catalog().brand_name(brand).is_none() =>
        {
            Err(vec![FieldError::new(
                format!("/events/{i}/brand"),
                format!("no brand `{brand}`"),
            )])
        }
        _ => Ok(ev),
    };
    let ev = match parse(raw, &format!("/events/{i}"), now).and_then(known_brand) {
        Ok(ev) => ev,
        Err(errors) => {
            let detail = format!("event {i} is invalid; see `errors`");
            return rejected(
                id,
                problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    detail,
                    errors,
                ),
            );
        }
    };
    let person = PersonId::of(app, &ev.user_id);
    let consent = match state.engine.consent(app, &ev.user_id, &person).await {
        Ok(c) => c,
        Err(e) => return rejected(id, failure(e)),
    };
    let allowed = consent.location && (consent.personalization || !ev.kind.is_personal());
    if !allowed {
        let need = if ev.kind.is_personal() {
            "personalization"
        } else {
            "location"
        };
        let detail = format!(
            "user `{}` has not given {need} consent, so this {} event is not kept",
            ev.user_id,
            ev.kind.name()
        );
        return rejected(
            id,
            problem(StatusCode::FORBIDDEN, "consent-required", detail, vec![]),
        );
    }
    match state.store.apply_event(app, &person, &ev, raw).await {
        Ok(Applied::Duplicate) => EventResult {
            event_id: id,
            status: "duplicate",
            problem: None,
            warnings: Vec::new(),
        },
        Ok(Applied::Accepted { brand }) => {
            let mut warnings = Vec::new();
            if let (EventKind::Dismissed { .. }, Some(brand)) = (&ev.kind, brand) {
                let days = state.engine.config().dismissal_cooldown_days;
                let cool = std::time::Duration::from_secs(days.max(0) as u64 * 86_400);
                if let Err(e) = state
                    .engine
                    .limiter()
                    .cool_down(person.as_str(), &brand, cool)
                    .await
                {
                    tracing::error!(error = %e, "brand cool-down not recorded");
                    warnings.push(format!("the brand cool-down could not be recorded ({e}); the dismissal itself is kept"));
                }
            }
            EventResult {
                event_id: id,
                status: "accepted",
                problem: None,
                warnings,
            }
        }
        Err(e) => rejected(id, failure(e.into())),
    }
}

/// An event that failed for a reason other than its content, as the problem the whole
/// request would have answered (a full disk is 503 `unavailable`, not `internal`).
fn failure(e: ApiError) -> Problem {
    if actix_web::ResponseError::status_code(&e).is_server_error() {
        tracing::error!(error = ?e, "event failed");
    }
    e.to_problem()
}
