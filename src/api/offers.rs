//! `/v1/brands/{brand}/offers`: brands manage their offers.

use super::extract::{ValidJson, ValidQuery};
use super::{BrandItemPath, BrandPath};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::offers::{OfferSpec, OfferView};
use crate::services::backtest::{BacktestInput, BacktestView};
use crate::services::trial::{TrialInput, TrialView};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of the offer list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From a previous page's `next_cursor`.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A page of offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferPage {
    /// The offers.
    pub items: Vec<OfferView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Create an offer.
#[utoipa::path(post, path = "/v1/brands/{brand}/offers", tag = "offers", security(("bearer" = [])),
    params(BrandPath), request_body = OfferSpec,
    responses((status = 201, description = "The new offer", body = OfferView)))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
    body: ValidJson<OfferSpec>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .catalog
        .create_offer(&who, &path.brand, body.0)
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// List a brand's offers.
#[utoipa::path(get, path = "/v1/brands/{brand}/offers", tag = "offers", security(("bearer" = [])),
    params(BrandPath, ListQuery), responses((status = 200, description = "A page of offers", body = OfferPage)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
    q: ValidQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .services
        .catalog
        .list_offers(&who, &path.brand, q.0.cursor.as_deref(), q.0.limit)
        .await?;
    Ok(HttpResponse::Ok().json(OfferPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One offer.
#[utoipa::path(get, path = "/v1/brands/{brand}/offers/{id}", tag = "offers", security(("bearer" = [])),
    params(BrandItemPath), responses((status = 200, description = "The offer", body = OfferView)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .catalog
        .offer(&who, &path.brand, &path.id)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Replace an offer.
#[utoipa::path(put, path = "/v1/brands/{brand}/offers/{id}", tag = "offers", security(("bearer" = [])),
    params(BrandItemPath), request_body = OfferSpec,
    responses((status = 200, description = "The offer as replaced", body = OfferView),
              (status = 409, description = "The offer changed meanwhile; retry")))]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
    body: ValidJson<OfferSpec>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .catalog
        .update_offer(&who, &path.brand, &path.id, body.0)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Retire an offer.
#[utoipa::path(delete, path = "/v1/brands/{brand}/offers/{id}", tag = "offers", security(("bearer" = [])),
    params(BrandItemPath), responses((status = 204, description = "Retired")))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .catalog
        .delete_offer(&who, &path.brand, &path.id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Try it: the decision a test person would get at a point, at a moment, in given weather —
/// through the real engine, limited to this brand's fences and offers. Nothing is recorded:
/// no decision, no delivery, no cap or budget used, nothing in results.
#[utoipa::path(post, path = "/v1/brands/{brand}/offers/try", tag = "offers", security(("bearer" = [])),
    params(BrandPath), request_body = TrialInput,
    responses((status = 200, description = "The decision geoffer would make, explained", body = TrialView)))]
pub async fn try_it(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
    body: ValidJson<TrialInput>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .trial
        .try_it(&who, &path.brand, body.0)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Backtest: what an offer (new, or an edit of a live one) would have done over a past
/// period, replayed on the brand's recorded decisions through the same rules, scoring and
/// caps as live decisions (caps on a virtual limiter). Nothing is recorded and no person's
/// data is returned: only counts.
#[utoipa::path(post, path = "/v1/brands/{brand}/offers/backtest", tag = "offers", security(("bearer" = [])),
    params(BrandPath), request_body = BacktestInput,
    responses((status = 200, description = "What the offer would have done, in numbers and in words", body = BacktestView)))]
pub async fn backtest(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
    body: ValidJson<BacktestInput>,
) -> Result<HttpResponse, ApiError> {
    // Awaited here, in the request's own future: a client that disconnects drops it, and
    // the replay stops at its next await.
    let view = state
        .services
        .backtest
        .backtest(&who, &path.brand, body.0)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
