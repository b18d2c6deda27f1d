//! How far apart two fences are at least: each fence's covering circle (its reach), and the
//! gap between two of them on the sphere. The plausibility check divides this gap by the time
//! between two check-ins, so it must never overstate the distance (docs/decisions.md, 4a).

use super::Shape;
use super::geodesy::{haversine_m, normalize_lon};

/// Slack on a polygon's covering radius: its edges are straight in lon/lat degrees, not great
/// circles, so they may bow slightly outside the circle through its farthest vertex.
const AREA_PAD: f64 = 1.01;
const AREA_PAD_M: f64 = 10.0;

/// A circle covering a whole fence: centre (degrees) and radius (metres).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reach {
    /// Centre latitude.
    pub lat: f64,
    /// Centre longitude, in [-180, 180].
    pub lon: f64,
    /// Every point of the fence is at most this far from the centre.
    pub radius_m: f64,
}

impl Reach {
    /// The covering circle of a shape: a circle itself, or for polygons the circle around
    /// their bounding box's centre through their farthest vertex (with slack). A polygon cut
    /// at the antimeridian gets a circle as wide as its box, which only errs on the short side.
    pub fn of(shape: &Shape) -> Self {
        match shape {
            Shape::Circle { lon, lat, radius_m } => Self {
                lat: *lat,
                lon: normalize_lon(*lon),
                radius_m: *radius_m,
            },
            Shape::Area(mp) => {
                let points = || {
                    mp.0.iter()
                        .flat_map(|p| p.exterior().coords())
                        .map(|c| (c.y, c.x))
                };
                let (mut lo, mut hi) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
                for (lat, lon) in points() {
                    lo = (lo.0.min(lat), lo.1.min(lon));
                    hi = (hi.0.max(lat), hi.1.max(lon));
                }
                if lo.0 > hi.0 {
                    // No vertex (the index refuses such a fence): no claim about where it is.
                    return Self {
                        lat: 0.0,
                        lon: 0.0,
                        radius_m: f64::INFINITY,
                    };
                }
                let (lat, lon) = ((lo.0 + hi.0) / 2.0, (lo.1 + hi.1) / 2.0);
                let far = points()
                    .map(|(a, b)| haversine_m(lat, lon, a, b))
                    .fold(0.0, f64::max);
                Self {
                    lat,
                    lon,
                    radius_m: far * AREA_PAD + AREA_PAD_M,
                }
            }
        }
    }

    /// The least distance between a point of one fence and a point of the other, as far as
    /// their covering circles tell: 0 when they overlap, never more than the true gap.
    pub fn gap_m(&self, other: &Reach) -> f64 {
        let centres = haversine_m(self.lat, self.lon, other.lat, other.lon);
        (centres - self.radius_m - other.radius_m).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, MultiPolygon, Polygon};

    fn circle(lat: f64, lon: f64, radius_m: f64) -> Reach {
        Reach::of(&Shape::Circle { lon, lat, radius_m })
    }

    #[test]
    fn two_circles_are_apart_by_their_centres_less_their_radii() {
        let a = circle(40.7484, -73.9857, 120.0);
        let b = circle(40.7484, -73.9757, 80.0);
        let centres = haversine_m(40.7484, -73.9857, 40.7484, -73.9757);
        assert!((a.gap_m(&b) - (centres - 200.0)).abs() < 1e-6);
        assert_eq!(a.gap_m(&a), 0.0);
        assert_eq!(a.gap_m(&circle(40.7485, -73.9857, 50.0)), 0.0, "overlap");
    }

    #[test]
    fn a_polygon_is_covered_by_its_reach() {
        let ring = vec![
            (-73.99, 40.75),
            (-73.98, 40.75),
            (-73.98, 40.76),
            (-73.99, 40.76),
            (-73.99, 40.75),
        ];
        let square = MultiPolygon::new(vec![Polygon::new(LineString::from(ring.clone()), vec![])]);
        let r = Reach::of(&Shape::Area(square));
        for (lon, lat) in ring {
            assert!(haversine_m(r.lat, r.lon, lat, lon) < r.radius_m);
        }
        // The gap to a circle 900 km away is about 900 km, and never more.
        let far = circle(45.5017, -73.5673, 100.0); // Montreal, ~530 km
        let centres = haversine_m(r.lat, r.lon, 45.5017, -73.5673);
        assert!(r.gap_m(&far) < centres && r.gap_m(&far) > centres - 2_000.0);
    }
}
