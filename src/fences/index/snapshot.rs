//! [`FenceIndex`]: the immutable, bulk-loaded snapshot.
//!
//! Layout (why): the R-tree holds only 40-byte entries (f64 box + u32 slot +
//! the f32 accuracy gate, which fits in the padding and lets most candidates
//! be rejected without touching their record). Circle records are 40 bytes in
//! one `Vec`; areas live behind `Arc` so live-index generations share them.

use super::area::{AreaRec, tree_bytes};
use super::geodesy::{circle_envelopes, haversine_m, normalize_lon};
use super::{FenceMatch, IndexedFence, Shape};
use rstar::{
    AABB, Envelope, PointDistance, RStarInsertionStrategy, RTree, RTreeObject, RTreeParams,
};
use std::ops::ControlFlow;
use std::sync::Arc;
use uuid::Uuid;

/// Slots with this bit set point into `parts` (polygon of an area), else into `circles`.
const AREA_BIT: u32 = 1 << 31;

/// Node fan-out of the main tree (tuned with `fence_bench`: wider nodes mean
/// fewer levels to descend, narrower nodes fewer boxes to test per level).
pub(crate) struct TreeParams;

impl RTreeParams for TreeParams {
    const MIN_SIZE: usize = 2;
    const MAX_SIZE: usize = 6;
    const REINSERTION_COUNT: usize = 1;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// A circle fence, compactly: centre in f64 (sub-mm), radius/accuracy in f32.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CircleRec {
    lon: f64,
    lat: f64,
    radius_m: f32,
    max_acc: f32,
    id: Uuid,
}

/// A fence after validation and preparation; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) enum Compiled {
    Circle(CircleRec),
    Area(Arc<AreaRec>),
}

impl Compiled {
    /// Validates and prepares a fence; `None` when [`IndexedFence::validate`] fails.
    pub(crate) fn new(f: &IndexedFence) -> Option<Self> {
        f.validate().ok()?;
        Some(match &f.shape {
            Shape::Circle { lon, lat, radius_m } => Compiled::Circle(CircleRec {
                lon: normalize_lon(*lon),
                lat: *lat,
                radius_m: *radius_m as f32,
                max_acc: f.max_accuracy_m,
                id: f.id,
            }),
            Shape::Area(mp) => {
                Compiled::Area(Arc::new(AreaRec::compile(f.id, f.max_accuracy_m, mp)))
            }
        })
    }

    pub(crate) fn id(&self) -> Uuid {
        match self {
            Compiled::Circle(c) => c.id,
            Compiled::Area(a) => a.id,
        }
    }
}

/// What the main tree stores.
#[derive(Debug, Clone, Copy)]
struct Entry {
    env: AABB<[f64; 2]>,
    slot: u32,
    max_acc: f32,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

impl PointDistance for Entry {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        self.env.distance_2(p)
    }
    fn contains_point(&self, p: &[f64; 2]) -> bool {
        self.env.contains_point(p)
    }
}

/// Immutable snapshot of all fences; `Send + Sync`, share it behind an `Arc`.
pub struct FenceIndex {
    tree: RTree<Entry, TreeParams>,
    circles: Vec<CircleRec>,
    areas: Vec<Arc<AreaRec>>,
    /// (area index, polygon index) for each area slot.
    parts: Vec<(u32, u32)>,
    /// Sorted by id: id -> circle index, or `AREA_BIT | area index`.
    ids: Vec<(Uuid, u32)>,
}

impl FenceIndex {
    /// Bulk-loads fences (rstar's OMT bulk load). Invalid fences (see
    /// [`IndexedFence::validate`]) are dropped; on duplicate ids the last wins.
    pub fn build(fences: Vec<IndexedFence>) -> Self {
        Self::from_compiled(fences.iter().filter_map(Compiled::new).collect())
    }

