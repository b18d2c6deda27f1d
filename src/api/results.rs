//! `GET /v1/brands/{brand}/offers/{id}/results`: did the offer change behaviour?

use super::brands::existing;
use super::{BrandItemPath, id_path};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::offers::results::{OfferResults, results};
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// Deliveries, opens, dismissals, redemptions and conversions against the holdout, with lift
/// and its 95% interval (brand for its own offers, admin, support).
#[utoipa::path(get, path = "/v1/brands/{brand}/offers/{id}/results", tag = "offers", security(("bearer" = [])),
    params(BrandItemPath), responses((status = 200, description = "The offer's results", body = OfferResults)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
) -> Result<HttpResponse, ApiError> {
    let brand = existing(&state, &who, &path.brand, false).await?;
    let id = id_path(&path.id, "offer")?;
    state
        .store
        .get_offer(&brand, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("offer `{id}` not found")))?;
    let days = state.engine.config().attribution_days;
    let counts = state
        .store
        .offer_results(id, chrono::Duration::days(days))
        .await?;
    Ok(HttpResponse::Ok().json(results(id, days, counts)))
}
