//! `GET /v1/decisions/{checkin_id}`: why a person did or did not get an offer.

use crate::auth::{Principal, Role};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::store::StoredDecision;
use actix_web::{HttpResponse, web};

/// The full trace of one decision (admin, support).
#[utoipa::path(get, path = "/v1/decisions/{checkin_id}", tag = "support", security(("bearer" = [])),
    params(("checkin_id" = String, Path, description = "the app's check-in id")),
    responses((status = 200, body = Vec<StoredDecision>, description = "one entry per app that used this check-in id"),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match who.role {
        Role::Admin | Role::Support => {}
        r => {
            return Err(ApiError::Forbidden(format!(
                "{} keys cannot read decisions",
                r.as_str()
            )));
        }
    }
    let found = state.store.decisions_by_checkin(&path).await?;
    if found.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no decision for check-in `{}` (check-ins that matched no fence keep nothing)",
            path.as_str()
        )));
    }
    Ok(HttpResponse::Ok().json(found))
}
