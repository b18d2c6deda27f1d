//! What is live for check-ins: the fence index, each fence's details, each brand's offers and
//! names. Loaded from the store at start-up and kept current from the change feed, so a brand's
//! edit is visible to the next check-in without a deploy or a poll.

use crate::changes::{Change, ChangeFeed};
use crate::domain::BrandId;
use crate::fences::index::{FenceIndex, FenceMatch, IndexedFence, LiveIndex, Reach, Shape};
use crate::fences::{Fence, FenceGeometry};
use crate::offers::Offer;
use crate::store::{CatalogChange, ChangedEntity, Store};
use chrono_tz::Tz;
use geo::MultiPolygon;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
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
    /// A circle covering the whole fence: how far apart two fences are at least.
    pub reach: Reach,
}

/// The live catalog. Lookups go to the lock-free index; the maps behind `RwLock` are read for
/// microseconds per check-in and written only on edits, so contention stays negligible.
pub struct Catalog {
    index: LiveIndex,
    fences: RwLock<HashMap<Uuid, Arc<FenceInfo>>>,
    offers: RwLock<HashMap<BrandId, Vec<Arc<Offer>>>>,
    brands: RwLock<HashMap<BrandId, String>>,
    /// Where this catalog stands in a shared change log (PostgreSQL): the last row applied.
    log_seq: AtomicI64,
    /// When the catalog last read the change log to its end; `None` without a shared log.
    caught_up: Mutex<Option<Instant>>,
    /// The oldest [`Catalog::log_age`] decisions may be made on (ms).
    max_lag_ms: AtomicU64,
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
        reach: Reach::of(&indexed(f).shape),
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
            log_seq: AtomicI64::new(0),
            caught_up: Mutex::new(None),
            max_lag_ms: AtomicU64::new(u64::MAX),
        };
        catalog.reload(store).await?;
        Ok(catalog)
    }

    /// Replaces everything with the store's current state (start-up, or after missing changes).
    pub async fn reload(&self, store: &dyn Store) -> anyhow::Result<()> {
        // The log's end before the reads: a change committed while they run is applied again
        // by the next catch-up (applying is idempotent), never skipped.
        let seq = store.last_change().await?;
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
        if let Some(seq) = seq {
            self.log_seq.store(seq, Ordering::Release);
            *self.caught_up.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        }
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

    /// Fences whose edge is within `margin_m` of the point, or that contain it (no accuracy
    /// gate): where a visit stays open although the report is not inside.
    pub fn near(&self, lat: f64, lon: f64, margin_m: f64, out: &mut Vec<FenceMatch>) {
        self.index.near(lat, lon, margin_m, out);
    }

    /// The live fences within `radius_m` of the point, nearest edge first, each with the
    /// distance to its edge in metres (0 inside). Read from the index: no store.
    pub fn nearby(&self, lat: f64, lon: f64, radius_m: f64) -> Vec<(Arc<FenceInfo>, f64)> {
        let mut found = Vec::new();
        self.index.near(lat, lon, radius_m, &mut found);
        let fences = read(&self.fences);
        let mut out: Vec<(Arc<FenceInfo>, f64)> = found
            .iter()
            .filter_map(|m| Some((fences.get(&m.id)?.clone(), (-m.edge_distance_m).max(0.0))))
            .collect();
        drop(fences);
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
        out
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

/// Rows read from the change log per round trip. A replica further behind than this reloads
/// its whole catalog instead (one import of many fences is also a reload).
const LOG_BATCH: u32 = 1_000;

/// How often the change log is read even without a notification: the bound on how late a
/// change whose NOTIFY was lost (a dropped connection) reaches this replica.
const LOG_POLL: Duration = Duration::from_millis(500);

impl Catalog {
    /// How long ago the catalog last read the shared change log to its end; `None` when the
    /// store keeps no shared log (one process owns the database and its feed is enough).
    pub fn log_age(&self) -> Option<Duration> {
        self.caught_up
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|at| at.elapsed())
    }

    /// Whether the catalog is older than decisions may be made on: it follows a shared
    /// change log and has not read it to its end for longer than the bound `follow_log` set.
    pub fn is_stale(&self) -> bool {
        let bound = Duration::from_millis(self.max_lag_ms.load(Ordering::Relaxed));
        self.log_age().is_some_and(|age| age > bound)
    }

    /// The last change-log row applied.
    pub fn log_seq(&self) -> i64 {
        self.log_seq.load(Ordering::Acquire)
    }

    /// With a store that keeps a shared change log (PostgreSQL), follows it until `stop`
    /// fires: woken by the database's notifications, and every [`LOG_POLL`] regardless, it
    /// reads the rows after the last one applied and applies each changed brand, fence or
    /// offer as the store has it now. `None` when the store keeps no shared log.
    /// Past `max_lag` without reaching the log's end, the catalog [`is_stale`](Self::is_stale).
    pub async fn follow_log(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        max_lag: Duration,
        lag: prometheus::Histogram,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
        if store.last_change().await?.is_none() {
            return Ok(None);
        }
        self.max_lag_ms.store(
            u64::try_from(max_lag.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let wake = Arc::new(tokio::sync::Notify::new());
        let listener = tokio::spawn(listen(store.clone(), wake.clone()));
        Ok(Some(tokio::spawn(async move {
            loop {
                match self.catch_up(store.as_ref(), &lag).await {
                    Ok(()) => {
                        *self.caught_up.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(Instant::now());
                    }
                    Err(e) => tracing::warn!(error = ?e, "reading the catalog change log failed"),
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(LOG_POLL) => {}
                    _ = stop.changed() => break,
                }
            }
            listener.abort();
        })))
    }

    /// Reads the change log to its end and applies what it names.
    async fn catch_up(&self, store: &dyn Store, lag: &prometheus::Histogram) -> anyhow::Result<()> {
        loop {
            let after = self.log_seq();
            let Some(rows) = store.changes_after(after, LOG_BATCH).await? else {
                return Ok(());
            };
            if rows.len() as u32 >= LOG_BATCH {
                tracing::info!(after, "catalog far behind the change log; reloading");
                return self.reload(store).await;
            }
            let Some(last) = rows.last().map(|r| r.seq) else {
                return Ok(());
            };
            // Each thing once, as it is now: later rows about it add nothing.
            let mut seen = std::collections::HashSet::new();
            for row in rows.iter().rev() {
                if seen.insert((row.entity, row.id.as_str())) {
                    self.apply_logged(store, row).await?;
                }
            }
            let now = chrono::Utc::now();
            for row in &rows {
                lag.observe((now - row.at).num_milliseconds().max(0) as f64 / 1000.0);
            }
            self.log_seq.store(last, Ordering::Release);
        }
    }

    async fn apply_logged(&self, store: &dyn Store, row: &CatalogChange) -> anyhow::Result<()> {
        let change = match row.entity {
            ChangedEntity::Brand => match store.get_brand(&row.brand).await? {
                Some(b) => Change::BrandUpserted {
                    id: b.id,
                    name: b.name,
                },
                None => return Ok(()),
            },
            ChangedEntity::Fence => {
                let id = Uuid::parse_str(&row.id)?;
                match store.get_fence(&row.brand, id).await? {
                    Some(f) => Change::FenceUpserted(Arc::new(f)),
                    None => Change::FenceRemoved {
                        brand: row.brand.clone(),
                        id,
                    },
                }
            }
            ChangedEntity::Offer => {
                let id = Uuid::parse_str(&row.id)?;
                match store.get_offer(&row.brand, id).await? {
                    Some(o) => Change::OfferUpserted(Arc::new(o)),
                    None => Change::OfferRemoved {
                        brand: row.brand.clone(),
                        id,
                    },
                }
            }
        };
        self.apply(&change);
        Ok(())
    }
}

/// Wakes the log follower on every notification from the database, and after a lost
/// connection (notifications may have been missed); retries a failed listen every second.
async fn listen(store: Arc<dyn Store>, wake: Arc<tokio::sync::Notify>) {
    loop {
        match store.watch_changes().await {
            Ok(Some(mut watcher)) => loop {
                match watcher.wait().await {
                    Ok(_) => wake.notify_one(),
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for catalog changes failed; retrying");
                        wake.notify_one();
                        break;
                    }
                }
            },
            Ok(None) => return,
            Err(e) => tracing::warn!(error = %e, "cannot listen for catalog changes; polling"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
