//! Fence geometry: GeoJSON Point, Polygon and MultiPolygon, parsed with field-level errors and
//! validated so the index never sees a shape it could answer wrongly for.
//!
//! About 380 lines, 90 of them tests.

use crate::domain::{Latitude, Longitude};
use crate::error::FieldError;
use geo::line_intersection::line_intersection;
use geo::{Contains, Coord, Line, LineString, Point, Polygon};
use rstar::{AABB, RTree, RTreeObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `[lon, lat]` in degrees.
pub type Position = [f64; 2];
/// A closed ring: first position equals the last.
pub type Ring = Vec<Position>;

/// The most vertices one fence may have; beyond it the brand should simplify.
pub const MAX_VERTICES: usize = 10_000;

/// A fence's geometry, stored and returned as GeoJSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "coordinates")]
pub enum FenceGeometry {
    /// A circle's centre; the radius is a property.
    Point(Position),
    /// Shell then holes.
    Polygon(Vec<Ring>),
    /// Several polygons, e.g. one cut at the antimeridian (RFC 7946 §3.1.9).
    MultiPolygon(Vec<Vec<Ring>>),
}

impl FenceGeometry {
    /// Parses and validates a GeoJSON geometry `{type, coordinates}`; `at` is its JSON pointer.
    pub fn parse(kind: &str, coords: &Value, at: &str) -> Result<Self, Vec<FieldError>> {
        let c_at = format!("{at}/coordinates");
        let mut errors = Vec::new();
        let geometry = match kind {
            "Point" => position(coords, &c_at).map(FenceGeometry::Point),
            "Polygon" => polygon(coords, &c_at).map(FenceGeometry::Polygon),
            "MultiPolygon" => array(coords, &c_at).and_then(|parts| {
                if parts.is_empty() {
                    return Err(FieldError::new(
                        &c_at,
                        "a MultiPolygon needs at least one polygon",
                    ));
                }
                let polys: Result<Vec<_>, _> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| polygon(p, &format!("{c_at}/{i}")))
                    .collect();
                polys.map(FenceGeometry::MultiPolygon)
            }),
            other => Err(FieldError::new(
                format!("{at}/type"),
                format!(
                    "geometry type `{other}` is not supported: use Point, Polygon or MultiPolygon"
                ),
            )),
        };
        match geometry {
            Ok(g) => {
                if g.vertex_count() > MAX_VERTICES {
                    errors.push(FieldError::new(
                        &c_at,
                        format!(
                            "the geometry has {} vertices; at most {MAX_VERTICES} are allowed, simplify it",
                            g.vertex_count()
                        ),
                    ));
                } else {
                    g.check_polygons(&c_at, &mut errors);
                }
                if errors.is_empty() {
                    Ok(g)
                } else {
                    Err(errors)
                }
            }
            Err(e) => Err(vec![e]),
        }
    }

    /// Number of positions across all rings.
    pub fn vertex_count(&self) -> usize {
        match self {
            Self::Point(_) => 1,
            Self::Polygon(rings) => rings.iter().map(Vec::len).sum(),
            Self::MultiPolygon(polys) => polys.iter().flatten().map(Vec::len).sum(),
        }
    }

    /// The polygons as geo types (empty for a point).
    pub fn to_geo_polygons(&self) -> Vec<Polygon<f64>> {
        let to_poly = |rings: &Vec<Ring>| {
            let mut ls = rings.iter().map(|r| LineString::from(r.clone()));
            let shell = ls.next().unwrap_or_else(|| LineString::new(vec![]));
            Polygon::new(shell, ls.collect())
        };
        match self {
            Self::Point(_) => Vec::new(),
            Self::Polygon(rings) => vec![to_poly(rings)],
            Self::MultiPolygon(polys) => polys.iter().map(to_poly).collect(),
        }
    }

    fn check_polygons(&self, at: &str, errors: &mut Vec<FieldError>) {
        match self {
            Self::Point(_) => {}
            Self::Polygon(rings) => check_polygon(rings, at, errors),
            Self::MultiPolygon(polys) => {
                for (i, rings) in polys.iter().enumerate() {
                    check_polygon(rings, &format!("{at}/{i}"), errors);
                }
            }
        }
    }
}

