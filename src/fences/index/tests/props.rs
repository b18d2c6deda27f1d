//! Property tests: FenceIndex and LiveIndex (after random edits) agree with the
//! brute-force oracle on random fences and points worldwide, with extra weight
//! on the poles and the antimeridian. Case counts are small enough for debug
//! builds; raise them with `PROPTEST_CASES=2000 cargo test --release`.

use super::super::{FenceIndex, IndexedFence, LiveConfig, LiveIndex, Shape, cut_at_antimeridian};
use super::{assert_same, destination, id, poly, reference};
use geo::{BoundingRect, MultiPolygon};
use proptest::prelude::*;

/// Case count: small by default (debug builds), `PROPTEST_CASES` overrides.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where things are placed: anywhere, near ±180, or near a pole.
fn anchor() -> impl Strategy<Value = (f64, f64)> {
    prop_oneof![
        3 => (-180.0..=180.0f64, -90.0..=90.0f64),
        2 => (prop_oneof![179.0..=180.0f64, -180.0..=-179.0f64], -85.0..85.0f64),
        2 => (-180.0..=180.0f64, prop_oneof![88.0..=90.0f64, -90.0..=-88.0f64]),
    ]
}

fn accuracy() -> impl Strategy<Value = f32> {
    prop_oneof![Just(20.0f32), Just(100.0), Just(1000.0)]
}

fn circle_fence() -> impl Strategy<Value = (f64, f64, f64, f32)> {
    // Radius log-uniform over 10 m .. 50 km, f32-representable like the index stores it.
    (anchor(), 1.0f64..4.7, accuracy())
        .prop_map(|((lon, lat), e, acc)| (lon, lat, 10f64.powf(e) as f32 as f64, acc))
}

/// Cheap deterministic noise so one u64 seeds a whole polygon.
fn noise(seed: u64, i: u64) -> f64 {
    let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Star-shaped ring around (lon, lat): radius r0 degrees of latitude, longitude
/// stretched by 1/cos(lat) so it is roughly round on the ground.
fn star(lon: f64, lat: f64, r0: f64, n: usize, seed: u64) -> Vec<(f64, f64)> {
    let stretch = 1.0 / lat.to_radians().cos().max(0.02);
    let mut v: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let t = (i as f64 + 0.5 * noise(seed, 2 * i as u64)) / n as f64 * std::f64::consts::TAU;
            let r = r0 * (0.6 + 0.4 * noise(seed, 2 * i as u64 + 1));
            (lon + r * t.cos() * stretch, lat + r * t.sin())
        })
        .collect();
    v.push(v[0]);
    v
}

fn area_fence() -> impl Strategy<Value = (MultiPolygon<f64>, f32)> {
    let verts = prop_oneof![4 => 5usize..40, 1 => 150usize..400];
    (
        anchor(),
        0.0005f64..0.3,
        verts,
        any::<u64>(),
        any::<bool>(),
        accuracy(),
    )
        .prop_map(|((lon, lat), r0, n, seed, hole, acc)| {
            let lat = lat.clamp(-89.5 + r0, 89.5 - r0);
            let outer = star(lon, lat, r0, n, seed);
            let inner = star(lon, lat, r0 * 0.25, 7, seed ^ 1);
            let p = if hole {
                poly(&[&outer, &inner])
            } else {
                poly(&[&outer])
            };
            (cut_at_antimeridian(&p), acc)
        })
}

fn fences() -> impl Strategy<Value = Vec<IndexedFence>> {
    let shape = prop_oneof![
        3 => circle_fence().prop_map(|(lon, lat, r, acc)| (Shape::Circle { lon, lat, radius_m: r }, acc)),
        2 => area_fence().prop_map(|(mp, acc)| (Shape::Area(mp), acc)),
    ];
    // Ids from a small range so duplicates (last one wins) also occur.
    prop::collection::vec((0u128..40, shape), 1..25).prop_map(|v| {
        v.into_iter()
            .map(|(n, (shape, acc))| IndexedFence {
                id: id(n),
                max_accuracy_m: acc,
                shape,
            })
            .collect()
    })
}

/// A query point described relative to the fence list (so many land inside).
#[derive(Debug, Clone)]
struct Probe {
    pick: usize,
    u: f64,
    v: f64,
    mode: u8,
    acc: f64,
}

