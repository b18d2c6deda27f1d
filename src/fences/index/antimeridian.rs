//! Cutting polygons at the antimeridian (RFC 7946 §3.1.9).

use geo::{BooleanOps, BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};

/// Output vertices within this fraction of the polygon's extent of an input
/// vertex, or of a seam, are snapped back onto it. geo's boolean ops round to
/// an integer grid over the clip window (~1e-9 of its size); snapping restores
/// the caller's exact vertices and puts seam vertices exactly on ±180.
const SNAP_REL: f64 = 1e-7;

/// Turns a polygon drawn with continuous longitudes (e.g. 179.9 → 180.1, or
/// -180.1 → -179.9) into the RFC 7946 form the index expects: one part per side
/// of the antimeridian, cut exactly at ±180 and shifted into [-180, 180].
///
/// A polygon already inside [-180, 180] is returned unchanged (one part).
/// Concave shapes and holes are handled (geo's boolean ops). Original vertices
/// are kept exactly; new seam vertices are the exact edge/seam intersections.
/// Longitudes must stay within [-540, 540].
pub fn cut_at_antimeridian(polygon: &Polygon<f64>) -> MultiPolygon<f64> {
    let Some(bbox) = polygon.bounding_rect() else {
        return MultiPolygon(vec![]);
    };
    let (min, max) = (bbox.min(), bbox.max());
    if min.x >= -180.0 && max.x <= 180.0 {
        return MultiPolygon(vec![polygon.clone()]);
    }
    let extent = (max.x - min.x).max(max.y - min.y);
    let snap = Snapper::new(polygon, extent * SNAP_REL);
    let pad = extent * 0.01;
    let mut parts = Vec::new();
    for k in [-1.0f64, 0.0, 1.0] {
        let (lo, hi) = (-180.0 + 360.0 * k, 180.0 + 360.0 * k);
        if max.x <= lo || min.x >= hi {
            continue;
        }
        // Tight window (the polygon's padded box cut at this side's seams) keeps
        // the boolean op's grid fine.
        let window = Rect::new(
            Coord {
                x: lo.max(min.x - pad),
                y: min.y - pad,
            },
            Coord {
                x: hi.min(max.x + pad),
                y: max.y + pad,
            },
        );
        for part in polygon.intersection(&window.to_polygon()) {
            let fix = |ls: &LineString<f64>| {
                LineString(
                    ls.0.iter()
                        .map(|c| snap.snap(*c))
                        .map(|c| Coord {
                            x: c.x - 360.0 * k,
                            y: c.y,
                        })
                        .collect(),
                )
            };
            parts.push(Polygon::new(
                fix(part.exterior()),
                part.interiors().iter().map(fix).collect(),
            ));
        }
    }
    MultiPolygon(parts)
}

/// Restores exact coordinates after the boolean op.
struct Snapper {
    /// Input vertices sorted by x.
    vertices: Vec<Coord<f64>>,
    /// Exact points where input edges cross x = ±180.
    seam_points: Vec<Coord<f64>>,
    tol: f64,
}

impl Snapper {
    fn new(polygon: &Polygon<f64>, tol: f64) -> Self {
        let rings = || std::iter::once(polygon.exterior()).chain(polygon.interiors());
        let mut vertices: Vec<Coord<f64>> = rings().flat_map(|r| r.0.iter().copied()).collect();
        vertices.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut seam_points = Vec::new();
        for line in rings().flat_map(|r| r.lines()) {
            let (a, b) = (line.start, line.end);
            for seam in [-180.0, 180.0] {
                if (a.x < seam && b.x > seam) || (a.x > seam && b.x < seam) {
                    let y = a.y + (seam - a.x) * (b.y - a.y) / (b.x - a.x);
                    seam_points.push(Coord { x: seam, y });
                }
            }
        }
        Snapper {
            vertices,
            seam_points,
            tol,
        }
    }

    fn snap(&self, c: Coord<f64>) -> Coord<f64> {
        let close =
            |o: &&Coord<f64>| (o.x - c.x).abs() <= self.tol && (o.y - c.y).abs() <= self.tol;
        let from = self.vertices.partition_point(|v| v.x < c.x - self.tol);
        if let Some(v) = self.vertices[from..]
            .iter()
            .take_while(|v| v.x <= c.x + self.tol)
            .find(|v| close(v))
        {
            return *v;
        }
        if let Some(s) = self.seam_points.iter().find(|s| close(s)) {
            return *s;
        }
        for seam in [-180.0, 180.0] {
            if (c.x - seam).abs() <= self.tol {
                return Coord { x: seam, y: c.y };
            }
        }
        c
    }
}
