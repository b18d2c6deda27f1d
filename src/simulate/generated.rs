//! The generated world (`--world generated`): the load generator's kind of world
//! (`loadtest/src/world.rs`), ported to one city — many brands, fences clustered around
//! the fixtures' store points, and offers that mostly fire on place alone ("Place only",
//! "Daytime", "Mild weather"). It is written as a fixtures directory, so the demo's loader
//! puts it through the same services and validation. Deterministic for a seed.

use super::world::offset;
use anyhow::Context;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::path::Path;

/// Brands in the generated world.
const BRANDS: usize = 12;
/// Fences in the generated world.
const FENCES: usize = 1200;
/// Spread of fences around a store point, metres (one standard deviation).
const SPREAD_M: f64 = 400.0;

/// Writes the generated world for `seed` to `out` (`brands.json`, `geofences/`, `offers/`),
/// its fences around the store points of the fixtures in `fixtures`.
pub fn write(seed: u64, fixtures: &Path, out: &Path) -> anyhow::Result<()> {
    let map = super::world::CityMap::from_fixtures(fixtures)?;
    let centres: Vec<(f64, f64)> = map.fences.iter().map(|f| (f.lat, f.lon)).collect();
    let tz = map.timezone.name();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6E6E_7261_7465_6421);
    let brands: Vec<String> = (0..BRANDS).map(|i| format!("sim-brand-{i:02}")).collect();
    let mut features: Vec<Vec<Value>> = vec![Vec::new(); BRANDS];
    for i in 0..FENCES {
        let (clat, clon) = centres[rng.random_range(0..centres.len())];
        let (lat, lon) = offset(
            clat,
            clon,
            normal(&mut rng) * SPREAD_M,
            normal(&mut rng) * SPREAD_M,
        );
        let b = i % BRANDS;
        features[b].push(json!({
            "type": "Feature",
            "geometry": { "type": "Point", "coordinates": [round6(lon), round6(lat)] },
            "properties": {
                "name": format!("{} store {i}", brands[b]),
                "radius_m": rng.random_range(25.0..80.0f64).round(),
                "timezone": tz,
                "tags": ["store"],
                "external_id": format!("gen-{i}"),
                "max_accuracy_m": 150,
            }
        }));
    }
    std::fs::create_dir_all(out.join("geofences"))?;
    std::fs::create_dir_all(out.join("offers"))?;
    let list: Vec<Value> = brands
        .iter()
        .map(|b| json!({ "id": b, "name": format!("Brand {b}") }))
        .collect();
    write_json(&out.join("brands.json"), &json!(list))?;
    for (b, id) in brands.iter().enumerate() {
        let fc = json!({ "type": "FeatureCollection", "features": features[b] });
        write_json(&out.join("geofences").join(format!("{id}.geojson")), &fc)?;
        write_json(
            &out.join("offers").join(format!("{id}.json")),
            &json!(offers(b)),
        )?;
    }
    Ok(())
}

/// The offers of brand `b`, as the load generator's: a place-only offer for every brand,
/// plus a wide daytime schedule or a mild-weather gate for two brands in three.
fn offers(b: usize) -> Vec<Value> {
    brand_offers(b, "2026-01-01T00:00:00Z", "2027-12-31T23:59:59Z", "GEN")
}

/// The generated world's offers of brand `b` (the load generator's too, `loadtest/world.rs`),
/// valid between the two RFC 3339 times, with redemption codes starting `code_prefix`.
pub fn brand_offers(
    b: usize,
    valid_from: &str,
    valid_until: &str,
    code_prefix: &str,
) -> Vec<Value> {
    let base = |name: &str, targeting: Value, holdout: u32| {
        json!({
            "name": name,
            "status": "active",
            "title": format!("{name} at {{{{ fence.name }}}}"),
            "body": "{{ distance_m | round | int }} m away: show this at the till.",
            "value": 1.0,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "targeting": targeting,
            "caps": { "per_person": { "count": 1, "period_days": 30 } },
            "holdout_pct": holdout,
            "redemption": { "code_prefix": code_prefix, "valid_hours": 24 },
        })
    };
    let fences = json!({ "ids": [], "tags": ["store"] });
    let mut out = vec![base(
        "Place only",
        json!({ "fences": fences, "max_speed_mps": 5 }),
        if b.is_multiple_of(3) { 10 } else { 0 },
    )];
    match b % 3 {
        1 => out.push(base(
            "Daytime",
            json!({ "fences": fences,
                    "schedule": { "days": ["mon","tue","wed","thu","fri","sat","sun"],
                                  "hours": [{ "from": "06:00", "to": "23:00" }] } }),
            0,
        )),
        2 => out.push(base(
            "Mild weather",
            json!({ "fences": fences, "weather": { "min_temp_c": 15 } }),
            0,
        )),
        _ => {}
    }
    out
}

/// A standard normal sample (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn write_json(path: &Path, v: &Value) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(v)?)
        .with_context(|| format!("writing {}", path.display()))
}
