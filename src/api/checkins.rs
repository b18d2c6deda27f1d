//! `POST /v1/checkins`: a location report in, an offer or "none" out. `POST
//! /v1/checkins/batch`: up to 100 reports in, one outcome per report out.

use super::extract::{ValidJson, from_value};
use crate::auth::Principal;
use crate::checkins::batch::{BatchResponse, MAX_BATCH};
use crate::checkins::{CheckinInput, CheckinResponse};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

/// Decide a check-in (app). Retrying the same `checkin_id` returns the same answer.
#[utoipa::path(post, path = "/v1/checkins", tag = "checkins", security(("bearer" = [])), request_body = CheckinInput,
    responses((status = 200, description = "An offer, or none and why", body = CheckinResponse),
              (status = 403, description = "Not an app key, or no location consent (`consent-required`)"),
              (status = 409, description = "The `checkin_id` was already used by this app for another user or another report (`checkin-id-reused`); nothing changed"),
              (status = 429, description = "The app is past `app_requests_per_minute` (`app-request-limit`, with `Retry-After`); nothing was decided"),
              (status = 503, description = "Overloaded or a dependency is down (`unavailable`, with `Retry-After`); decided before any cap was claimed")))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<CheckinInput>,
) -> Result<HttpResponse, ApiError> {
    let app = who.require_app()?.to_string();
    state.quota.take(&app)?;
    let _turn = state.admission.enter().await?;
    let answer = state.engine.decide(&app, body.0).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// A batch of reports (`POST /v1/checkins/batch`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    /// 1–100 reports, each an object as `POST /v1/checkins` takes it (`CheckinInput`), of one
    /// or more users, in any order. A report that does not read as one gets its own problem
    /// in the answer; the others are decided.
    #[schema(schema_with = any_reports)]
    pub checkins: Vec<serde_json::Value>,
}

/// The schema of a batch's `checkins`: documenting the items as `CheckinInput` would promise
/// a 4xx the service never sends (a malformed report is answered in the results).
fn any_reports() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::domain::schemas::any_items(
        "A report: see the `CheckinInput` schema for its fields",
        MAX_BATCH,
    )
}

/// Decide a batch of check-ins (app): each report as `POST /v1/checkins` would, a person's
/// reports in the order they were recorded. Retrying the batch answers the same.
#[utoipa::path(post, path = "/v1/checkins/batch", tag = "checkins", security(("bearer" = [])), request_body = BatchInput,
    responses((status = 200, description = "One outcome per report, in request order: its answer, or its problem", body = BatchResponse),
              (status = 400, description = "The body is not JSON (`bad-request`); nothing decided"),
              (status = 403, description = "Not an app key (`forbidden`)"),
              (status = 413, description = "The body is larger than `body_limit_bytes` (`payload-too-large`); nothing decided"),
              (status = 422, description = "No `checkins` array, or more than 100 reports (`validation`); nothing decided"),
              (status = 429, description = "The app is past `app_requests_per_minute` (`app-request-limit`, with `Retry-After`); nothing decided"),
              (status = 503, description = "The decision writer's queue is full (`unavailable`, with `Retry-After`); nothing decided")))]
pub async fn batch(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<BatchInput>,
) -> Result<HttpResponse, ApiError> {
    let app = who.require_app()?.to_string();
    let n = body.0.checkins.len();
    if !(1..=MAX_BATCH).contains(&n) {
        return Err(ApiError::invalid(
            "/checkins",
            format!("a batch carries 1-{MAX_BATCH} reports, got {n}"),
        ));
    }
    state.quota.take(&app)?;
    let reports = body.0.checkins.into_iter().map(from_value).collect();
    let answer = state
        .engine
        .decide_batch(&app, reports, &state.admission)
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
