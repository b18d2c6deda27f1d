//! Polygon rules: holes, boundary, antimeridian cuts, edge distance, big polygons.

use super::super::{FenceIndex, IndexedFence, cut_at_antimeridian};
use super::{area, assert_same, id, ids, poly, reference};
use geo::{Intersects, MultiPolygon, Point};

fn hits(ix: &FenceIndex, lat: f64, lon: f64) -> bool {
    let mut out = Vec::new();
    ix.query(lat, lon, 1.0, &mut out);
    !out.is_empty()
}

/// 0.01° square at the origin with a 0.004° square hole in the middle.
fn square_with_hole() -> IndexedFence {
    let outer: &[(f64, f64)] = &[
        (0.0, 0.0),
        (0.01, 0.0),
        (0.01, 0.01),
        (0.0, 0.01),
        (0.0, 0.0),
    ];
    let hole: &[(f64, f64)] = &[
        (0.003, 0.003),
        (0.007, 0.003),
        (0.007, 0.007),
        (0.003, 0.007),
        (0.003, 0.003),
    ];
    area(1, MultiPolygon(vec![poly(&[outer, hole])]))
}

#[test]
fn polygon_with_hole_excludes_points_in_the_hole() {
    let ix = FenceIndex::build(vec![square_with_hole()]);
    assert!(hits(&ix, 0.001, 0.001));
    assert!(hits(&ix, 0.008, 0.005));
    assert!(!hits(&ix, 0.005, 0.005), "centre of the hole");
    assert!(!hits(&ix, 0.02, 0.005), "outside");
}

#[test]
fn points_on_the_boundary_count_as_inside() {
    let ix = FenceIndex::build(vec![square_with_hole()]);
    for (lat, lon) in [
        (0.0, 0.005),
        (0.005, 0.01),
        (0.0, 0.0),
        (0.01, 0.01),
        (0.003, 0.005),
        (0.007, 0.007),
    ] {
        assert!(
            hits(&ix, lat, lon),
            "({lat}, {lon}) is on an edge or vertex"
        );
        let mut out = Vec::new();
        ix.query(lat, lon, 1.0, &mut out);
        assert_eq!(out[0].edge_distance_m, 0.0);
    }
}

#[test]
fn polygon_edge_distance_is_metres_to_nearest_edge() {
    let ix = FenceIndex::build(vec![square_with_hole()]);
    let mut out = Vec::new();
    // 0.001° of latitude from the bottom edge: ~111.2 m.
    ix.query(0.001, 0.005, 1.0, &mut out);
    assert!(
        (out[0].edge_distance_m - 111.195).abs() < 0.01,
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].center_distance_m, None);
    // Next to the hole: the hole's edge is the nearest boundary.
    ix.query(0.005, 0.0075, 1.0, &mut out);
    assert!((out[0].edge_distance_m - 55.6).abs() < 0.1, "{:?}", out[0]);
}

#[test]
fn multipolygon_cut_at_antimeridian_matches_on_both_sides() {
    // A 0.2° x 0.2° box centred on the antimeridian, drawn continuously then cut.
    let drawn = poly(&[&[
        (179.9, -17.1),
        (180.1, -17.1),
        (180.1, -16.9),
        (179.9, -16.9),
        (179.9, -17.1),
    ]]);
    let mp = cut_at_antimeridian(&drawn);
    assert_eq!(mp.0.len(), 2, "{mp:?}");
    for p in &mp.0 {
        assert!(
            p.exterior()
                .0
                .iter()
                .all(|c| (-180.0..=180.0).contains(&c.x))
        );
        assert!(
            p.exterior().0.iter().any(|c| c.x.abs() == 180.0),
            "seam snapped to ±180"
        );
    }
    let f = area(1, mp);
    let ix = FenceIndex::build(vec![f.clone()]);
    for lon in [179.95, 180.0, -180.0, -179.95, 179.9, -179.9] {
        assert!(hits(&ix, -17.0, lon), "lon {lon}");
    }
    assert!(!hits(&ix, -17.0, 179.85));
    assert!(!hits(&ix, -17.0, -179.85));
    // Edge distance ignores the artificial seam: the nearest real edges are the
    // east/west sides ~0.1° of longitude away (~10.6 km at 17°S), not the seam.
    for lon in [179.9999, -179.9999, 180.0] {
        let mut out = Vec::new();
        ix.query(-17.0, lon, 1.0, &mut out);
        assert_same(
            &out,
            &reference(std::slice::from_ref(&f), -17.0, lon, 1.0),
            "seam distance",
        );
        assert!(out[0].edge_distance_m > 10_600.0, "{:?}", out[0]);
    }
}

