//! `POST /v1/checkins`: a location report in, an offer or "none" out.

use super::extract::ValidJson;
use crate::auth::Principal;
use crate::checkins::{CheckinInput, CheckinResponse};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// Decide a check-in (app). Retrying the same `checkin_id` returns the same answer.
#[utoipa::path(post, path = "/v1/checkins", tag = "checkins", security(("bearer" = [])), request_body = CheckinInput,
    responses((status = 200, description = "An offer, or none and why", body = CheckinResponse),
              (status = 403, description = "Not an app key, or no location consent (`consent-required`)"),
              (status = 409, description = "The `checkin_id` was already used by this app for another user or another report (`checkin-id-reused`); nothing changed")))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<CheckinInput>,
) -> Result<HttpResponse, ApiError> {
    let app = who.require_app()?.to_string();
    let _turn = state.admission.enter().await?;
    let answer = state.engine.decide(&app, body.0).await?;
    Ok(HttpResponse::Ok().json(answer))
}
