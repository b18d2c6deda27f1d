//! `GET /v1/brands/{brand}/offers/{id}/results`: did the offer change behaviour?

use super::BrandItemPath;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::offers::results::OfferResults;
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
    let results = state
        .services
        .support
        .results(&who, &path.brand, &path.id)
        .await?;
    Ok(HttpResponse::Ok().json(results))
}
