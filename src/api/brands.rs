//! `/v1/brands`: admins create brands; brand keys read their own.

use super::BrandPath;
use super::extract::ValidJson;
use crate::auth::Principal;
use crate::error::ApiError;
pub use crate::services::catalog::{Brand, NewBrand};
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// Create a brand (admin).
#[utoipa::path(post, path = "/v1/brands", tag = "brands", request_body = NewBrand,
    security(("bearer" = [])),
    responses((status = 201, description = "The new brand", body = Brand),
              (status = 409, description = "A brand with this id exists")))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<NewBrand>,
) -> Result<HttpResponse, ApiError> {
    let brand = state.services.catalog.create_brand(&who, body.0).await?;
    Ok(HttpResponse::Created().json(brand))
}

/// List brands (admin and support see all; a brand key sees its own).
#[utoipa::path(get, path = "/v1/brands", tag = "brands", security(("bearer" = [])),
    responses((status = 200, description = "The brands this key may see", body = Vec<Brand>)))]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    let brands = state.services.catalog.list_brands(&who).await?;
    Ok(HttpResponse::Ok().json(brands))
}

/// One brand.
#[utoipa::path(get, path = "/v1/brands/{brand}", tag = "brands", security(("bearer" = [])),
    params(BrandPath), responses((status = 200, description = "The brand", body = Brand)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
) -> Result<HttpResponse, ApiError> {
    let brand = state.services.catalog.brand(&who, &path.brand).await?;
    Ok(HttpResponse::Ok().json(brand))
}
