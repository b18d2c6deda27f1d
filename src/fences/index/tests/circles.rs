//! Circle rules: haversine radius, antimeridian, poles, sizes, accuracy gate.

use super::super::{FenceIndex, IndexedFence, Shape};
use super::{circle, destination, id, ids, reference};

fn one(f: IndexedFence) -> FenceIndex {
    FenceIndex::build(vec![f])
}

fn hits(ix: &FenceIndex, lat: f64, lon: f64) -> bool {
    let mut out = Vec::new();
    ix.query(lat, lon, 10.0, &mut out);
    !out.is_empty()
}

#[test]
fn circle_across_antimeridian_matches_point_on_other_side() {
    let ix = one(circle(1, 179.995, 10.0, 2000.0));
    let mut out = Vec::new();
    ix.query(10.0, -179.995, 10.0, &mut out);
    assert_eq!(ids(&out), vec![id(1)]);
    let d = out[0].center_distance_m.unwrap();
    assert!((d - 1095.0).abs() < 5.0, "{d}");
    // And from the west: a circle at -179.999 reaches +179.99.
    let ix = one(circle(2, -179.999, -45.0, 2000.0));
    assert!(hits(&ix, -45.0, 179.99));
    assert!(!hits(&ix, -45.0, 179.97));
}

#[test]
fn points_at_lon_180_and_minus_180_are_the_same_meridian() {
    let ix = one(circle(1, 179.999, 0.0, 500.0));
    assert!(hits(&ix, 0.0, 180.0));
    assert!(hits(&ix, 0.0, -180.0));
    // Longitudes outside [-180, 180] wrap.
    assert!(hits(&ix, 0.0, -180.0 - 360.0));
    assert!(hits(&ix, 0.0, 179.999 + 720.0));
}

#[test]
fn circle_containing_north_pole_matches_every_longitude() {
    // 20 km around 89.9°N reaches 0.08° past the pole.
    let f = circle(1, 10.0, 89.9, 20_000.0);
    let ix = one(f.clone());
    for lon in [-180.0, -120.0, -10.0, 0.0, 45.0, 170.0, 180.0] {
        let lat = 89.95;
        assert_eq!(
            hits(&ix, lat, lon),
            !reference(std::slice::from_ref(&f), lat, lon, 10.0).is_empty(),
            "lon {lon}"
        );
    }
    assert!(hits(&ix, 90.0, 123.0));
    assert!(hits(&ix, 89.95, -170.0)); // across the pole: 0.1° + 0.05°
    assert!(!hits(&ix, 89.7, -170.0));
}

#[test]
fn circle_containing_south_pole_matches_across_it() {
    let ix = one(circle(1, -60.0, -89.95, 10_000.0));
    assert!(hits(&ix, -90.0, 0.0));
    assert!(hits(&ix, -89.98, 120.0));
    assert!(!hits(&ix, -89.8, 120.0));
}

#[test]
fn high_latitude_circle_envelope_widens_with_latitude() {
    // At 85°N a 50 km circle spans about ±5.1° of longitude.
    let f = circle(1, 0.0, 85.0, 50_000.0);
    let ix = one(f.clone());
    let (lat, lon) = destination(85.0, 0.0, 90.0, 49_999.0);
    assert!(lon > 5.0, "{lon}");
    assert!(hits(&ix, lat, lon));
    let (lat, lon) = destination(85.0, 0.0, 270.0, 50_001.0);
    assert!(!hits(&ix, lat, lon));
    // The widest point of the cap is slightly poleward of the centre latitude.
    for bearing in (0..360).step_by(15) {
        for dist in [49_990.0, 50_010.0] {
            let (lat, lon) = destination(85.0, 0.0, bearing as f64, dist);
            assert_eq!(
                hits(&ix, lat, lon),
                dist < 50_000.0,
                "bearing {bearing} dist {dist}"
            );
        }
    }
}

