//! Deterministic synthetic world for benchmarks and the PostGIS comparison:
//! fences clustered around ~200 cities (a few at the antimeridian and at high
//! latitude) and query points, ~20% of them placed inside a fence.
//!
//! Shared by the `fence_bench` and `postgis_compare` binaries (included via
//! `#[path]`); it only uses the public `geoffer::fences::index` API so it can
//! move to the `loadtest` crate unchanged.

use geo::{LineString, MultiPolygon, Polygon};
use geoffer::fences::index::{IndexedFence, Shape, cut_at_antimeridian};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Metres per degree of latitude on the mean sphere.
const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// A check-in to look up.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
}

/// Generated fences and query points.
pub struct World {
    pub fences: Vec<IndexedFence>,
    pub points: Vec<Probe>,
}

/// Where a fence was placed: centre (lon, lat), radius in metres and, for
/// polygons, the star's outer vertices (unwrapped longitudes).
type Anchor = (f64, f64, f64, Vec<(f64, f64)>);

struct City {
    lon: f64,
    lat: f64,
    sigma_m: f64,
    weight: f64,
}

/// Cities that must exist whatever the seed: antimeridian and high latitude.
const FIXED_CITIES: &[(f64, f64)] = &[
    (179.99, -17.0),  // antimeridian, tropics (Fiji-like)
    (-179.98, 65.5),  // antimeridian, Chukotka-like
    (179.7, 51.9),    // antimeridian, Aleutians-like
    (-179.95, -43.9), // antimeridian, Chathams-like
    (15.6, 78.2),     // Svalbard
    (-68.7, 76.5),    // Greenland, Thule-like
    (166.7, -77.8),   // McMurdo-like
    (25.7, 89.5),     // camp near the North Pole
];

fn gauss(rng: &mut StdRng) -> f64 {
    // Box-Muller; rand_distr is not needed for one distribution.
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn wrap_lon(lon: f64) -> f64 {
    if (-180.0..=180.0).contains(&lon) {
        lon
    } else {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    }
}

/// Offsets (lon, lat) by metres east/north (flat-earth, fine at city scale);
/// longitude is left unwrapped so polygons stay continuous across ±180.
fn offset(lon: f64, lat: f64, east_m: f64, north_m: f64) -> (f64, f64) {
    let lat2 = (lat + north_m / M_PER_DEG).clamp(-89.99, 89.99);
    let lon2 = lon + east_m / (M_PER_DEG * lat.to_radians().cos().max(0.01));
    (lon2, lat2)
}

/// ~200 cities with Zipf-like sizes (weights); the fixed antimeridian and
/// polar ones are small towns, as in reality. Bigger cities spread wider.
fn cities(rng: &mut StdRng) -> Vec<City> {
    let n = 200;
    let mut ranks: Vec<usize> = (0..n - FIXED_CITIES.len()).collect();
    // Random rank order for the generated cities; fixed ones take tail ranks.
    for i in (1..ranks.len()).rev() {
        ranks.swap(i, rng.random_range(0..=i));
    }
    let weight = |rank: usize| 1.0 / (rank as f64 + 3.0).powf(0.8);
    let sigma = |w: f64| 5_000.0 + 20_000.0 * (w / weight(0)).sqrt();
    let mut out: Vec<City> = FIXED_CITIES
        .iter()
        .enumerate()
        .map(|(i, &(lon, lat))| {
            let w = weight(n - FIXED_CITIES.len() + i);
            City {
                lon,
                lat,
                sigma_m: sigma(w),
                weight: w,
            }
        })
        .collect();
    for rank in ranks {
        // Most people live between 40°S and 60°N.
        let lat = (rng.random_range(-40.0..60.0) + 8.0 * gauss(rng)).clamp(-60.0, 72.0);
        let w = weight(rank);
        out.push(City {
            lon: rng.random_range(-180.0..180.0),
            lat,
            sigma_m: sigma(w),
            weight: w,
        });
    }
    out
}

fn uuid(rng: &mut StdRng) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// Star-shaped ring around (lon, lat) in metres; returns vertices (unwrapped lon).
fn star(rng: &mut StdRng, lon: f64, lat: f64, r_m: f64, n: usize) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let t = (i as f64 + rng.random_range(0.0..0.5)) / n as f64 * std::f64::consts::TAU;
            let r = r_m * rng.random_range(0.6..1.0);
            offset(lon, lat, r * t.cos(), r * t.sin())
        })
        .collect();
    v.push(v[0]);
    v
}

