//! `/v1/brands/{brand}/geofences`: brands manage their fences.

use super::brands::existing;
use super::extract::{ValidJson, ValidQuery};
use super::{BrandItemPath, BrandPath, id_path, paging};
use crate::auth::Principal;
use crate::changes::Change;
use crate::error::{ApiError, FieldError};
use crate::fences::{FeatureInput, FenceFeature, parse_feature};
use crate::state::AppState;
use crate::store::{FencePage, Upserted};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

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

/// A FeatureCollection to import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportInput {
    /// Must be `FeatureCollection`.
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$")]
    pub type_: String,
    /// The fences: 1–200,000, `external_id`s distinct.
    #[schema(min_items = 1, max_items = 200000)]
    pub features: Vec<FeatureInput>,
    /// Accepted and ignored.
    #[serde(default)]
    pub bbox: Option<Vec<f64>>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// New fences.
    pub created: usize,
    /// Fences replaced because their `external_id` already existed.
    pub updated: usize,
    /// The fence ids, in the order of the features.
    pub ids: Vec<Uuid>,
}

/// The most features one import takes.
pub const MAX_IMPORT: usize = 200_000;

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
    let brand = existing(&state, &who, &path.brand, true).await?;
    let draft = parse_feature(&body.0, "").map_err(ApiError::validation)?;
    let mut stored = state
        .store
        .put_fences(&who, &brand, vec![draft], false, state.engine.clock.now())
        .await?;
    let (fence, _) = stored
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("store returned no fence")))?;
    let view = fence.to_feature();
    state.feed.publish(Change::FenceUpserted(Arc::new(fence)));
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
    let brand = existing(&state, &who, &path.brand, false).await?;
    let q = q.0;
    if let Some(tag) = q.tag.as_deref() {
        crate::domain::check_tag(tag).map_err(|e| ApiError::BadRequest {
            errors: vec![FieldError::new("/query/tag", e.clone())],
            detail: e,
        })?;
    }
    let limit = paging::limit(q.limit)?;
    let page = FencePage {
        tag: q.tag,
        after: paging::decode::<Uuid>(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let mut fences = state.store.list_fences(&brand, &page).await?;
    let more = fences.len() > limit as usize;
    fences.truncate(limit as usize);
    let next_cursor = more
        .then(|| fences.last().map(|f| paging::encode(&f.id.to_string())))
        .flatten();
    Ok(HttpResponse::Ok().json(FencePageView {
        type_: "FeatureCollection",
        features: fences.iter().map(|f| f.to_feature()).collect(),
        next_cursor,
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
    let brand = existing(&state, &who, &path.brand, false).await?;
    let id = id_path(&path.id, "geofence")?;
    let fence = state
        .store
        .get_fence(&brand, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(HttpResponse::Ok().json(fence.to_feature()))
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
    let brand = existing(&state, &who, &path.brand, true).await?;
    let id = id_path(&path.id, "geofence")?;
    let draft = parse_feature(&body.0, "").map_err(ApiError::validation)?;
    let fence = state
        .store
        .update_fence(&who, &brand, id, draft, state.engine.clock.now())
        .await?
        .ok_or_else(|| not_found(id))?;
    let view = fence.to_feature();
    state.feed.publish(Change::FenceUpserted(Arc::new(fence)));
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
    let brand = existing(&state, &who, &path.brand, true).await?;
    let id = id_path(&path.id, "geofence")?;
    state
        .store
        .delete_fence(&who, &brand, id, state.engine.clock.now())
        .await?
        .ok_or_else(|| not_found(id))?;
    state.feed.publish(Change::FenceRemoved { brand, id });
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
    let brand = existing(&state, &who, &path.brand, true).await?;
    let input = body.0;
    let mut errors = Vec::new();
    if input.type_ != "FeatureCollection" {
        errors.push(FieldError::new("/type", "must be `FeatureCollection`"));
    }
    if input.features.is_empty() || input.features.len() > MAX_IMPORT {
        errors.push(FieldError::new(
            "/features",
            format!("send 1-{MAX_IMPORT} features"),
        ));
    }
    let mut drafts = Vec::with_capacity(input.features.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, f) in input.features.iter().enumerate() {
        match parse_feature(f, &format!("/features/{i}")) {
            Ok(d) => drafts.push(d),
            Err(e) => errors.extend(e),
        }
        if let Some(ext) = f.properties.external_id.as_deref()
            && let Some(first) = seen.insert(ext, i)
        {
            errors.push(FieldError::new(
                format!("/features/{i}/properties/external_id"),
                format!("external_id `{ext}` is also used by feature {first}"),
            ));
        }
        if errors.len() >= 100 {
            break; // enough to act on; a broken export would otherwise produce megabytes of errors
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let stored = state
        .store
        .put_fences(&who, &brand, drafts, true, state.engine.clock.now())
        .await?;
    let created = stored
        .iter()
        .filter(|(_, how)| *how == Upserted::Created)
        .count();
    let ids = stored.iter().map(|(f, _)| f.id).collect();
    let fences: Vec<_> = stored.into_iter().map(|(f, _)| f).collect();
    let updated = fences.len() - created;
    state.feed.publish(Change::FencesImported {
        brand,
        fences: Arc::new(fences),
    });
    Ok(HttpResponse::Ok().json(ImportResult {
        created,
        updated,
        ids,
    }))
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("geofence `{id}` not found"))
}
