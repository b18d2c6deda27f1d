//! A seeded world for the load test: brands, fences clustered around the fixtures' city and a
//! few other cities, and offers that mostly fire on place alone.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;

/// A city the world's fences and people cluster in.
#[derive(Debug, Clone)]
pub struct City {
    /// Short name, for reports.
    pub name: &'static str,
    /// IANA time zone of its fences.
    pub timezone: &'static str,
    /// Share of fences and people.
    pub weight: f64,
    /// Cluster centres (lat, lon): stores gather around them.
    pub centres: Vec<(f64, f64)>,
    /// Spread of fences around a centre, metres (one standard deviation).
    pub spread_m: f64,
}

/// A geofence of the world, as generated (the server assigns its id).
#[derive(Debug, Clone)]
pub struct Fence {
    /// Index into [`World::brands`].
    pub brand: usize,
    /// Index into [`World::cities`].
    pub city: usize,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Circle radius, metres.
    pub radius_m: f64,
}

/// The generated world.
#[derive(Debug, Clone)]
pub struct World {
    /// The cities.
    pub cities: Vec<City>,
    /// Brand ids.
    pub brands: Vec<String>,
    /// Every fence.
    pub fences: Vec<Fence>,
    /// Fence indices per city, for picking a person's regular stores.
    pub fences_by_city: Vec<Vec<usize>>,
}

/// Moves `(lat, lon)` by `(north_m, east_m)` metres.
pub fn offset(lat: f64, lon: f64, north_m: f64, east_m: f64) -> (f64, f64) {
    let lat2 = lat + north_m / M_PER_DEG;
    let lon2 = lon + east_m / (M_PER_DEG * lat.to_radians().cos());
    (lat2, lon2)
}

/// Great-circle-free distance for short hops (equirectangular), metres.
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let dn = (b.0 - a.0) * M_PER_DEG;
    let de = (b.1 - a.1) * M_PER_DEG * a.0.to_radians().cos();
    (dn * dn + de * de).sqrt()
}

/// A standard normal sample (Box–Muller); rand 0.10 has no distributions without rand_distr.
pub fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The cities: Manhattan around the fixtures' stores, and four others.
pub fn cities(manhattan_stores: Vec<(f64, f64)>, rng: &mut StdRng) -> Vec<City> {
    let mut around = |lat: f64, lon: f64, n: usize, r: f64| -> Vec<(f64, f64)> {
        (0..n)
            .map(|_| offset(lat, lon, normal(rng) * r, normal(rng) * r))
            .collect()
    };
    let manhattan = if manhattan_stores.is_empty() {
        around(40.758, -73.985, 200, 2_500.0)
    } else {
        manhattan_stores
    };
    vec![
        City {
            name: "Manhattan (fixtures)",
            timezone: "America/New_York",
            weight: 0.4,
            centres: manhattan,
            spread_m: 400.0,
        },
        City {
            name: "Chicago",
            timezone: "America/Chicago",
            weight: 0.15,
            centres: around(41.8819, -87.6278, 80, 4_000.0),
            spread_m: 600.0,
        },
        City {
            name: "London",
            timezone: "Europe/London",
            weight: 0.15,
            centres: around(51.5074, -0.1278, 80, 5_000.0),
            spread_m: 600.0,
        },
        City {
            name: "Berlin",
            timezone: "Europe/Berlin",
            weight: 0.15,
            centres: around(52.52, 13.405, 80, 5_000.0),
            spread_m: 600.0,
        },
        City {
            name: "Tokyo",
            timezone: "Asia/Tokyo",
            weight: 0.15,
            centres: around(35.6812, 139.7671, 80, 6_000.0),
            spread_m: 600.0,
        },
    ]
}

/// Picks a city index by weight.
pub fn pick_city(cities: &[City], rng: &mut StdRng) -> usize {
    let mut x: f64 = rng.random::<f64>() * cities.iter().map(|c| c.weight).sum::<f64>();
    for (i, c) in cities.iter().enumerate() {
        x -= c.weight;
        if x <= 0.0 {
            return i;
        }
    }
    cities.len() - 1
}