/// Builds the world. Same arguments, same world (fixed-seed StdRng).
pub fn generate(n_fences: usize, n_points: usize, seed: u64) -> World {
    let mut rng = StdRng::seed_from_u64(seed);
    let cities = cities(&mut rng);
    let total: f64 = cities.iter().map(|c| c.weight).sum();
    let cum: Vec<f64> = cities
        .iter()
        .scan(0.0, |s, c| {
            *s += c.weight / total;
            Some(*s)
        })
        .collect();
    let pick_city = |rng: &mut StdRng| {
        &cities[cum
            .partition_point(|c| *c < rng.random::<f64>())
            .min(cities.len() - 1)]
    };

    let mut fences = Vec::with_capacity(n_fences);
    // (lon, lat, radius, star vertices) kept to place "inside" probes.
    let mut anchors: Vec<Anchor> = Vec::with_capacity(n_fences);
    while fences.len() < n_fences {
        let city = pick_city(&mut rng);
        let (lon, lat) = offset(
            city.lon,
            city.lat,
            city.sigma_m * gauss(&mut rng),
            city.sigma_m * gauss(&mut rng),
        );
        let max_accuracy_m = [50.0f32, 100.0, 200.0, 500.0][rng.random_range(0..4)];
        if rng.random::<f64>() < 0.8 {
            let radius = (20.0f64 * 25f64.powf(rng.random::<f64>())) as f32 as f64; // 20–500 m, log-uniform
            let lon = wrap_lon(lon);
            fences.push(IndexedFence {
                id: uuid(&mut rng),
                max_accuracy_m,
                shape: Shape::Circle {
                    lon,
                    lat,
                    radius_m: radius,
                },
            });
            anchors.push((lon, lat, radius, Vec::new()));
        } else {
            let r_m = rng.random_range(30.0..400.0);
            let n = rng.random_range(8..=64);
            let outer = star(&mut rng, lon, lat, r_m, n);
            let ls = |v: &[(f64, f64)]| LineString::from(v.to_vec());
            let holes = if rng.random::<f64>() < 0.1 {
                vec![ls(&star(&mut rng, lon, lat, r_m * 0.25, 6))]
            } else {
                vec![]
            };
            let poly = Polygon::new(ls(&outer), holes);
            let mp: MultiPolygon<f64> = cut_at_antimeridian(&poly);
            fences.push(IndexedFence {
                id: uuid(&mut rng),
                max_accuracy_m,
                shape: Shape::Area(mp),
            });
            anchors.push((lon, lat, r_m, outer));
        }
    }

    let mut points = Vec::with_capacity(n_points);
    while points.len() < n_points && !anchors.is_empty() {
        let roll: f64 = rng.random();
        let (lon, lat) = if roll < 0.2 {
            // Inside a fence: circles within 0.98 r; stars on the centre–vertex
            // segment past the hole (stars are star-shaped about the centre).
            let (lon, lat, r, verts) = &anchors[rng.random_range(0..anchors.len())];
            if verts.is_empty() {
                let (d, t) = (
                    r * 0.98 * rng.random::<f64>().sqrt(),
                    rng.random_range(0.0..std::f64::consts::TAU),
                );
                offset(*lon, *lat, d * t.cos(), d * t.sin())
            } else {
                let v = verts[rng.random_range(0..verts.len() - 1)];
                let t = rng.random_range(0.5..0.95);
                (lon + (v.0 - lon) * t, lat + (v.1 - lat) * t)
            }
        } else if roll < 0.7 {
            let city = pick_city(&mut rng);
            let s = city.sigma_m * 1.5;
            offset(city.lon, city.lat, s * gauss(&mut rng), s * gauss(&mut rng))
        } else {
            (
                rng.random_range(-180.0..180.0),
                rng.random_range(-85.0..85.0),
            )
        };
        let a: f64 = rng.random();
        let accuracy_m = if a < 0.8 {
            rng.random_range(5.0..65.0)
        } else if a < 0.95 {
            rng.random_range(65.0..500.0)
        } else {
            rng.random_range(500.0..3000.0)
        };
        points.push(Probe {
            lat,
            lon: wrap_lon(lon),
            accuracy_m,
        });
    }
    World { fences, points }
}

/// Parses `--name value` from the command line, with a default.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("bad value for {name}"))
        })
        .unwrap_or(default)
}
