//! `/v1/brands/{brand}/geofences`: brands manage their fences.

use super::extract::{ValidJson, ValidQuery};
use super::{BrandItemPath, BrandPath};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::fences::{FeatureInput, FenceFeature};
pub use crate::services::catalog::{ImportInput, ImportResult, MAX_IMPORT};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of the fence list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only fences with this tag (1–64 lowercase letters, digits or `-`).
    #[param(pattern = r"^[a-z0-9-]{1,64}$")]
    pub tag: Option<String>,
    /// From a previous page's `next_cursor`.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A page of fences as a GeoJSON FeatureCollection.
#[derive(Debug, Serialize, ToSchema)]
pub struct FencePageView {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// The fences.
    pub features: Vec<FenceFeature>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Create a fence.
#[utoipa::path(post, path = "/v1/brands/{brand}/geofences", tag = "geofences", security(("bearer" = [])),
    params(BrandPath), request_body = FeatureInput,
    responses((status = 201, description = "The new fence", body = FenceFeature),
              (status = 409, description = "The brand already has a fence with this `external_id`")))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
    body: ValidJson<FeatureInput>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .catalog
        .create_fence(&who, &path.brand, &body.0)
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// List a brand's fences.
#[utoipa::path(get, path = "/v1/brands/{brand}/geofences", tag = "geofences", security(("bearer" = [])),
    params(BrandPath, ListQuery), responses((status = 200, description = "A page of fences", body = FencePageView)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
    q: ValidQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let page = state
        .services
        .catalog
        .list_fences(&who, &path.brand, q.tag, q.cursor.as_deref(), q.limit)
        .await?;
    Ok(HttpResponse::Ok().json(FencePageView {
        type_: "FeatureCollection",
        features: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// One fence.
#[utoipa::path(get, path = "/v1/brands/{brand}/geofences/{id}", tag = "geofences", security(("bearer" = [])),
    params(BrandItemPath), responses((status = 200, description = "The fence", body = FenceFeature)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .catalog
        .fence(&who, &path.brand, &path.id)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Replace a fence.
#[utoipa::path(put, path = "/v1/brands/{brand}/geofences/{id}", tag = "geofences", security(("bearer" = [])),
    params(BrandItemPath), request_body = FeatureInput,
    responses((status = 200, description = "The fence as replaced", body = FenceFeature),
              (status = 409, description = "Another fence of the brand has this `external_id`")))]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
    body: ValidJson<FeatureInput>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .catalog
        .update_fence(&who, &path.brand, &path.id, &body.0)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Delete a fence.
#[utoipa::path(delete, path = "/v1/brands/{brand}/geofences/{id}", tag = "geofences", security(("bearer" = [])),
    params(BrandItemPath), responses((status = 204, description = "Deleted")))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .catalog
        .delete_fence(&who, &path.brand, &path.id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Import a FeatureCollection, all or nothing; features whose `external_id` exists replace it.
#[utoipa::path(post, path = "/v1/brands/{brand}/geofences/import", tag = "geofences", security(("bearer" = [])),
    params(BrandPath), request_body = ImportInput,
    responses((status = 200, description = "What the import did", body = ImportResult),
              (status = 409, description = "Two fences would share an `external_id`")))]
pub async fn import(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
    body: ValidJson<ImportInput>,
) -> Result<HttpResponse, ApiError> {
    let result = state
        .services
        .catalog
        .import_fences(&who, &path.brand, &body.0)
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
