//! `/v1/brands/{brand}/offers`: brands manage their offers.

use super::brands::existing;
use super::extract::{ValidJson, ValidQuery};
use super::{BrandItemPath, BrandPath, id_path, paging};
use crate::auth::Principal;
use crate::changes::Change;
use crate::domain::BrandId;
use crate::error::{ApiError, FieldError};
use crate::offers::{OfferSpec, OfferView, validate_offer};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

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

async fn checked(state: &AppState, brand: &BrandId, spec: &OfferSpec) -> Result<(), ApiError> {
    let mut errors = validate_offer(spec);
    if let Some(f) = &spec.targeting.fences
        && !f.ids.is_empty()
    {
        for missing in state.store.missing_fences(brand, &f.ids).await? {
            let i = f.ids.iter().position(|id| *id == missing).unwrap_or(0);
            errors.push(FieldError::new(
                format!("/targeting/fences/ids/{i}"),
                format!("fence `{missing}` is not one of this brand's fences"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
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
    let brand = existing(&state, &who, &path.brand, true).await?;
    checked(&state, &brand, &body.0).await?;
    let offer = state
        .store
        .create_offer(&who, &brand, body.0, state.engine.clock.now())
        .await?;
    let view = offer.to_view();
    state.feed.publish(Change::OfferUpserted(Arc::new(offer)));
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
    let brand = existing(&state, &who, &path.brand, false).await?;
    let limit = paging::limit(q.0.limit)?;
    let after = paging::decode::<Uuid>(q.0.cursor.as_deref())?;
    let mut offers = state.store.list_offers(&brand, after, limit + 1).await?;
    let more = offers.len() > limit as usize;
    offers.truncate(limit as usize);
    let next_cursor = more
        .then(|| offers.last().map(|o| paging::encode(&o.id.to_string())))
        .flatten();
    Ok(HttpResponse::Ok().json(OfferPage {
        items: offers.iter().map(|o| o.to_view()).collect(),
        next_cursor,
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
    let brand = existing(&state, &who, &path.brand, false).await?;
    let id = id_path(&path.id, "offer")?;
    let offer = state
        .store
        .get_offer(&brand, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(HttpResponse::Ok().json(offer.to_view()))
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
    let brand = existing(&state, &who, &path.brand, true).await?;
    let id = id_path(&path.id, "offer")?;
    checked(&state, &brand, &body.0).await?;
    let offer = state
        .store
        .update_offer(&who, &brand, id, body.0, state.engine.clock.now())
        .await?
        .ok_or_else(|| not_found(id))?;
    let view = offer.to_view();
    state.feed.publish(Change::OfferUpserted(Arc::new(offer)));
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
    let brand = existing(&state, &who, &path.brand, true).await?;
    let id = id_path(&path.id, "offer")?;
    state
        .store
        .delete_offer(&who, &brand, id, state.engine.clock.now())
        .await?
        .ok_or_else(|| not_found(id))?;
    state.feed.publish(Change::OfferRemoved { brand, id });
    Ok(HttpResponse::NoContent().finish())
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("offer `{id}` not found"))
}
