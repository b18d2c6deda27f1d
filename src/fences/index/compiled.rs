//! Storage layout of a [`super::FenceIndex`]: compiled fences and the main
//! tree's entries.
//!
//! Lookups are bound by cache misses (one per tree level plus one per record
//! touched), so a tree entry (48 bytes) carries everything a circle test
//! needs: an f32 box rounded outward (a conservative prefilter; the exact test
//! follows), the f64 centre, radius and accuracy gate. A circle candidate thus
//! costs no extra miss; its id is read only when it matches.

use super::area::AreaRec;
use super::geodesy::normalize_lon;
use super::{IndexedFence, InvalidFence, Shape};
use rstar::{
    AABB, Envelope, PointDistance, RStarInsertionStrategy, RTreeNode, RTreeObject, RTreeParams,
};
use std::sync::Arc;
use uuid::Uuid;

/// Slots with this bit set point into `parts` (polygon of an area), else into `circles`.
pub(crate) const AREA_BIT: u32 = 1 << 31;

/// Node fan-out of the main tree (tuned with `fence_bench`: wider nodes mean
/// fewer levels to descend, narrower nodes fewer boxes to test per level).
pub(crate) struct TreeParams;

impl RTreeParams for TreeParams {
    const MIN_SIZE: usize = 6;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 3;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// A circle fence, compactly: centre in f64 (sub-mm), radius/accuracy in f32.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CircleRec {
    pub(crate) lon: f64,
    pub(crate) lat: f64,
    pub(crate) radius_m: f32,
    pub(crate) max_acc: f32,
    pub(crate) id: Uuid,
}

/// A fence after validation and preparation; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) enum Compiled {
    Circle(CircleRec),
    Area(Arc<AreaRec>),
}

impl Compiled {
    /// Validates ([`IndexedFence::validate`]) and prepares a fence.
    pub(crate) fn new(f: &IndexedFence) -> Result<Self, InvalidFence> {
        f.validate()?;
        Ok(match &f.shape {
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
pub(crate) struct Entry {
    /// Box in degrees, rounded outward to f32.
    pub(crate) env: AABB<[f32; 2]>,
    /// Circles: centre (lon, lat). Areas: unused.
    pub(crate) center: [f64; 2],
    /// Circles: radius in metres. Areas: unused.
    pub(crate) radius_m: f32,
    pub(crate) max_acc: f32,
    /// Circle index, or `AREA_BIT | part index`.
    pub(crate) slot: u32,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f32; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

impl PointDistance for Entry {
    fn distance_2(&self, p: &[f32; 2]) -> f32 {
        self.env.distance_2(p)
    }
    fn contains_point(&self, p: &[f32; 2]) -> bool {
        self.env.contains_point(p)
    }
}

/// Rounds a box outward to f32. Rounding the query point to nearest is
/// monotone, so a point inside the f64 box is inside the f32 box.
pub(crate) fn outward(env: &AABB<[f64; 2]>) -> AABB<[f32; 2]> {
    let down = |v: f64| {
        let x = v as f32;
        if x as f64 > v { x.next_down() } else { x }
    };
    let up = |v: f64| {
        let x = v as f32;
        if (x as f64) < v { x.next_up() } else { x }
    };
    let (lo, hi) = (env.lower(), env.upper());
    AABB::from_corners([down(lo[0]), down(lo[1])], [up(hi[0]), up(hi[1])])
}

/// Bytes of an rstar node array and everything below it. Bulk-loaded nodes are
/// collected from exact-size iterators, so length is the allocated capacity.
pub(crate) fn tree_bytes<T: RTreeObject>(children: &[RTreeNode<T>]) -> usize {
    let mut bytes = std::mem::size_of_val(children);
    for c in children {
        if let RTreeNode::Parent(p) = c {
            bytes += tree_bytes(p.children());
        }
    }
    bytes
}
