//! `/v1/brands/{brand}/webhooks`: brands register endpoints for signed event messages,
//! rotate their secrets, list attempts and replay one (docs/webhooks.md).

use super::extract::{ValidJson, ValidQuery};
use super::{BrandItemPath, BrandPath};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::{AttemptView, EndpointUpdate, EndpointView, NewEndpoint};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `{brand}`, an endpoint `{id}` and one of its attempts `{attempt_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttemptPath {
    /// The brand id.
    #[param(pattern = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub brand: String,
    /// The endpoint id (a UUID).
    #[param(value_type = uuid::Uuid)]
    pub id: String,
    /// The attempt id (a UUID).
    #[param(value_type = uuid::Uuid)]
    pub attempt_id: String,
}

/// Query of the attempt list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttemptQuery {
    /// From a previous page's `next_cursor`.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A page of attempts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptPage {
    /// The attempts.
    pub items: Vec<AttemptView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The brand's endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    /// The endpoints, oldest first.
    pub items: Vec<EndpointView>,
}

/// A replay, queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Always `queued`: the message goes out with the sender's next round.
    pub status: String,
}

/// Register a webhook endpoint (brand, admin); the answer shows the secret, once.
#[utoipa::path(post, path = "/v1/brands/{brand}/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(BrandPath), request_body = NewEndpoint,
    responses((status = 201, description = "The new endpoint, with its secret (shown only now)", body = EndpointView),
              (status = 409, description = "The brand has its 20 endpoints already; delete one first")))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
    body: ValidJson<NewEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .webhooks
        .create(&who, &path.brand, body.0)
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// List the brand's webhook endpoints (no secrets).
#[utoipa::path(get, path = "/v1/brands/{brand}/webhooks", tag = "webhooks", security(("bearer" = [])),
    params(BrandPath), responses((status = 200, description = "The endpoints", body = EndpointList)))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
) -> Result<HttpResponse, ApiError> {
    let items = state.services.webhooks.list(&who, &path.brand).await?;
    Ok(HttpResponse::Ok().json(EndpointList { items }))
}

/// One webhook endpoint (no secret): its status, and why it was disabled if it was.
#[utoipa::path(get, path = "/v1/brands/{brand}/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(BrandItemPath), responses((status = 200, description = "The endpoint", body = EndpointView)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .webhooks
        .get(&who, &path.brand, &path.id)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Change a webhook endpoint's URL and event types, or enable / disable it.
#[utoipa::path(put, path = "/v1/brands/{brand}/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(BrandItemPath), request_body = EndpointUpdate,
    responses((status = 200, description = "The endpoint as changed", body = EndpointView)))]
pub async fn update(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
    body: ValidJson<EndpointUpdate>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .webhooks
        .update(&who, &path.brand, &path.id, body.0)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Delete a webhook endpoint, with its waiting messages and attempts.
#[utoipa::path(delete, path = "/v1/brands/{brand}/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(BrandItemPath), responses((status = 204, description = "Deleted")))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .webhooks
        .delete(&who, &path.brand, &path.id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the endpoint's secret: the new one is shown once; the old one keeps signing
/// (a second signature) for 24 hours.
#[utoipa::path(post, path = "/v1/brands/{brand}/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(BrandItemPath),
    responses((status = 200, description = "The endpoint with its new secret (shown only now)", body = EndpointView)))]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
) -> Result<HttpResponse, ApiError> {
    let view = state
        .services
        .webhooks
        .rotate_secret(&who, &path.brand, &path.id)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The endpoint's delivery attempts, newest first.
#[utoipa::path(get, path = "/v1/brands/{brand}/webhooks/{id}/attempts", tag = "webhooks", security(("bearer" = [])),
    params(BrandItemPath, AttemptQuery),
    responses((status = 200, description = "A page of attempts", body = AttemptPage)))]
pub async fn attempts(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
    q: ValidQuery<AttemptQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .services
        .webhooks
        .attempts(
            &who,
            &path.brand,
            &path.id,
            q.0.cursor.as_deref(),
            q.0.limit,
        )
        .await?;
    Ok(HttpResponse::Ok().json(AttemptPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Send an attempt's message again (same `webhook-id`), with the sender's next round.
#[utoipa::path(post, path = "/v1/brands/{brand}/webhooks/{id}/attempts/{attempt_id}/replay", tag = "webhooks",
    security(("bearer" = [])), params(AttemptPath),
    responses((status = 202, description = "Queued", body = Replayed)))]
pub async fn replay(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<AttemptPath>,
) -> Result<HttpResponse, ApiError> {
    state
        .services
        .webhooks
        .replay(&who, &path.brand, &path.id, &path.attempt_id)
        .await?;
    Ok(HttpResponse::Accepted().json(Replayed {
        status: "queued".into(),
    }))
}
