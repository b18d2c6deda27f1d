//! Offers: validated against the brand's own fences before they are stored and go live.

use super::CatalogService;
use crate::auth::Principal;
use crate::changes::Change;
use crate::domain::BrandId;
use crate::error::{ApiError, FieldError};
use crate::offers::{OfferSpec, OfferView, validate_offer};
use crate::services::{Page, id_path, paging};
use std::sync::Arc;
use uuid::Uuid;

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("offer `{id}` not found"))
}

/// Every problem of `spec` as an offer of `brand`, including fence ids that are not the
/// brand's, each at its pointer under `at` (`""` for an offer body, `/offer` inside another).
pub(crate) async fn offer_problems(
    store: &dyn crate::store::Store,
    brand: &BrandId,
    spec: &OfferSpec,
    at: &str,
) -> Result<Vec<FieldError>, ApiError> {
    let mut errors = validate_offer(spec);
    if let Some(f) = &spec.targeting.fences
        && !f.ids.is_empty()
    {
        for missing in store.missing_fences(brand, &f.ids).await? {
            let i = f.ids.iter().position(|id| *id == missing).unwrap_or(0);
            errors.push(FieldError::new(
                format!("/targeting/fences/ids/{i}"),
                format!("fence `{missing}` is not one of this brand's fences"),
            ));
        }
    }
    for e in &mut errors {
        e.pointer.insert_str(0, at);
    }
    Ok(errors)
}

impl CatalogService {
    /// Every problem of `spec`, including fence ids that are not the brand's.
    async fn checked(&self, brand: &BrandId, spec: &OfferSpec) -> Result<(), ApiError> {
        let errors = offer_problems(self.store.as_ref(), brand, spec, "").await?;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(errors))
        }
    }

    /// Creates an offer of brand `raw`.
    pub async fn create_offer(
        &self,
        who: &Principal,
        raw: &str,
        spec: OfferSpec,
    ) -> Result<OfferView, ApiError> {
        let brand = self.writable(who, raw).await?;
        self.checked(brand.id(), &spec).await?;
        let offer = self
            .store
            .create_offer(who, brand.id(), spec, self.now())
            .await?;
        let view = offer.to_view();
        self.feed.publish(Change::OfferUpserted(Arc::new(offer)));
        Ok(view)
    }

    /// A page of a brand's offers.
    pub async fn list_offers(
        &self,
        who: &Principal,
        raw: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<OfferView>, ApiError> {
        let brand = self.readable(who, raw).await?;
        let limit = paging::limit(limit)?;
        let after = paging::decode::<Uuid>(cursor)?;
        let offers = self.store.list_offers(brand.id(), after, limit + 1).await?;
        Ok(Page::cut(offers, limit, |o| o.id).map(|o| o.to_view()))
    }

    /// One offer.
    pub async fn offer(&self, who: &Principal, raw: &str, id: &str) -> Result<OfferView, ApiError> {
        let brand = self.readable(who, raw).await?;
        let id = id_path(id, "offer")?;
        let offer = self
            .store
            .get_offer(brand.id(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok(offer.to_view())
    }

    /// Replaces an offer.
    pub async fn update_offer(
        &self,
        who: &Principal,
        raw: &str,
        id: &str,
        spec: OfferSpec,
    ) -> Result<OfferView, ApiError> {
        let brand = self.writable(who, raw).await?;
        let id = id_path(id, "offer")?;
        self.checked(brand.id(), &spec).await?;
        let offer = self
            .store
            .update_offer(who, brand.id(), id, spec, self.now())
            .await?
            .ok_or_else(|| not_found(id))?;
        let view = offer.to_view();
        self.feed.publish(Change::OfferUpserted(Arc::new(offer)));
        Ok(view)
    }

    /// Retires an offer.
    pub async fn delete_offer(&self, who: &Principal, raw: &str, id: &str) -> Result<(), ApiError> {
        let brand = self.writable(who, raw).await?;
        let id = id_path(id, "offer")?;
        self.store
            .delete_offer(who, brand.id(), id, self.now())
            .await?
            .ok_or_else(|| not_found(id))?;
        self.feed.publish(Change::OfferRemoved {
            brand: brand.id().clone(),
            id,
        });
        Ok(())
    }
}
