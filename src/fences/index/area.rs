//! Compiled polygon / multipolygon fences: flat coordinate storage, an exact
//! boundary-inclusive point-in-polygon test and edge distance.
//!
//! Small areas are scanned linearly (a few dozen edges fit in cache and beat
//! any index). Areas with at least [`PREPARE_MIN_EDGES`] edges also get an
//! R-tree of their edges so both the crossing test and the nearest-edge search
//! touch only edges near the point, never all 10,000 of them.

use super::InvalidFence;
use super::compiled::tree_bytes;
use super::crossing::{Hit, classify, is_seam};
use super::geodesy::{LocalFrame, segment_distance2_deg};
use rstar::{AABB, Envelope, PointDistance, RTree, RTreeObject};

/// Areas with this many edges or more are prepared with an edge R-tree.
pub(crate) const PREPARE_MIN_EDGES: usize = 128;

/// A compiled area fence. Shared via `Arc` between index generations so the
/// live index never re-prepares an unchanged polygon.
#[derive(Debug)]
pub(crate) struct AreaRec {
    pub(crate) id: uuid::Uuid,
    pub(crate) max_acc: f32,
    /// All ring coordinates (lon, lat), closed rings back to back.
    coords: Box<[[f64; 2]]>,
    /// `[start, end)` ranges into `coords`, one per ring.
    rings: Box<[(u32, u32)]>,
    polys: Box<[PolyRec]>,
    /// Present for big areas only.
    edges: Option<RTree<Edge>>,
    /// Some vertex lies on ±180: edge distance must also look across the seam.
    on_seam: bool,
}

/// One polygon of the area: its rings and the envelope of its exterior.
#[derive(Debug)]
pub(crate) struct PolyRec {
    rings: (u32, u32),
    pub(crate) env: AABB<[f64; 2]>,
}

/// An edge in the prepared tree, tagged with its polygon for per-polygon parity.
#[derive(Debug, Clone, Copy)]
struct Edge {
    a: [f64; 2],
    b: [f64; 2],
    poly: u32,
}

impl RTreeObject for Edge {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.a, self.b)
    }
}

impl PointDistance for Edge {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        segment_distance2_deg(*p, self.a, self.b)
    }
}

/// Input checks for an area (see [`InvalidFence`]).
pub(crate) fn validate(mp: &geo::MultiPolygon<f64>) -> Result<(), InvalidFence> {
    if mp.0.is_empty() {
        return Err(InvalidFence::EmptyArea);
    }
    let mut total = 0usize;
    for poly in &mp.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            // geo closes rings, so a triangle has 4 coordinates.
            if ring.0.len() < 4 {
                return Err(InvalidFence::DegenerateRing);
            }
            total += ring.0.len();
            for c in &ring.0 {
                if !((-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y)) {
                    return Err(InvalidFence::CoordinateOutOfRange);
                }
            }
        }
    }
    if total >= u32::MAX as usize / 2 {
        Err(InvalidFence::TooManyVertices)
    } else {
        Ok(())
    }
}

