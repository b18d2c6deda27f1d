//! The catalog use cases: brands, keys, fences (one, or a GeoJSON import) and offers. Each
//! write validates, commits to the store and then publishes the change, so the in-memory
//! catalog and its R-tree follow within a second.

mod fences;
mod offers;

pub use fences::{ImportInput, ImportResult, MAX_IMPORT};
pub(crate) use offers::offer_problems;

use super::{BrandGrant, grant};
use crate::auth::{NewKey, Principal, Role, generate_key};
use crate::changes::{Change, ChangeFeed};
use crate::clock::Clock;
use crate::domain::BrandId;
use crate::error::ApiError;
pub use crate::store::Brand;
use crate::store::Store;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Brands, keys, fences and offers: validation, the store write, the change published.
pub struct CatalogService {
    store: Arc<dyn Store>,
    feed: ChangeFeed,
    clock: Arc<dyn Clock>,
}

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

impl CatalogService {
    /// A catalog service writing to `store` and publishing on `feed`.
    pub fn new(store: Arc<dyn Store>, feed: ChangeFeed, clock: Arc<dyn Clock>) -> Self {
        Self { store, feed, clock }
    }

    /// The one clock reading of this service (brand creation times). Store writes that stamp
    /// their own time today take it from here once they accept a `now`.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The brand `raw` when it exists and `who` may read it; 404 otherwise.
    pub async fn readable(&self, who: &Principal, raw: &str) -> Result<BrandGrant, ApiError> {
        grant(self.store.as_ref(), who, raw, false).await
    }

    /// The brand `raw` when it exists and `who` may change it; 404 otherwise.
    pub async fn writable(&self, who: &Principal, raw: &str) -> Result<BrandGrant, ApiError> {
        grant(self.store.as_ref(), who, raw, true).await
    }

    /// Creates a brand (admin).
    pub async fn create_brand(&self, who: &Principal, b: NewBrand) -> Result<Brand, ApiError> {
        who.require_admin()?;
        let id = BrandId::parse(&b.id).map_err(|e| ApiError::invalid("/id", e))?;
        let name = b.name.trim();
        if name.is_empty() || b.name.chars().count() > 200 {
            return Err(ApiError::invalid("/name", "name must be 1-200 characters"));
        }
        let brand = Brand {
            id,
            name: name.to_string(),
            created_at: self.now(),
        };
        self.store.create_brand(who, &brand).await?;
        self.feed.publish(Change::BrandUpserted {
            id: brand.id.clone(),
            name: brand.name.clone(),
        });
        Ok(brand)
    }

    /// The brands `who` may see: admin and support all, a brand key its own, app keys none.
    pub async fn list_brands(&self, who: &Principal) -> Result<Vec<Brand>, ApiError> {
        let brands = self.store.list_brands().await?;
        match who.role {
            Role::Admin | Role::Support => Ok(brands),
            Role::Brand => Ok(brands
                .into_iter()
                .filter(|b| Some(&b.id) == who.brand.as_ref())
                .collect()),
            Role::App => Err(ApiError::Forbidden("app keys cannot list brands".into())),
        }
    }

    /// One brand `who` may read.
    pub async fn brand(&self, who: &Principal, raw: &str) -> Result<Brand, ApiError> {
        let brand = super::brand_path(raw)?;
        who.can_read_brand(&brand)?;
        self.store
            .get_brand(&brand)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("brand `{brand}` not found")))
    }

    /// Mints a key (admin): a brand key for an existing brand, an app key for an app.
    pub async fn create_key(
        &self,
        who: &Principal,
        req: NewKeyRequest,
    ) -> Result<CreatedKey, ApiError> {
        who.require_admin()?;
        self.mint_key(Some(who), req).await
    }

    /// Mints a key by the rules of [`create_key`](Self::create_key), with `actor` in the
    /// audit log; `None` for the command line, which acts without a key.
    pub async fn mint_key(
        &self,
        actor: Option<&Principal>,
        req: NewKeyRequest,
    ) -> Result<CreatedKey, ApiError> {
        let brand = match (req.role, req.brand) {
            (Role::Brand, Some(b)) => {
                let id = BrandId::parse(&b).map_err(|e| ApiError::invalid("/brand", e))?;
                if self.store.get_brand(&id).await?.is_none() {
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
        let mut key = generate_key(req.role, brand, self.now());
        match (req.role, req.app) {
            (Role::App, Some(app)) => {
                crate::domain::check_tag(&app).map_err(|e| ApiError::invalid("/app", e))?;
                key.record.app = Some(app);
            }
            (_, Some(_)) => {
                return Err(ApiError::invalid("/app", "only app keys belong to an app"));
            }
            _ => {}
        }
        self.store.create_key(actor, &key.record).await?;
        Ok(CreatedKey {
            key: key.plaintext,
            id: key.record.id.clone(),
            role: key.record.role,
            brand: key.record.brand.map(|b| b.to_string()),
            app: key.record.app,
        })
    }

    /// Mints a key with no acting key behind it (the demo's and the command line's first
    /// keys); the audit log shows no actor.
    pub async fn bootstrap_key(
        &self,
        role: Role,
        brand: Option<BrandId>,
    ) -> Result<NewKey, ApiError> {
        let key = generate_key(role, brand, self.now());
        self.store.create_key(None, &key.record).await?;
        Ok(key)
    }
}
