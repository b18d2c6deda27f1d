//! Fences: one at a time, or a GeoJSON FeatureCollection imported all or nothing.

use super::CatalogService;
use crate::auth::Principal;
use crate::changes::Change;
use crate::error::{ApiError, FieldError};
use crate::fences::{FeatureInput, FenceFeature, parse_feature};
use crate::services::{Page, id_path, paging};
use crate::store::{FencePage, Upserted};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

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

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("geofence `{id}` not found"))
}

impl CatalogService {
    /// Creates a fence of brand `raw`.
    pub async fn create_fence(
        &self,
        who: &Principal,
        raw: &str,
        input: &FeatureInput,
    ) -> Result<FenceFeature, ApiError> {
        let brand = self.writable(who, raw).await?;
        let draft = parse_feature(input, "").map_err(ApiError::validation)?;
        let mut stored = self
            .store
            .put_fences(who, brand.id(), vec![draft], false, self.now())
            .await?;
        let (fence, _) = stored
            .pop()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("store returned no fence")))?;
        let view = fence.to_feature();
        self.feed.publish(Change::FenceUpserted(Arc::new(fence)));
        Ok(view)
    }

    /// A page of a brand's fences, optionally only those with `tag`.
    pub async fn list_fences(
        &self,
        who: &Principal,
        raw: &str,
        tag: Option<String>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<FenceFeature>, ApiError> {
        let brand = self.readable(who, raw).await?;
        if let Some(tag) = tag.as_deref() {
            crate::domain::check_tag(tag).map_err(|e| ApiError::BadRequest {
                errors: vec![FieldError::new("/query/tag", e.clone())],
                detail: e,
            })?;
        }
        let limit = paging::limit(limit)?;
        let page = FencePage {
            tag,
            after: paging::decode::<Uuid>(cursor)?,
            limit: limit + 1,
        };
        let fences = self.store.list_fences(brand.id(), &page).await?;
        Ok(Page::cut(fences, limit, |f| f.id).map(|f| f.to_feature()))
    }

    /// One fence.
    pub async fn fence(
        &self,
        who: &Principal,
        raw: &str,
        id: &str,
    ) -> Result<FenceFeature, ApiError> {
        let brand = self.readable(who, raw).await?;
        let id = id_path(id, "geofence")?;
        let fence = self
            .store
            .get_fence(brand.id(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok(fence.to_feature())
    }

    /// Replaces a fence.
    pub async fn update_fence(
        &self,
        who: &Principal,
        raw: &str,
        id: &str,
        input: &FeatureInput,
    ) -> Result<FenceFeature, ApiError> {
        let brand = self.writable(who, raw).await?;
        let id = id_path(id, "geofence")?;
        let draft = parse_feature(input, "").map_err(ApiError::validation)?;
        let fence = self
            .store
            .update_fence(who, brand.id(), id, draft, self.now())
            .await?
            .ok_or_else(|| not_found(id))?;
        let view = fence.to_feature();
        self.feed.publish(Change::FenceUpserted(Arc::new(fence)));
        Ok(view)
    }

    /// Deletes a fence.
    pub async fn delete_fence(&self, who: &Principal, raw: &str, id: &str) -> Result<(), ApiError> {
        let brand = self.writable(who, raw).await?;
        let id = id_path(id, "geofence")?;
        self.store
            .delete_fence(who, brand.id(), id, self.now())
            .await?
            .ok_or_else(|| not_found(id))?;
        self.feed.publish(Change::FenceRemoved {
            brand: brand.id().clone(),
            id,
        });
        Ok(())
    }

    /// Imports a FeatureCollection, all or nothing; features whose `external_id` exists
    /// replace it. Every problem is named (up to 100) before anything is written.
    pub async fn import_fences(
        &self,
        who: &Principal,
        raw: &str,
        input: &ImportInput,
    ) -> Result<ImportResult, ApiError> {
        let brand = self.writable(who, raw).await?;
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
        let stored = self
            .store
            .put_fences(who, brand.id(), drafts, true, self.now())
            .await?;
        let created = stored
            .iter()
            .filter(|(_, how)| *how == Upserted::Created)
            .count();
        let ids = stored.iter().map(|(f, _)| f.id).collect();
        let fences: Vec<_> = stored.into_iter().map(|(f, _)| f).collect();
        let updated = fences.len() - created;
        self.feed.publish(Change::FencesImported {
            brand: brand.id().clone(),
            fences: Arc::new(fences),
        });
        Ok(ImportResult {
            created,
            updated,
            ids,
        })
    }
}
