//! What is live for check-ins: the fence index, each fence's details, each brand's offers and
//! names. Loaded from the store at start-up and kept current from the change feed, so a brand's
//! edit is visible to the next check-in without a deploy or a poll.

use crate::changes::{Change, ChangeFeed};
use crate::domain::BrandId;
use crate::fences::index::{FenceIndex, FenceMatch, IndexedFence, LiveIndex, Shape};
use crate::fences::{Fence, FenceGeometry};
use crate::offers::Offer;
use crate::store::Store;
use chrono_tz::Tz;
use geo::MultiPolygon;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

/// What the decision needs to know about a matched fence.
#[derive(Debug, Clone, PartialEq)]
pub struct FenceInfo {
    /// Fence id.
    pub id: Uuid,
    /// Owning brand.
    pub brand: BrandId,
    /// Display name.
    pub name: String,
    /// Tags offers target.
    pub tags: Vec<String>,
    /// Local time zone.
    pub timezone: Tz,
    /// Circle radius, for circles.
    pub radius_m: Option<f64>,
}

/// The live catalog. Lookups go to the lock-free index; the maps behind `RwLock` are read for
/// microseconds per check-in and written only on edits, so contention stays negligible.
pub struct Catalog {
    index: LiveIndex,
    fences: RwLock<HashMap<Uuid, Arc<FenceInfo>>>,
    offers: RwLock<HashMap<BrandId, Vec<Arc<Offer>>>>,
    brands: RwLock<HashMap<BrandId, String>>,
}

/// The index's view of a fence.
pub fn indexed(f: &Fence) -> IndexedFence {
    let shape = match (&f.draft.geometry, f.draft.radius) {
        (FenceGeometry::Point([lon, lat]), Some(r)) => Shape::Circle {
            lon: *lon,
            lat: *lat,
            radius_m: r.metres(),
        },
        (g, _) => Shape::Area(MultiPolygon::new(g.to_geo_polygons())),
    };
    IndexedFence {
        id: f.id,
        max_accuracy_m: f.draft.max_accuracy.metres() as f32,
        shape,
    }
}

fn info(f: &Fence) -> Arc<FenceInfo> {
    Arc::new(FenceInfo {
        id: f.id,
        brand: f.brand.clone(),
        name: f.draft.name.clone(),
        tags: f.draft.tags.clone(),
        timezone: f.draft.timezone.tz(),
        radius_m: f.draft.radius.map(|r| r.metres()),
    })
}

impl Catalog {
    /// Loads everything from the store.
    pub async fn load(store: &dyn Store) -> anyhow::Result<Self> {
        let catalog = Self {
            index: LiveIndex::new(FenceIndex::build(Vec::new())),
            fences: RwLock::default(),
            offers: RwLock::default(),
            brands: RwLock::default(),
        };
        catalog.reload(store).await?;
        Ok(catalog)
    }

    /// Replaces everything with the store's current state (start-up, or after missing changes).
    pub async fn reload(&self, store: &dyn Store) -> anyhow::Result<()> {
        let fences = store.all_fences().await?;
        let offers = store.all_offers().await?;
        let brands = store.list_brands().await?;
        self.index
            .replace_all(FenceIndex::build(fences.iter().map(indexed).collect()));
        *write(&self.fences) = fences.iter().map(|f| (f.id, info(f))).collect();
        let mut by_brand: HashMap<BrandId, Vec<Arc<Offer>>> = HashMap::new();
        for o in offers {
            by_brand
                .entry(o.brand.clone())
                .or_default()
                .push(Arc::new(o));
        }
        *write(&self.offers) = by_brand;
        *write(&self.brands) = brands.into_iter().map(|b| (b.id, b.name)).collect();
        Ok(())
    }

    /// Applies one committed change.
    pub fn apply(&self, change: &Change) {
        match change {
            Change::FenceUpserted(f) => self.upsert_fence(f),
            Change::FenceRemoved { id, .. } => {
                self.index.remove(*id);
                write(&self.fences).remove(id);
            }
            Change::FencesImported { fences, .. } => {
                fences.iter().for_each(|f| self.upsert_fence(f))
            }
            Change::OfferUpserted(o) => {
                let mut offers = write(&self.offers);
                let list = offers.entry(o.brand.clone()).or_default();
                list.retain(|x| x.id != o.id);
                list.push(o.clone());
                list.sort_by_key(|x| x.id);
            }
            Change::OfferRemoved { brand, id } => {
                if let Some(list) = write(&self.offers).get_mut(brand) {
                    list.retain(|x| x.id != *id);
                }
            }
            Change::BrandUpserted { id, name } => {
                write(&self.brands).insert(id.clone(), name.clone());
            }
        }
    }

    fn upsert_fence(&self, f: &Fence) {
        self.index.upsert(indexed(f));
        write(&self.fences).insert(f.id, info(f));
    }

    /// Follows the feed until it closes; on a gap (a slow consumer) reloads from the store.
    pub fn follow(
        self: Arc<Self>,
        feed: &ChangeFeed,
        store: Arc<dyn Store>,
    ) -> tokio::task::JoinHandle<()> {
        let mut rx = feed.subscribe();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(change) => self.apply(&change),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "catalog fell behind the change feed; reloading");
                        if let Err(e) = self.reload(store.as_ref()).await {
                            tracing::error!(error = ?e, "catalog reload failed");
                        }
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }

    /// Fences containing the point whose accuracy gate the report passes.
    pub fn lookup(&self, lat: f64, lon: f64, accuracy_m: f64, out: &mut Vec<FenceMatch>) {
        self.index.query(lat, lon, accuracy_m, out);
    }

    /// A fence's details.
    pub fn fence(&self, id: &Uuid) -> Option<Arc<FenceInfo>> {
        read(&self.fences).get(id).cloned()
    }

    /// A brand's live offers (any status), in id order.
    pub fn offers_of(&self, brand: &BrandId) -> Vec<Arc<Offer>> {
        read(&self.offers).get(brand).cloned().unwrap_or_default()
    }

    /// A brand's display name.
    pub fn brand_name(&self, brand: &BrandId) -> Option<String> {
        read(&self.brands).get(brand).cloned()
    }
}

// A poisoned lock means a panic while holding it; the maps are still consistent (every write is
// a single insert/remove/replace), so keep serving rather than take check-ins down.
fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}
