//! The simulated city's map: where the fences of the fixtures are, read from their GeoJSON
//! (centre, radius, tags, brand), so people can be given homes, workplaces and favourite
//! stores around them. The fences themselves go into the engine through the demo's loader
//! (`demo::load`, the catalog service), not from here.

use anyhow::Context;
use chrono_tz::Tz;
use serde_json::Value;
use std::path::Path;

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;

/// One fence of the map.
#[derive(Debug, Clone)]
pub struct MapFence {
    /// Its brand.
    pub brand: String,
    /// Tags offers target.
    pub tags: Vec<String>,
    /// Centre (a circle's centre, a polygon's vertex mean).
    pub lat: f64,
    /// Centre.
    pub lon: f64,
    /// How far from the centre a point is still well inside, metres.
    pub inner_m: f64,
}

/// The city: its fences, time zone and extent.
#[derive(Debug, Clone)]
pub struct CityMap {
    /// Every fence, in file order (brands as in `brands.json`).
    pub fences: Vec<MapFence>,
    /// The fences' time zone (the first fence's).
    pub timezone: Tz,
    /// South-west corner (lat, lon).
    pub min: (f64, f64),
    /// North-east corner (lat, lon).
    pub max: (f64, f64),
}

impl CityMap {
    /// Reads `brands.json` and `geofences/<brand>.geojson` under `dir`.
    pub fn from_fixtures(dir: &Path) -> anyhow::Result<Self> {
        let brands: Value = read(&dir.join("brands.json"))?;
        let mut fences = Vec::new();
        let mut timezone = None;
        for b in brands.as_array().context("brands.json: an array")? {
            let brand = b["id"].as_str().context("brands.json: id")?.to_string();
            let fc = read(&dir.join("geofences").join(format!("{brand}.geojson")))?;
            for f in fc["features"].as_array().context("features")? {
                let props = &f["properties"];
                if timezone.is_none() {
                    timezone = props["timezone"].as_str().and_then(|t| t.parse().ok());
                }
                let tags = props["tags"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let Some((lat, lon, inner_m)) = centre(&f["geometry"], props) else {
                    continue;
                };
                fences.push(MapFence {
                    brand: brand.clone(),
                    tags,
                    lat,
                    lon,
                    inner_m,
                });
            }
        }
        anyhow::ensure!(!fences.is_empty(), "no fences under {}", dir.display());
        let lat = |f: &MapFence| f.lat;
        let lon = |f: &MapFence| f.lon;
        let min = (
            fences.iter().map(lat).fold(f64::MAX, f64::min),
            fences.iter().map(lon).fold(f64::MAX, f64::min),
        );
        let max = (
            fences.iter().map(lat).fold(f64::MIN, f64::max),
            fences.iter().map(lon).fold(f64::MIN, f64::max),
        );
        Ok(Self {
            fences,
            timezone: timezone.unwrap_or(Tz::UTC),
            min,
            max,
        })
    }

    /// Indices of the fences with any of `tags`.
    pub fn tagged(&self, tags: &[&str]) -> Vec<usize> {
        (0..self.fences.len())
            .filter(|i| self.fences[*i].tags.iter().any(|t| tags.contains(&&**t)))
            .collect()
    }
}

/// Moves `(lat, lon)` by `(north_m, east_m)` metres.
pub fn offset(lat: f64, lon: f64, north_m: f64, east_m: f64) -> (f64, f64) {
    (
        lat + north_m / M_PER_DEG,
        lon + east_m / (M_PER_DEG * lat.to_radians().cos()),
    )
}

/// A fence's centre and how far from it a point is well inside.
fn centre(geometry: &Value, props: &Value) -> Option<(f64, f64, f64)> {
    match geometry["type"].as_str()? {
        "Point" => {
            let c = geometry["coordinates"].as_array()?;
            let radius = props["radius_m"].as_f64().unwrap_or(30.0);
            Some((c[1].as_f64()?, c[0].as_f64()?, radius * 0.5))
        }
        "Polygon" => {
            let ring = geometry["coordinates"].as_array()?.first()?.as_array()?;
            // The closing vertex repeats the first.
            let pts: Vec<(f64, f64)> = ring
                .iter()
                .take(ring.len().saturating_sub(1))
                .filter_map(|p| Some((p[1].as_f64()?, p[0].as_f64()?)))
                .collect();
            if pts.is_empty() {
                return None;
            }
            let n = pts.len() as f64;
            Some((
                pts.iter().map(|p| p.0).sum::<f64>() / n,
                pts.iter().map(|p| p.1).sum::<f64>() / n,
                10.0,
            ))
        }
        _ => None,
    }
}

fn read(path: &Path) -> anyhow::Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}