impl AreaRec {
    /// Compiles a validated MultiPolygon.
    pub(crate) fn compile(id: uuid::Uuid, max_acc: f32, mp: &geo::MultiPolygon<f64>) -> Self {
        let mut coords = Vec::new();
        let mut rings = Vec::new();
        let mut polys = Vec::with_capacity(mp.0.len());
        for poly in &mp.0 {
            let first_ring = rings.len() as u32;
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                let start = coords.len() as u32;
                coords.extend(ring.0.iter().map(|c| [c.x, c.y]));
                rings.push((start, coords.len() as u32));
            }
            let (s, e) = rings[first_ring as usize];
            let env = AABB::from_points(coords[s as usize..e as usize].iter());
            polys.push(PolyRec {
                rings: (first_ring, rings.len() as u32),
                env,
            });
        }
        let on_seam = coords.iter().any(|c| c[0].abs() == 180.0);
        let mut area = AreaRec {
            id,
            max_acc,
            coords: coords.into_boxed_slice(),
            rings: rings.into_boxed_slice(),
            polys: polys.into_boxed_slice(),
            edges: None,
            on_seam,
        };
        if area.coords.len() - area.rings.len() >= PREPARE_MIN_EDGES {
            let mut edges = Vec::with_capacity(area.coords.len());
            for (pi, poly) in area.polys.iter().enumerate() {
                area.for_each_edge(poly, |a, b| {
                    edges.push(Edge {
                        a,
                        b,
                        poly: pi as u32,
                    })
                });
            }
            area.edges = Some(RTree::bulk_load(edges));
        }
        area
    }

    /// The polygons of this area (each gets its own entry in the main tree).
    pub(crate) fn polys(&self) -> &[PolyRec] {
        &self.polys
    }

    /// Number of stored vertices (ring closing points included).
    pub(crate) fn vertex_count(&self) -> usize {
        self.coords.len()
    }

    fn for_each_edge(&self, poly: &PolyRec, mut f: impl FnMut([f64; 2], [f64; 2])) {
        for &(s, e) in &self.rings[poly.rings.0 as usize..poly.rings.1 as usize] {
            for w in self.coords[s as usize..e as usize].windows(2) {
                f(w[0], w[1]);
            }
        }
    }

    /// Is `p` (lon, lat) inside polygon `poly` or on its boundary?
    pub(crate) fn contains(&self, poly: u32, p: [f64; 2]) -> bool {
        let rec = &self.polys[poly as usize];
        if !rec.env.contains_point(&p) {
            return false;
        }
        let mut inside = false;
        match &self.edges {
            None => {
                for &(s, e) in &self.rings[rec.rings.0 as usize..rec.rings.1 as usize] {
                    for w in self.coords[s as usize..e as usize].windows(2) {
                        match classify(p, w[0], w[1], true) {
                            Hit::OnEdge => return true,
                            Hit::Cross => inside = !inside,
                            Hit::Miss => {}
                        }
                    }
                }
            }
            Some(tree) => {
                // Cast the ray towards the nearer side of the polygon's box: only
                // edges whose box meets that short horizontal segment are visited.
                let (lo, hi) = (rec.env.lower(), rec.env.upper());
                let east = hi[0] - p[0] <= p[0] - lo[0];
                let end = if east { hi[0] } else { lo[0] };
                let ray = AABB::from_corners(p, [end, p[1]]);
                let found = tree.locate_in_envelope_intersecting_int(&ray, |e| {
                    if e.poly != poly {
                        return std::ops::ControlFlow::Continue(());
                    }
                    match classify(p, e.a, e.b, east) {
                        Hit::OnEdge => return std::ops::ControlFlow::Break(()),
                        Hit::Cross => inside = !inside,
                        Hit::Miss => {}
                    }
                    std::ops::ControlFlow::Continue(())
                });
                if found.is_break() {
                    return true;
                }
            }
        }
        inside
    }

    /// Metres from `p` to the nearest real (non-seam) edge of any polygon of
    /// this area, in a local equirectangular frame around `p`. Looks across
    /// the antimeridian for areas touching ±180.
    pub(crate) fn edge_distance_m(&self, p: [f64; 2]) -> f64 {
        let mut best2 = self.edge_distance2_shifted(p, 0.0, f64::INFINITY);
        if self.on_seam {
            let shift = if p[0] > 0.0 { -360.0 } else { 360.0 };
            best2 = self.edge_distance2_shifted(p, shift, best2);
        }
        best2.sqrt()
    }

    /// Squared metres to the nearest edge, or `best2` if none is nearer.
    fn edge_distance2_shifted(&self, p: [f64; 2], shift: f64, mut best2: f64) -> f64 {
        let q = [p[0] + shift, p[1]];
        let frame = LocalFrame::new(q, p[1]);
        match &self.edges {
            None => {
                for poly in self.polys.iter() {
                    if self.polys.len() > 1 && frame.envelope_distance_m(&poly.env).powi(2) >= best2
                    {
                        continue;
                    }
                    self.for_each_edge(poly, |a, b| {
                        if !is_seam(a, b) {
                            best2 = best2.min(frame.segment_distance2_m(a, b));
                        }
                    });
                }
            }
            Some(tree) => {
                // Nearest-first in degree space. Metric distance >= kx * degree
                // distance (kx <= metres per degree of latitude), so once kx times
                // the degree distance exceeds the best metric distance, stop.
                let kx2 = frame.kx() * frame.kx();
                for (e, d2) in tree.nearest_neighbor_iter_with_distance_2(&q) {
                    if kx2 * d2 > best2 {
                        break;
                    }
                    if !is_seam(e.a, e.b) {
                        best2 = best2.min(frame.segment_distance2_m(e.a, e.b));
                    }
                }
            }
        }
        best2
    }

    /// Heap bytes owned by this area (not counting the `AreaRec` itself).
    pub(crate) fn heap_bytes(&self) -> usize {
        use std::mem::size_of_val;
        let tree = self
            .edges
            .as_ref()
            .map_or(0, |t| tree_bytes(t.root().children()));
        size_of_val(&*self.coords) + size_of_val(&*self.rings) + size_of_val(&*self.polys) + tree
    }
}
