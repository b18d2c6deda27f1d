//! `GET /v1/decisions/{checkin_id}`: why a person did or did not get an offer, explained.

use super::extract::ValidQuery;
use super::reader;
use crate::auth::Principal;
use crate::error::ApiError;
pub use crate::services::support::DecisionView;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

/// Which decision, when several apps used the same check-in id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    /// The app that reported the check-in (needed only when several apps used the id).
    pub app: Option<String>,
}

/// The full trace of one decision, explained (admin, support; brand keys only decisions that
/// involved their fences or offers, showing only their part).
#[utoipa::path(get, path = "/v1/decisions/{checkin_id}", tag = "support", security(("bearer" = [])),
    params(("checkin_id" = String, Path, description = "the app's check-in id"), DecisionQuery),
    responses((status = 200, description = "The decision, explained", body = DecisionView)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    q: ValidQuery<DecisionQuery>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .support
        .decision(&reader(&who, &req), &path, q.0.app.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
