//! `/v1/keys`: admins mint keys.

use super::extract::ValidJson;
use crate::auth::Principal;
use crate::error::ApiError;
pub use crate::services::catalog::{CreatedKey, NewKeyRequest};
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// Create a key (admin).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKeyRequest, security(("bearer" = [])),
    responses((status = 201, description = "The new key, shown once", body = CreatedKey)))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<NewKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = state.services.catalog.create_key(&who, body.0).await?;
    Ok(HttpResponse::Created().json(key))
}
