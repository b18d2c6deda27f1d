//! `/v1/users/{user_id}/consent`: apps record what their users allow.

use super::extract::ValidJson;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::people::{Consent, ConsentInput, check_user_id};
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// Set a user's consent (app).
#[utoipa::path(put, path = "/v1/users/{user_id}/consent", tag = "people", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "the app's user id")), request_body = ConsentInput,
    responses((status = 200, body = Consent), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_consent(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
    body: ValidJson<ConsentInput>,
) -> Result<HttpResponse, ApiError> {
    let app = who.require_app()?;
    check_user_id(&path).map_err(|e| ApiError::invalid("/path/user_id", e))?;
    let consent = state.store.put_consent(app, &path, &body.0).await?;
    Ok(HttpResponse::Ok().json(consent))
}

/// Read a user's consent (app). Someone who never answered has everything off.
#[utoipa::path(get, path = "/v1/users/{user_id}/consent", tag = "people", security(("bearer" = [])),
    params(("user_id" = String, Path)), responses((status = 200, body = Consent), (status = 403, body = Problem)))]
pub async fn get_consent(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = who.require_app()?;
    check_user_id(&path).map_err(|e| ApiError::invalid("/path/user_id", e))?;
    let consent = state
        .store
        .get_consent(app, &path)
        .await?
        .unwrap_or_else(|| Consent::none(&path));
    Ok(HttpResponse::Ok().json(consent))
}
