//! `/v1/brands`: admins create brands; brand keys read their own.

use super::BrandPath;
use super::brand_path;
use super::extract::ValidJson;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Brand, StoreError};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

/// A new brand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBrand {
    /// 2–64 lowercase letters, digits and `-`, not starting or ending with `-`.
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub id: String,
    /// Display name, 1–200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: String,
}

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
    who.require_admin()?;
    let b = body.0;
    let id = crate::domain::BrandId::parse(&b.id).map_err(|e| ApiError::invalid("/id", e))?;
    let name = b.name.trim();
    if name.is_empty() || b.name.chars().count() > 200 {
        return Err(ApiError::invalid("/name", "name must be 1-200 characters"));
    }
    let brand = Brand {
        id,
        name: name.to_string(),
        created_at: state.engine.clock.now(),
    };
    state.store.create_brand(&who, &brand).await?;
    state.feed.publish(crate::changes::Change::BrandUpserted {
        id: brand.id.clone(),
        name: brand.name.clone(),
    });
    Ok(HttpResponse::Created().json(brand))
}

/// List brands (admin and support see all; a brand key sees its own).
#[utoipa::path(get, path = "/v1/brands", tag = "brands", security(("bearer" = [])),
    responses((status = 200, description = "The brands this key may see", body = Vec<Brand>)))]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    let brands = state.store.list_brands().await?;
    let visible: Vec<Brand> = match who.role {
        Role::Admin | Role::Support => brands,
        Role::Brand => brands
            .into_iter()
            .filter(|b| Some(&b.id) == who.brand.as_ref())
            .collect(),
        Role::App => return Err(ApiError::Forbidden("app keys cannot list brands".into())),
    };
    Ok(HttpResponse::Ok().json(visible))
}

/// One brand.
#[utoipa::path(get, path = "/v1/brands/{brand}", tag = "brands", security(("bearer" = [])),
    params(BrandPath), responses((status = 200, description = "The brand", body = Brand)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandPath>,
) -> Result<HttpResponse, ApiError> {
    let brand = brand_path(&path.brand)?;
    who.can_read_brand(&brand)?;
    let found = state.store.get_brand(&brand).await?;
    found
        .map(|b| HttpResponse::Ok().json(b))
        .ok_or_else(|| ApiError::NotFound(format!("brand `{brand}` not found")))
}

/// Loads a brand the caller may read, or 404.
pub(crate) async fn existing(
    state: &AppState,
    who: &Principal,
    raw: &str,
    write: bool,
) -> Result<crate::domain::BrandId, ApiError> {
    let brand = brand_path(raw)?;
    if write {
        who.can_write_brand(&brand)?
    } else {
        who.can_read_brand(&brand)?
    }
    match state.store.get_brand(&brand).await? {
        Some(_) => Ok(brand),
        None => Err(ApiError::NotFound(format!("brand `{brand}` not found"))),
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(msg) => ApiError::Conflict(msg),
            StoreError::NotFound(msg) => ApiError::NotFound(msg),
            StoreError::Unavailable(e) => ApiError::unavailable_store(&e),
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}