/// Reads the store points (not the block-away zones) of `fixtures/geofences/*.geojson`.
pub fn fixture_stores(dir: &std::path::Path) -> anyhow::Result<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    for brand in ["chillco", "beanline", "lumen"] {
        let path = dir.join("geofences").join(format!("{brand}.geojson"));
        let fc: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
        for f in fc["features"].as_array().into_iter().flatten() {
            if f["geometry"]["type"] == "Point"
                && !f["properties"]["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "block-away"))
            {
                let c = &f["geometry"]["coordinates"];
                if let (Some(lon), Some(lat)) = (c[0].as_f64(), c[1].as_f64()) {
                    out.push((lat, lon));
                }
            }
        }
    }
    Ok(out)
}

impl World {
    /// Generates `fences` fences spread over `brands` brands, deterministic for a seed.
    pub fn generate(seed: u64, brands: usize, fences: usize, stores: Vec<(f64, f64)>) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let cities = cities(stores, &mut rng);
        let brands: Vec<String> = (0..brands.max(1))
            .map(|i| format!("lt-brand-{i:02}"))
            .collect();
        let mut fences_by_city = vec![Vec::new(); cities.len()];
        let fences = (0..fences)
            .map(|i| {
                let city = pick_city(&cities, &mut rng);
                let c = &cities[city];
                let (clat, clon) = c.centres[rng.random_range(0..c.centres.len())];
                let (lat, lon) = offset(
                    clat,
                    clon,
                    normal(&mut rng) * c.spread_m,
                    normal(&mut rng) * c.spread_m,
                );
                fences_by_city[city].push(i);
                Fence {
                    brand: i % brands.len(),
                    city,
                    lat,
                    lon,
                    radius_m: rng.random_range(25.0..80.0f64).round(),
                }
            })
            .collect();
        Self {
            cities,
            brands,
            fences,
            fences_by_city,
        }
    }

    /// The body of `POST /v1/brands/{brand}/geofences/import` for brand index `b`.
    pub fn import_body(&self, b: usize) -> Value {
        let features: Vec<Value> = self
            .fences
            .iter()
            .enumerate()
            .filter(|(_, f)| f.brand == b)
            .map(|(i, f)| {
                json!({
                    "type": "Feature",
                    "geometry": { "type": "Point",
                                  "coordinates": [round6(f.lon), round6(f.lat)] },
                    "properties": {
                        "name": format!("{} store {i}", self.brands[b]),
                        "radius_m": f.radius_m,
                        "timezone": self.cities[f.city].timezone,
                        "tags": ["store"],
                        "external_id": format!("lt-{i}"),
                        "max_accuracy_m": 150,
                    }
                })
            })
            .collect();
        json!({ "type": "FeatureCollection", "features": features })
    }

    /// The offers of brand index `b`: mostly place-only, some with a wide schedule or a mild
    /// weather gate (recorded weather exists only for Manhattan, so those fire only there).
    pub fn offers(&self, b: usize, now: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
        geoffer::simulate::generated::brand_offers(
            b,
            &(now - chrono::Duration::days(1)).to_rfc3339(),
            &(now + chrono::Duration::days(365)).to_rfc3339(),
            "LT",
        )
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_world() {
        let a = World::generate(7, 4, 500, vec![]);
        let b = World::generate(7, 4, 500, vec![]);
        assert_eq!(a.fences.len(), 500);
        assert_eq!(a.fences[499].lat, b.fences[499].lat);
        let per_city: usize = a.fences_by_city.iter().map(Vec::len).sum();
        assert_eq!(per_city, 500);
    }

    #[test]
    fn an_import_body_holds_exactly_its_brands_fences() {
        let w = World::generate(1, 4, 400, vec![]);
        let body = w.import_body(2);
        let n = body["features"].as_array().unwrap().len();
        assert_eq!(n, w.fences.iter().filter(|f| f.brand == 2).count());
        assert_eq!(n, 100);
    }

    #[test]
    fn offset_moves_by_the_asked_distance() {
        let (lat, lon) = offset(40.75, -73.98, 300.0, 400.0);
        assert!((distance_m((40.75, -73.98), (lat, lon)) - 500.0).abs() < 1.0);
    }
}