fn probe() -> impl Strategy<Value = Probe> {
    let acc = prop_oneof![Just(5.0), Just(50.0), Just(500.0), Just(5000.0)];
    (any::<usize>(), 0.0f64..1.0, 0.0f64..1.0, 0u8..10, acc).prop_map(|(pick, u, v, mode, acc)| {
        Probe {
            pick,
            u,
            v,
            mode,
            acc,
        }
    })
}

/// Turns a probe into (lat, lon): near a fence, on a vertex, at ±180, at a pole, or anywhere.
fn locate(fences: &[IndexedFence], p: &Probe) -> (f64, f64) {
    let f = &fences[p.pick % fences.len()];
    match (p.mode, &f.shape) {
        (7, _) => (p.v * 180.0 - 90.0, p.u * 360.0 - 180.0),
        (8, _) => (p.v * 180.0 - 90.0, if p.u < 0.5 { 180.0 } else { -180.0 }),
        (9, _) => (if p.u < 0.5 { 90.0 } else { -90.0 }, p.v * 360.0 - 180.0),
        (_, Shape::Circle { lon, lat, radius_m }) => {
            destination(*lat, *lon, p.u * 360.0, p.v * 1.3 * radius_m)
        }
        (m, Shape::Area(mp)) => {
            let part = &mp.0[(p.pick / 7) % mp.0.len()];
            if m == 6 {
                let c = part.exterior().0[(p.pick / 3) % part.exterior().0.len()];
                return (c.y, c.x);
            }
            let b = part.bounding_rect().expect("non-empty part");
            let (w, h) = (b.width() * 1.2, b.height() * 1.2);
            (
                b.min().y - 0.1 * b.height() + p.v * h,
                b.min().x - 0.1 * b.width() + p.u * w,
            )
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn fence_index_agrees_with_brute_force_worldwide(fs in fences(), probes in prop::collection::vec(probe(), 1..40)) {
        let ix = FenceIndex::build(fs.clone());
        let mut out = Vec::new();
        for p in &probes {
            let (lat, lon) = locate(&fs, p);
            ix.query(lat, lon, p.acc, &mut out);
            assert_same(&out, &reference(&fs, lat, lon, p.acc), &format!("({lat}, {lon}) acc {}", p.acc));
        }
    }
}

/// One step of a random edit script.
#[derive(Debug, Clone)]
enum Op {
    Upsert(IndexedFence),
    Remove(u128),
    ReplaceAll(Vec<IndexedFence>),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let one = fences().prop_map(|v| v.into_iter().next().expect("at least one"));
    let op = prop_oneof![
        6 => one.prop_map(Op::Upsert),
        3 => (0u128..40).prop_map(Op::Remove),
        1 => fences().prop_map(Op::ReplaceAll),
    ];
    prop::collection::vec(op, 1..30)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    #[test]
    fn live_index_after_random_edits_agrees_with_brute_force(
        initial in fences(),
        script in ops(),
        max_delta in 1usize..12,
        recent_max in 1usize..5,
        probes in prop::collection::vec(probe(), 1..12),
    ) {
        let config = LiveConfig { max_delta, recent_max, background_merge: false };
        let live = LiveIndex::with_config(FenceIndex::build(initial.clone()), config);
        // The oracle's view: the plain list, edits appended (last id wins).
        let mut model: Vec<IndexedFence> = initial;
        let mut out = Vec::new();
        for op in script {
            match op {
                Op::Upsert(f) => { live.upsert(f.clone()); model.push(f); }
                Op::Remove(n) => { live.remove(id(n)); model.retain(|f| f.id != id(n)); }
                Op::ReplaceAll(fs) => { live.replace_all(FenceIndex::build(fs.clone())); model = fs; }
            }
            let valid: std::collections::BTreeSet<_> =
                model.iter().filter(|f| f.validate().is_ok()).map(|f| f.id).collect();
            prop_assert_eq!(live.len(), valid.len());
            if model.is_empty() { continue; }
            for p in &probes {
                let (lat, lon) = locate(&model, p);
                live.query(lat, lon, p.acc, &mut out);
                assert_same(&out, &reference(&model, lat, lon, p.acc), &format!("({lat}, {lon})"));
            }
        }
    }
}