fn array<'a>(v: &'a Value, at: &str) -> Result<&'a Vec<Value>, FieldError> {
    v.as_array()
        .ok_or_else(|| FieldError::new(at, "expected an array"))
}

fn position(v: &Value, at: &str) -> Result<Position, FieldError> {
    let items = array(v, at)?;
    if !(2..=3).contains(&items.len()) {
        return Err(FieldError::new(
            at,
            "a position is [longitude, latitude] (altitude optional)",
        ));
    }
    let num = |i: usize| {
        items[i]
            .as_f64()
            .ok_or_else(|| FieldError::new(format!("{at}/{i}"), "expected a number"))
    };
    let lon = Longitude::parse(num(0)?).map_err(|e| FieldError::new(format!("{at}/0"), e))?;
    let lat = Latitude::parse(num(1)?).map_err(|e| FieldError::new(format!("{at}/1"), e))?;
    // The altitude is not used, but a position whose altitude is not a number is malformed.
    if items.len() == 3 {
        num(2)?;
    }
    Ok([lon.degrees(), lat.degrees()])
}

fn polygon(v: &Value, at: &str) -> Result<Vec<Ring>, FieldError> {
    let rings = array(v, at)?;
    if rings.is_empty() {
        return Err(FieldError::new(at, "a polygon needs an outer ring"));
    }
    rings
        .iter()
        .enumerate()
        .map(|(i, r)| ring(r, &format!("{at}/{i}")))
        .collect()
}

fn ring(v: &Value, at: &str) -> Result<Ring, FieldError> {
    let items = array(v, at)?;
    let mut out: Ring = Vec::with_capacity(items.len());
    for (i, p) in items.iter().enumerate() {
        let p = position(p, &format!("{at}/{i}"))?;
        // Repeated consecutive positions are common in exported data and harmless: fold them.
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    if items.len() < 4 {
        return Err(FieldError::new(
            at,
            format!("a ring needs at least 4 positions, got {}", items.len()),
        ));
    }
    if items.first() != items.last() {
        return Err(FieldError::new(
            at,
            "a ring must be closed: its last position must equal its first",
        ));
    }
    if out.len() < 4 {
        return Err(FieldError::new(
            at,
            "a ring needs at least 3 distinct positions",
        ));
    }
    Ok(out)
}

/// Shoelace area in square degrees (sign gives orientation).
fn signed_area(ring: &[Position]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum::<f64>()
        / 2.0
}

/// One edge, remembered with its ring and index so neighbours can be told apart from crossings.
struct Edge {
    ring: usize,
    index: usize,
    line: Line<f64>,
}

impl RTreeObject for Edge {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.line.start.into(), self.line.end.into())
    }
}

/// Rings must not cross or touch themselves or each other, and holes lie inside the shell.
/// An R-tree over the edges keeps this O(n log n), so 10,000-vertex fences validate quickly.
fn check_polygon(rings: &[Ring], at: &str, errors: &mut Vec<FieldError>) {
    let edges: Vec<Edge> = rings
        .iter()
        .enumerate()
        .flat_map(|(r, ring)| {
            ring.windows(2).enumerate().map(move |(i, w)| Edge {
                ring: r,
                index: i,
                line: Line::new(Coord::from(w[0]), Coord::from(w[1])),
            })
        })
        .collect();
    let ring_len: Vec<usize> = rings.iter().map(|r| r.len() - 1).collect();
    let tree = RTree::bulk_load(edges.iter().map(EdgeRef).collect());
    for a in &edges {
        for EdgeRef(b) in tree.locate_in_envelope_intersecting(&a.envelope()) {
            if b.ring < a.ring || (b.ring == a.ring && b.index <= a.index) {
                continue;
            }
            let adjacent = a.ring == b.ring
                && (b.index == a.index + 1 || (a.index == 0 && b.index == ring_len[a.ring] - 1));
            let hit = line_intersection(a.line, b.line);
            let crosses = match hit {
                None => false,
                // Neighbours share exactly one endpoint; anything more is a fold back.
                Some(geo::LineIntersection::SinglePoint { is_proper, .. }) => {
                    !adjacent || is_proper
                }
                Some(geo::LineIntersection::Collinear { .. }) => true,
            };
            if crosses {
                let reason = if a.ring == b.ring {
                    format!(
                        "ring {} intersects itself (edges {} and {})",
                        a.ring, a.index, b.index
                    )
                } else {
                    format!("rings {} and {} touch or cross", a.ring, b.ring)
                };
                errors.push(FieldError::new(format!("{at}/{}", b.ring), reason));
                return;
            }
        }
    }
    // Checked after crossings: a bow tie's lobes cancel out, and "intersects itself" is the
    // reason a brand can act on.
    for (r, ring) in rings.iter().enumerate() {
        if signed_area(ring).abs() < 1e-14 {
            errors.push(FieldError::new(
                format!("{at}/{r}"),
                "the ring has zero area",
            ));
            return;
        }
    }
    let shell = Polygon::new(LineString::from(rings[0].clone()), vec![]);
    for (h, hole) in rings.iter().enumerate().skip(1) {
        if !shell.contains(&Point::from(hole[0])) {
            errors.push(FieldError::new(
                format!("{at}/{h}"),
                format!("hole {h} lies outside the outer ring"),
            ));
        }
    }
}

