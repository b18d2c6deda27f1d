//! Tests for the fence index. `reference` is the brute-force oracle: it loops
//! over every fence using geo's own haversine and point-in-polygon
//! (`Intersects`, boundary inclusive), independent of the index's code.

mod areas;
mod circles;
mod live;
mod props;

use super::{FenceMatch, IndexedFence, Shape};
use geo::{Distance, Haversine, Intersects, LineString, MultiPolygon, Point, Polygon};
use uuid::Uuid;

const R: f64 = super::EARTH_RADIUS_M;

pub(super) fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub(super) fn circle(n: u128, lon: f64, lat: f64, radius_m: f64) -> IndexedFence {
    IndexedFence {
        id: id(n),
        max_accuracy_m: 1000.0,
        shape: Shape::Circle { lon, lat, radius_m },
    }
}

pub(super) fn area(n: u128, mp: MultiPolygon<f64>) -> IndexedFence {
    IndexedFence {
        id: id(n),
        max_accuracy_m: 1000.0,
        shape: Shape::Area(mp),
    }
}

/// Polygon from (lon, lat) rings: the first is the exterior, the rest holes.
pub(super) fn poly(rings: &[&[(f64, f64)]]) -> Polygon<f64> {
    let ls = |r: &[(f64, f64)]| LineString::from(r.to_vec());
    Polygon::new(ls(rings[0]), rings[1..].iter().map(|r| ls(r)).collect())
}

pub(super) fn ids(out: &[FenceMatch]) -> Vec<Uuid> {
    out.iter().map(|m| m.id).collect()
}

/// Point at `dist_m` along `bearing_deg` from (lat, lon) on the sphere.
pub(super) fn destination(lat: f64, lon: f64, bearing_deg: f64, dist_m: f64) -> (f64, f64) {
    let (p1, l1, b, d) = (
        lat.to_radians(),
        lon.to_radians(),
        bearing_deg.to_radians(),
        dist_m / R,
    );
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
    let l2 = l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    (
        p2.to_degrees(),
        (l2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0,
    )
}

/// Brute-force edge distance: every non-seam edge, in metres, in a local
/// equirectangular frame, also looking across the antimeridian.
pub(super) fn reference_edge_distance(mp: &MultiPolygon<f64>, lon: f64, lat: f64) -> f64 {
    let k = R * std::f64::consts::PI / 180.0;
    let kx = k * lat.to_radians().cos();
    let mut best = f64::INFINITY;
    for shift in [0.0, 360.0, -360.0] {
        for p in &mp.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    if l.start.x == l.end.x && l.start.x.abs() == 180.0 {
                        continue;
                    }
                    let a = ((l.start.x - lon - shift) * kx, (l.start.y - lat) * k);
                    let b = ((l.end.x - lon - shift) * kx, (l.end.y - lat) * k);
                    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                    let len2 = dx * dx + dy * dy;
                    let t = if len2 > 0.0 {
                        (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    best = best.min((a.0 + t * dx).hypot(a.1 + t * dy));
                }
            }
        }
    }
    best
}

/// The oracle: matches sorted by id, with their distances.
pub(super) fn reference(fences: &[IndexedFence], lat: f64, lon: f64, acc: f64) -> Vec<FenceMatch> {
    let lon = if (-180.0..=180.0).contains(&lon) {
        lon
    } else {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    };
    let mut last: std::collections::BTreeMap<Uuid, &IndexedFence> = Default::default();
    for f in fences.iter().filter(|f| f.validate().is_ok()) {
        last.insert(f.id, f);
    }
    let mut out = Vec::new();
    for f in last.values() {
        if acc > f.max_accuracy_m as f64 {
            continue;
        }
        match &f.shape {
            Shape::Circle {
                lon: clon,
                lat: clat,
                radius_m,
            } => {
                let d = Haversine.distance(Point::new(*clon, *clat), Point::new(lon, lat));
                let r = *radius_m as f32 as f64;
                if d <= r {
                    out.push(FenceMatch {
                        id: f.id,
                        edge_distance_m: r - d,
                        center_distance_m: Some(d),
                    });
                }
            }
            Shape::Area(mp) => {
                let hit = mp.intersects(&Point::new(lon, lat))
                    || (lon.abs() == 180.0 && mp.intersects(&Point::new(-lon, lat)));
                if hit {
                    let d = reference_edge_distance(mp, lon, lat);
                    out.push(FenceMatch {
                        id: f.id,
                        edge_distance_m: d,
                        center_distance_m: None,
                    });
                }
            }
        }
    }
    out
}

/// Asserts same ids and distances (within rounding) as the oracle.
pub(super) fn assert_same(got: &[FenceMatch], want: &[FenceMatch], ctx: &str) {
    assert_eq!(ids(got), ids(want), "{ctx}");
    for (g, w) in got.iter().zip(want) {
        let tol = 1e-6 * (1.0 + w.edge_distance_m.abs());
        assert!(
            (g.edge_distance_m - w.edge_distance_m).abs() <= tol,
            "{ctx}: edge {g:?} vs {w:?}"
        );
        match (g.center_distance_m, w.center_distance_m) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-6, "{ctx}: centre {g:?} vs {w:?}"),
            (None, None) => {}
            _ => panic!("{ctx}: centre distance kind differs {g:?} vs {w:?}"),
        }
    }
}