#[test]
fn ten_metre_circle_matches_inside_and_rejects_just_outside() {
    let ix = one(circle(1, 2.3522, 48.8566, 10.0));
    for bearing in (0..360).step_by(30) {
        let (lat, lon) = destination(48.8566, 2.3522, bearing as f64, 9.99);
        assert!(hits(&ix, lat, lon), "bearing {bearing}");
        let (lat, lon) = destination(48.8566, 2.3522, bearing as f64, 10.01);
        assert!(!hits(&ix, lat, lon), "bearing {bearing}");
    }
}

#[test]
fn fifty_km_circle_matches_inside_and_rejects_just_outside() {
    let ix = one(circle(1, -58.38, -34.6, 50_000.0));
    for bearing in (0..360).step_by(20) {
        let (lat, lon) = destination(-34.6, -58.38, bearing as f64, 49_999.0);
        assert!(hits(&ix, lat, lon), "bearing {bearing}");
        let (lat, lon) = destination(-34.6, -58.38, bearing as f64, 50_001.0);
        assert!(!hits(&ix, lat, lon), "bearing {bearing}");
    }
}

#[test]
fn circle_match_reports_centre_and_edge_distance() {
    let ix = one(circle(1, 13.4, 52.5, 300.0));
    let (lat, lon) = destination(52.5, 13.4, 45.0, 120.0);
    let mut out = Vec::new();
    ix.query(lat, lon, 5.0, &mut out);
    let m = out[0];
    assert!((m.center_distance_m.unwrap() - 120.0).abs() < 1e-3);
    assert!((m.edge_distance_m - 180.0).abs() < 1e-3);
}

#[test]
fn accuracy_gate_rejects_fixes_less_precise_than_the_fence_allows() {
    let mut f = circle(1, 0.0, 0.0, 100.0);
    f.max_accuracy_m = 25.0;
    let ix = one(f);
    let mut out = Vec::new();
    ix.query(0.0, 0.0, 25.0, &mut out);
    assert_eq!(out.len(), 1, "accuracy equal to the limit passes");
    ix.query(0.0, 0.0, 25.001, &mut out);
    assert!(out.is_empty());
    ix.query(0.0, 0.0, f64::NAN, &mut out);
    assert!(out.is_empty());
}

#[test]
fn invalid_input_is_rejected_not_panicking() {
    let bad = IndexedFence {
        id: id(9),
        max_accuracy_m: 10.0,
        shape: Shape::Circle {
            lon: 0.0,
            lat: 91.0,
            radius_m: 5.0,
        },
    };
    assert!(bad.validate().is_err());
    let ix = FenceIndex::build(vec![bad, circle(1, 0.0, 0.0, 10.0)]);
    assert_eq!(ix.len(), 1);
    let mut out = Vec::new();
    for (lat, lon) in [(f64::NAN, 0.0), (0.0, f64::INFINITY), (95.0, 0.0)] {
        ix.query(lat, lon, 1.0, &mut out);
        assert!(out.is_empty());
    }
}

#[test]
fn results_are_sorted_by_id_and_duplicates_keep_the_last_fence() {
    let fences = vec![
        circle(3, 0.0, 0.0, 100.0),
        circle(1, 0.0, 0.0, 100.0),
        circle(2, 0.0, 0.0, 100.0),
        circle(3, 50.0, 0.0, 100.0),
    ];
    let ix = FenceIndex::build(fences);
    assert_eq!(ix.len(), 3);
    let mut out = Vec::new();
    ix.query(0.0, 0.0, 1.0, &mut out);
    assert_eq!(ids(&out), vec![id(1), id(2)]);
    ix.query(0.0, 50.0, 1.0, &mut out);
    assert_eq!(ids(&out), vec![id(3)]);
}

#[test]
fn heap_bytes_per_circle_stays_under_budget() {
    let fences = (0..10_000)
        .map(|i| circle(i, (i % 100) as f64 * 0.01, (i / 100) as f64 * 0.01, 200.0))
        .collect();
    let ix = FenceIndex::build(fences);
    let per = ix.heap_bytes() / ix.len();
    assert!(per <= 400, "{per} bytes per circle");
}