struct EdgeRef<'a>(&'a Edge);

impl RTreeObject for EdgeRef<'_> {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.0.envelope()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(kind: &str, coords: Value) -> Result<FenceGeometry, Vec<FieldError>> {
        FenceGeometry::parse(kind, &coords, "/geometry")
    }

    fn square() -> Value {
        json!([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]])
    }

    #[test]
    fn a_closed_square_is_a_valid_polygon() {
        assert!(parse("Polygon", square()).is_ok());
    }

    #[test]
    fn a_bow_tie_is_rejected_as_self_intersecting() {
        let bow = json!([[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]);
        let err = parse("Polygon", bow).unwrap_err();
        assert!(err[0].reason.contains("intersects itself"), "{err:?}");
        assert_eq!(err[0].pointer, "/geometry/coordinates/0");
    }

    #[test]
    fn an_open_ring_is_rejected() {
        let open = json!([[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]);
        let err = parse("Polygon", open).unwrap_err();
        assert!(err[0].reason.contains("closed") || err[0].reason.contains("at least 4"));
    }

    #[test]
    fn a_hole_outside_its_shell_is_rejected() {
        let p = json!([
            [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]],
            [[2.0, 2.0], [3.0, 2.0], [3.0, 3.0], [2.0, 2.0]]
        ]);
        let err = parse("Polygon", p).unwrap_err();
        assert_eq!(err[0].pointer, "/geometry/coordinates/1");
    }

    #[test]
    fn a_hole_inside_its_shell_is_accepted() {
        let p = json!([
            [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
            [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]]
        ]);
        assert!(parse("Polygon", p).is_ok());
    }

    #[test]
    fn latitude_91_is_named_by_its_pointer() {
        let err = parse("Point", json!([10.0, 91.0])).unwrap_err();
        assert_eq!(err[0].pointer, "/geometry/coordinates/1");
        assert!(err[0].reason.contains("latitude"));
    }

    #[test]
    fn a_flat_ring_has_zero_area() {
        let flat = json!([[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 0.0]]]);
        assert!(parse("Polygon", flat).is_err());
    }

    #[test]
    fn a_ten_thousand_vertex_circle_polygon_validates_and_one_more_is_refused() {
        let ring = |n: usize| {
            let mut r: Vec<Value> = (0..n)
                .map(|i| {
                    let a = i as f64 / n as f64 * std::f64::consts::TAU;
                    json!([a.cos(), a.sin()])
                })
                .collect();
            r.push(r[0].clone());
            Value::Array(vec![Value::Array(r)])
        };
        assert!(parse("Polygon", ring(9_999)).is_ok());
        assert!(parse("Polygon", ring(10_000)).is_err());
    }

    #[test]
    fn storage_form_is_geojson() {
        let g = parse("Point", json!([-73.98, 40.75])).unwrap();
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            json!({"type": "Point", "coordinates": [-73.98, 40.75]})
        );
    }
}