    /// Builds from already compiled fences (shared with the live index).
    pub(crate) fn from_compiled(compiled: Vec<Compiled>) -> Self {
        // Last occurrence of an id wins, like a sequence of upserts.
        let mut order: Vec<(Uuid, u32)> = compiled
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id(), i as u32))
            .collect();
        order.sort_unstable();
        let mut keep = vec![false; compiled.len()];
        for (i, w) in order.iter().enumerate() {
            if order.get(i + 1).is_none_or(|n| n.0 != w.0) {
                keep[w.1 as usize] = true;
            }
        }
        drop(order);

        let mut circles = Vec::new();
        let mut areas = Vec::new();
        let mut parts = Vec::new();
        let mut entries = Vec::with_capacity(compiled.len() + compiled.len() / 64);
        let mut ids = Vec::with_capacity(compiled.len());
        for (c, _) in compiled.into_iter().zip(keep).filter(|(_, k)| *k) {
            match c {
                Compiled::Circle(rec) => {
                    let slot = circles.len() as u32;
                    let (envs, n) = circle_envelopes(rec.lon, rec.lat, rec.radius_m as f64);
                    for env in &envs[..n] {
                        entries.push(Entry {
                            env: *env,
                            slot,
                            max_acc: rec.max_acc,
                        });
                    }
                    ids.push((rec.id, slot));
                    circles.push(rec);
                }
                Compiled::Area(area) => {
                    let ai = areas.len() as u32;
                    for (pi, poly) in area.polys().iter().enumerate() {
                        let slot = AREA_BIT | parts.len() as u32;
                        parts.push((ai, pi as u32));
                        entries.push(Entry {
                            env: poly.env,
                            slot,
                            max_acc: area.max_acc,
                        });
                    }
                    ids.push((area.id, AREA_BIT | ai));
                    areas.push(area);
                }
            }
        }
        assert!(parts.len() < AREA_BIT as usize && circles.len() < AREA_BIT as usize);
        ids.sort_unstable_by_key(|e| e.0);
        circles.shrink_to_fit();
        let tree = RTree::bulk_load_with_params(entries);
        FenceIndex {
            tree,
            circles,
            areas,
            parts,
            ids,
        }
    }

    /// Fences containing the point whose accuracy gate passes, sorted by id.
    /// Clears `out` first; reuse the `Vec` across calls to avoid allocation.
    /// Non-finite input or |lat| > 90 yields no match; longitudes wrap.
    pub fn query(&self, lat: f64, lon: f64, accuracy_m: f64, out: &mut Vec<FenceMatch>) {
        out.clear();
        self.query_append(lat, lon, accuracy_m, out);
        finish(out);
    }

    /// Like [`Self::query`] but appends unsorted (the live index merges layers).
    pub(crate) fn query_append(
        &self,
        lat: f64,
        lon: f64,
        accuracy_m: f64,
        out: &mut Vec<FenceMatch>,
    ) {
        if !(lat.is_finite() && lon.is_finite() && (-90.0..=90.0).contains(&lat))
            || accuracy_m.is_nan()
        {
            return;
        }
        let lon = normalize_lon(lon);
        self.query_at([lon, lat], accuracy_m, out);
        // ±180 is one meridian: polygons may carry it with either sign.
        if lon.abs() == 180.0 {
            self.query_at([-lon, lat], accuracy_m, out);
        }
    }

    fn query_at(&self, p: [f64; 2], acc: f64, out: &mut Vec<FenceMatch>) {
        let _ = self.tree.locate_all_at_point_int(&p, |e| {
            // Accuracy gate first: it needs no record access.
            if acc > e.max_acc as f64 {
                return ControlFlow::<()>::Continue(());
            }
            if e.slot & AREA_BIT == 0 {
                let c = &self.circles[e.slot as usize];
                let d = haversine_m(c.lat, c.lon, p[1], p[0]);
                let r = c.radius_m as f64;
                if d <= r {
                    out.push(FenceMatch {
                        id: c.id,
                        edge_distance_m: r - d,
                        center_distance_m: Some(d),
                    });
                }
            } else {
                let (ai, pi) = self.parts[(e.slot & !AREA_BIT) as usize];
                let area = &self.areas[ai as usize];
                if area.contains(pi, p) {
                    let d = area.edge_distance_m(p);
                    out.push(FenceMatch {
                        id: area.id,
                        edge_distance_m: d,
                        center_distance_m: None,
                    });
                }
            }
            ControlFlow::Continue(())
        });
    }

    /// Number of fences.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the index holds no fence.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether a fence with this id is indexed.
    pub fn contains(&self, id: Uuid) -> bool {
        self.ids.binary_search_by_key(&id, |e| e.0).is_ok()
    }

    /// Number of circle fences.
    pub fn circle_count(&self) -> usize {
        self.circles.len()
    }

    /// Number of area fences and their total stored vertices.
    pub fn area_stats(&self) -> (usize, usize) {
        (
            self.areas.len(),
            self.areas.iter().map(|a| a.vertex_count()).sum(),
        )
    }

    /// Every fence, compiled (for merging into a new generation).
    pub(crate) fn compiled(&self) -> impl Iterator<Item = Compiled> + '_ {
        let c = self.circles.iter().map(|c| Compiled::Circle(*c));
        c.chain(self.areas.iter().map(|a| Compiled::Area(a.clone())))
    }

    /// Honest estimate of heap bytes held: every tree node array, record
    /// vectors at capacity, and each area's allocations (counted fully even if
    /// shared with another generation).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let tree = tree_bytes(self.tree.root().children());
        let areas: usize = self
            .areas
            .iter()
            // The Arc allocation holds two counters plus the record itself.
            .map(|a| 2 * size_of::<usize>() + size_of::<AreaRec>() + a.heap_bytes())
            .sum();
        tree + self.circles.capacity() * size_of::<CircleRec>()
            + self.areas.capacity() * size_of::<Arc<AreaRec>>()
            + areas
            + self.parts.capacity() * size_of::<(u32, u32)>()
            + self.ids.capacity() * size_of::<(Uuid, u32)>()
    }
}

/// Sorts by id and drops duplicates (a fence reached through two envelopes or
/// two polygons, or through both ±180 passes).
pub(crate) fn finish(out: &mut Vec<FenceMatch>) {
    if out.len() > 1 {
        out.sort_unstable_by_key(|a| a.id);
        out.dedup_by(|a, b| a.id == b.id);
    }
}

#[cfg(test)]
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FenceIndex>();
};
