//! [`FenceIndex`]: the immutable, bulk-loaded snapshot.
//!
//! An R-tree of fence boxes over compact records (layout and its reasons in
//! `compiled.rs`). Areas live behind `Arc` so live-index generations share
//! prepared polygons.

use super::area::AreaRec;
use super::compiled::{AREA_BIT, CircleRec, Compiled, Entry, TreeParams, outward, tree_bytes};
use super::geodesy::{circle_envelopes, haversine_m, normalize_lon};
use super::{FenceMatch, IndexedFence};
use rstar::RTree;
use std::ops::ControlFlow;
use std::sync::Arc;
use uuid::Uuid;

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
    /// Validation and polygon preparation run on two threads.
    pub fn build(fences: Vec<IndexedFence>) -> Self {
        let compile = |part: &[IndexedFence]| -> Vec<Compiled> {
            part.iter().filter_map(|f| Compiled::new(f).ok()).collect()
        };
        let (head, tail) = fences.split_at(fences.len() / 2);
        let mut compiled = std::thread::scope(|s| {
            let second = s.spawn(|| compile(tail));
            let mut first = compile(head);
            // A failed helper thread only costs time: compile its half here.
            first.extend(second.join().unwrap_or_else(|_| compile(tail)));
            first
        });
        compiled.shrink_to_fit();
        drop(fences);
        Self::from_compiled(compiled)
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
        // The kept ids, already sorted; their slots are filled in below.
        order.retain(|w| keep[w.1 as usize]);
        let mut slot_of = vec![0u32; compiled.len()];

        let mut circles = Vec::new();
        let mut areas = Vec::new();
        let mut parts = Vec::new();
        let mut entries = Vec::with_capacity(compiled.len() + compiled.len() / 64);
        for (ci, c) in compiled.into_iter().enumerate().filter(|(i, _)| keep[*i]) {
            match c {
                Compiled::Circle(rec) => {
                    let slot = circles.len() as u32;
                    let (envs, n) = circle_envelopes(rec.lon, rec.lat, rec.radius_m as f64);
                    for env in &envs[..n] {
                        entries.push(Entry {
                            env: outward(env),
                            center: [rec.lon, rec.lat],
                            radius_m: rec.radius_m,
                            max_acc: rec.max_acc,
                            slot,
                        });
                    }
                    slot_of[ci] = slot;
                    circles.push(rec);
                }
                Compiled::Area(area) => {
                    let ai = areas.len() as u32;
                    for (pi, poly) in area.polys().iter().enumerate() {
                        let slot = AREA_BIT | parts.len() as u32;
                        parts.push((ai, pi as u32));
                        entries.push(Entry {
                            env: outward(&poly.env),
                            center: [0.0; 2],
                            radius_m: 0.0,
                            max_acc: area.max_acc,
                            slot,
                        });
                    }
                    slot_of[ci] = AREA_BIT | ai;
                    areas.push(area);
                }
            }
        }
        assert!(parts.len() < AREA_BIT as usize && circles.len() < AREA_BIT as usize);
        let ids: Vec<(Uuid, u32)> = order
            .iter()
            .map(|&(id, ci)| (id, slot_of[ci as usize]))
            .collect();
        drop((order, keep, slot_of));
        circles.shrink_to_fit();
        areas.shrink_to_fit();
        parts.shrink_to_fit();
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
        let _ = self
            .tree
            .locate_all_at_point_int(&[p[0] as f32, p[1] as f32], |e| {
                // Accuracy gate first: it needs no record access.
                if acc > e.max_acc as f64 {
                    return ControlFlow::<()>::Continue(());
                }
                if e.slot & AREA_BIT == 0 {
                    let d = haversine_m(e.center[1], e.center[0], p[1], p[0]);
                    let r = e.radius_m as f64;
                    if d <= r {
                        let id = self.circles[e.slot as usize].id;
                        out.push(FenceMatch {
                            id,
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

    /// Fences whose edge is within `margin_m` of the point, or that contain it, whatever the
    /// report's accuracy (no accuracy gate): `edge_distance_m` is negative outside. Appends
    /// unsorted; [`finish`] sorts. Visits use it to keep a visit open near the edge.
    pub(crate) fn near_append(&self, lat: f64, lon: f64, margin_m: f64, out: &mut Vec<FenceMatch>) {
        if !(lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && margin_m.is_finite())
        {
            return;
        }
        let p = [normalize_lon(lon), lat];
        let (boxes, n) = circle_envelopes(p[0], p[1], margin_m.max(0.0));
        for env in &boxes[..n] {
            for e in self.tree.locate_in_envelope_intersecting(&outward(env)) {
                if e.slot & AREA_BIT == 0 {
                    let d = haversine_m(e.center[1], e.center[0], p[1], p[0]);
                    let r = e.radius_m as f64;
                    if d <= r + margin_m {
                        out.push(FenceMatch {
                            id: self.circles[e.slot as usize].id,
                            edge_distance_m: r - d,
                            center_distance_m: Some(d),
                        });
                    }
                } else {
                    let (ai, pi) = self.parts[(e.slot & !AREA_BIT) as usize];
                    let area = &self.areas[ai as usize];
                    let d = area.edge_distance_m(p);
                    let inside = area.contains(pi, p);
                    if inside || d <= margin_m {
                        out.push(FenceMatch {
                            id: area.id,
                            edge_distance_m: if inside { d } else { -d },
                            center_distance_m: None,
                        });
                    }
                }
            }
        }
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

/// Sorts by id and drops duplicates (a fence reached through two polygons or
/// through both ±180 passes), keeping the largest edge distance so the result
/// does not depend on traversal order.
pub(crate) fn finish(out: &mut Vec<FenceMatch>) {
    if out.len() > 1 {
        out.sort_unstable_by(|a, b| {
            a.id.cmp(&b.id)
                .then(b.edge_distance_m.total_cmp(&a.edge_distance_m))
        });
        out.dedup_by(|a, b| a.id == b.id);
    }
}

#[cfg(test)]
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FenceIndex>();
};
