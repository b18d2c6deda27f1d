//! Spherical and local-planar helpers shared by circles and areas.

use rstar::AABB;

/// Mean Earth radius (IUGG / GRS80 mean radius R1) in metres, the same value
/// `geo::Haversine` uses.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Metres per degree of latitude on the mean sphere.
pub(crate) const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// Absolute padding added to circle envelopes (~1 cm). The envelope is a
/// prefilter; padding guarantees floating rounding in the envelope maths never
/// drops a point that the exact haversine test would accept.
const ENVELOPE_PAD_DEG: f64 = 1e-7;

/// Great-circle distance in metres on the mean sphere (haversine formula, same
/// operation order as `geo::Haversine` so results agree bit for bit).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let theta1 = lat1.to_radians();
    let theta2 = lat2.to_radians();
    let delta_theta = (lat2 - lat1).to_radians();
    let delta_lambda = (lon2 - lon1).to_radians();
    let a = (delta_theta / 2.0).sin().powi(2)
        + theta1.cos() * theta2.cos() * (delta_lambda / 2.0).sin().powi(2);
    // `min` guards against a > 1 by rounding for (near-)antipodal points.
    EARTH_RADIUS_M * (2.0 * a.sqrt().min(1.0).asin())
}

/// Maps any finite longitude into [-180, 180] (both ends kept as given).
pub(crate) fn normalize_lon(lon: f64) -> f64 {
    if (-180.0..=180.0).contains(&lon) {
        lon
    } else {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    }
}

/// Envelopes (lon/lat degrees) covering a circle: one, or two when the circle
/// crosses the antimeridian (split at ±180 instead of one world-wide box).
/// Returns the boxes and how many of them are used.
pub(crate) fn circle_envelopes(lon: f64, lat: f64, radius_m: f64) -> ([AABB<[f64; 2]>; 2], usize) {
    let delta = radius_m / EARTH_RADIUS_M; // angular radius, radians
    let dlat = delta.to_degrees() * (1.0 + 1e-9) + ENVELOPE_PAD_DEG;
    let full =
        |lo: f64, hi: f64| AABB::from_corners([-180.0, lo.max(-90.0)], [180.0, hi.min(90.0)]);
    let none = AABB::from_point([0.0, 0.0]);
    // The cap contains a pole: every longitude is reachable.
    if lat + dlat >= 90.0 || lat - dlat <= -90.0 {
        return ([full(lat - dlat, lat + dlat), none], 1);
    }
    // Widest longitude extent of a spherical cap that contains no pole: the
    // tangent meridians at asin(sin δ / cos φ). Grows like 1/cos φ.
    let ratio = delta.sin() / lat.to_radians().cos();
    if ratio >= 1.0 {
        return ([full(lat - dlat, lat + dlat), none], 1);
    }
    let dlon = ratio.asin().to_degrees() * (1.0 + 1e-9) + ENVELOPE_PAD_DEG;
    if dlon >= 180.0 {
        return ([full(lat - dlat, lat + dlat), none], 1);
    }
    let (lo, hi) = (lon - dlon, lon + dlon);
    let lat_lo = lat - dlat;
    let lat_hi = lat + dlat;
    let b = |x0: f64, x1: f64| AABB::from_corners([x0, lat_lo], [x1, lat_hi]);
    if lo < -180.0 {
        ([b(-180.0, hi), b(lo + 360.0, 180.0)], 2)
    } else if hi > 180.0 {
        ([b(lo, 180.0), b(-180.0, hi - 360.0)], 2)
    } else {
        ([b(lo, hi), none], 1)
    }
}

/// Local equirectangular frame centred on a query point: maps lon/lat degrees
/// to metres east/north. Accurate at fence scale (km), which is all edge
/// distances need.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LocalFrame {
    origin: [f64; 2],
    kx: f64,
}

impl LocalFrame {
    /// Frame at `origin` (lon, lat); `lat_for_scale` sets the east-west scale
    /// (the real latitude of the point, even when `origin` is shifted by 360°).
    pub(crate) fn new(origin: [f64; 2], lat_for_scale: f64) -> Self {
        Self {
            origin,
            kx: M_PER_DEG * lat_for_scale.to_radians().cos(),
        }
    }

    /// Metres per degree of longitude at the frame's latitude.
    pub(crate) fn kx(&self) -> f64 {
        self.kx
    }

    fn project(&self, c: [f64; 2]) -> [f64; 2] {
        [
            (c[0] - self.origin[0]) * self.kx,
            (c[1] - self.origin[1]) * M_PER_DEG,
        ]
    }

    /// Squared metres from the origin to segment a-b (callers take one sqrt
    /// of the minimum instead of one `hypot` per edge).
    pub(crate) fn segment_distance2_m(&self, a: [f64; 2], b: [f64; 2]) -> f64 {
        segment_distance2_from_origin(self.project(a), self.project(b))
    }

    /// Lower bound of the metres from the origin to anything inside `env`.
    pub(crate) fn envelope_distance_m(&self, env: &AABB<[f64; 2]>) -> f64 {
        let (lo, hi) = (env.lower(), env.upper());
        let dx = (lo[0] - self.origin[0])
            .max(self.origin[0] - hi[0])
            .max(0.0)
            * self.kx;
        let dy = (lo[1] - self.origin[1])
            .max(self.origin[1] - hi[1])
            .max(0.0)
            * M_PER_DEG;
        dx.hypot(dy)
    }
}

/// Squared Euclidean distance from (0,0) to segment a-b (planar).
#[inline]
fn segment_distance2_from_origin(a: [f64; 2], b: [f64; 2]) -> f64 {
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    let t = if len2 > 0.0 {
        (-(a[0] * d[0] + a[1] * d[1]) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a[0] + t * d[0], a[1] + t * d[1]);
    x * x + y * y
}

/// Squared planar distance (degrees²) from `p` to segment a-b; the metric the
/// prepared edge tree uses for nearest-edge search.
pub(crate) fn segment_distance2_deg(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    segment_distance2_from_origin([a[0] - p[0], a[1] - p[1]], [b[0] - p[0], b[1] - p[1]])
}