#[test]
fn antimeridian_cut_handles_concave_polygons_with_holes() {
    // A "U" opening north, straddling 180, with a hole in its bottom bar.
    let u: &[(f64, f64)] = &[
        (179.0, 0.0),
        (181.0, 0.0),
        (181.0, 2.0),
        (180.5, 2.0),
        (180.5, 1.0),
        (179.5, 1.0),
        (179.5, 2.0),
        (179.0, 2.0),
        (179.0, 0.0),
    ];
    let hole: &[(f64, f64)] = &[
        (179.8, 0.2),
        (180.2, 0.2),
        (180.2, 0.4),
        (179.8, 0.4),
        (179.8, 0.2),
    ];
    let drawn = poly(&[u, hole]);
    let mp = cut_at_antimeridian(&drawn);
    let ix = FenceIndex::build(vec![area(1, mp.clone())]);
    for (lat, lon) in [
        (0.1, 179.9),
        (0.1, -179.9),
        (0.3, 179.9),
        (0.3, -179.9),
        (1.5, 180.0),
        (1.5, 179.2),
        (1.5, -179.2),
        (0.7, 180.0),
    ] {
        let unwrapped = if lon < 0.0 { lon + 360.0 } else { lon };
        let want = drawn.intersects(&Point::new(unwrapped, lat));
        assert_eq!(hits(&ix, lat, lon), want, "({lat}, {lon})");
    }
}

#[test]
fn big_ten_thousand_vertex_polygon_matches_brute_force() {
    // A wobbly star with 10,000 vertices and a 2,000-vertex hole (prepared path).
    let n = 10_000;
    let star = |n: usize, r0: f64, amp: f64, k: f64| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = r0 * (1.0 + amp * (k * t).sin());
                (4.35 + r * t.cos(), 50.85 + r * t.sin() * 0.63)
            })
            .collect();
        v.push(v[0]);
        v
    };
    let outer = star(n, 0.05, 0.3, 37.0);
    let hole = star(2_000, 0.01, 0.2, 11.0);
    let f = area(7, MultiPolygon(vec![poly(&[&outer, &hole])]));
    let ix = FenceIndex::build(vec![f.clone()]);
    let (_, verts) = ix.area_stats();
    assert_eq!(verts, n + 1 + 2_001);
    let mut out = Vec::new();
    let mut inside = 0;
    for i in 0..1_500u32 {
        // Deterministic scatter over the polygon's box, including the hole.
        let u = (i as f64 * 0.618_033_988_75).fract();
        let w = (i as f64 * 0.754_877_666_2).fract();
        let (lon, lat) = (4.35 - 0.07 + 0.14 * u, 50.85 - 0.045 + 0.09 * w);
        ix.query(lat, lon, 1.0, &mut out);
        assert_same(
            &out,
            &reference(std::slice::from_ref(&f), lat, lon, 1.0),
            &format!("({lat}, {lon})"),
        );
        inside += out.len();
    }
    assert!(inside > 300 && inside < 1_400, "{inside}");
    // Exact vertices are on the boundary.
    for &(lon, lat) in outer.iter().step_by(997).chain(hole.iter().step_by(101)) {
        ix.query(lat, lon, 1.0, &mut out);
        assert_eq!(ids(&out), vec![id(7)]);
    }
}

#[test]
fn polygon_around_the_pole_written_as_a_lat_lon_box_matches() {
    // GeoJSON-style polar cap: every longitude from 80°N to the pole.
    let cap: &[(f64, f64)] = &[
        (-180.0, 80.0),
        (180.0, 80.0),
        (180.0, 90.0),
        (-180.0, 90.0),
        (-180.0, 80.0),
    ];
    let ix = FenceIndex::build(vec![area(1, MultiPolygon(vec![poly(&[cap])]))]);
    for lon in [-180.0, -90.0, 0.0, 90.0, 180.0] {
        assert!(hits(&ix, 85.0, lon));
        assert!(hits(&ix, 90.0, lon));
        assert!(!hits(&ix, 79.0, lon));
    }
}

#[test]
fn multipolygon_parts_are_indexed_separately() {
    let a: &[(f64, f64)] = &[
        (0.0, 0.0),
        (0.001, 0.0),
        (0.001, 0.001),
        (0.0, 0.001),
        (0.0, 0.0),
    ];
    let b: &[(f64, f64)] = &[
        (10.0, 10.0),
        (10.001, 10.0),
        (10.001, 10.001),
        (10.0, 10.001),
        (10.0, 10.0),
    ];
    let f = area(1, MultiPolygon(vec![poly(&[a]), poly(&[b])]));
    let ix = FenceIndex::build(vec![f]);
    assert!(hits(&ix, 0.0005, 0.0005));
    assert!(hits(&ix, 10.0005, 10.0005));
    assert!(!hits(&ix, 5.0, 5.0), "the gap between parts is outside");
}
