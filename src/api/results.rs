//! `GET /v1/brands/{brand}/offers/{id}/results`: did the offer change behaviour?

use super::brands::existing;
use super::id_path;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::offers::results::{OfferResults, results};
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// Deliveries, opens, dismissals, redemptions and conversions against the holdout, with lift
/// and its 95% interval (brand for its own offers, admin, support).
#[utoipa::path(get, path = "/v1/brands/{brand}/offers/{id}/results", tag = "offers", security(("bearer" = [])),
    params(("brand" = String, Path), ("id" = uuid::Uuid, Path)), responses((status = 200, body = OfferResults), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let brand = existing(&state, &who, &path.0, false).await?;
    let id = id_path(&path.1, "offer")?;
    state
        .store
        .get_offer(&brand, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("offer `{id}` not found")))?;
    let days = state.engine.config.attribution_days;
    let counts = state
        .store
        .offer_results(id, chrono::Duration::days(days))
        .await?;
    Ok(HttpResponse::Ok().json(results(id, days, counts)))
}
