//! `/v1/keys`: admins mint keys.

use super::extract::ValidJson;
use crate::auth::{Principal, Role, generate_key};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A key request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// admin, brand, app or support.
    pub role: Role,
    /// Required for brand keys, refused for others: an existing brand's id.
    #[serde(default)]
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub brand: Option<String>,
    /// App keys only: the app whose users the key speaks for (default `default`). Keys of
    /// one app share its users, so keys can be rotated without losing anyone's consent.
    #[serde(default)]
    #[schema(pattern = r"^[a-z0-9-]{1,64}$")]
    pub app: Option<String>,
}

/// A new key, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The full key; store it now, it is never shown again.
    pub key: String,
    /// Its public id (appears in audit logs).
    pub id: String,
    /// Its role.
    pub role: Role,
    /// Its brand, for brand keys.
    pub brand: Option<String>,
    /// Its app, for app keys.
    pub app: Option<String>,
}

/// Create a key (admin).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKeyRequest, security(("bearer" = [])),
    responses((status = 201, description = "The new key, shown once", body = CreatedKey)))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<NewKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let req = body.0;
    let brand = match (req.role, req.brand) {
        (Role::Brand, Some(b)) => {
            let id =
                crate::domain::BrandId::parse(&b).map_err(|e| ApiError::invalid("/brand", e))?;
            if state.store.get_brand(&id).await?.is_none() {
                return Err(ApiError::invalid(
                    "/brand",
                    format!("brand `{id}` does not exist"),
                ));
            }
            Some(id)
        }
        (Role::Brand, None) => {
            return Err(ApiError::invalid("/brand", "a brand key needs a brand"));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "/brand",
                "only brand keys belong to a brand",
            ));
        }
        (_, None) => None,
    };
    let mut key = generate_key(req.role, brand);
    match (req.role, req.app) {
        (Role::App, Some(app)) => {
            crate::domain::check_tag(&app).map_err(|e| ApiError::invalid("/app", e))?;
            key.record.app = Some(app);
        }
        (_, Some(_)) => return Err(ApiError::invalid("/app", "only app keys belong to an app")),
        _ => {}
    }
    state.store.create_key(Some(&who), &key.record).await?;
    Ok(HttpResponse::Created().json(CreatedKey {
        key: key.plaintext,
        id: key.record.id.clone(),
        role: key.record.role,
        brand: key.record.brand.map(|b| b.to_string()),
        app: key.record.app,
    }))
}
