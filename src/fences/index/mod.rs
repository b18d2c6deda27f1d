//! In-memory geofence index used on the check-in path.
//!
//! * [`FenceIndex`] is an immutable, bulk-loaded snapshot (R-tree of fence
//!   envelopes over compact records) answering "which fences contain this
//!   point, given this GPS accuracy?".
//! * [`LiveIndex`] wraps a snapshot for the running service: readers never
//!   block (arc-swap), single edits go to a small delta overlay that is merged
//!   into a new base in the background once it grows.
//!
//! Matching rules, antimeridian/pole handling and the design rationale are
//! described in `docs/geofences.md`.

mod antimeridian;
mod area;
mod compiled;
mod crossing;
mod geodesy;
mod live;
mod live_merge;
mod reach;
mod snapshot;
#[cfg(test)]
mod tests;

pub use antimeridian::cut_at_antimeridian;
pub use geodesy::{EARTH_RADIUS_M, haversine_m};
pub use live::{LiveConfig, LiveIndex};
pub use reach::Reach;
pub use snapshot::FenceIndex;

use std::fmt;

/// A fence shape in WGS84 degrees (GeoJSON order: lon, lat).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Great-circle disc: every point whose haversine distance to the centre is
    /// at most `radius_m` metres.
    Circle {
        /// Centre longitude in degrees (any finite value; normalised to [-180, 180]).
        lon: f64,
        /// Centre latitude in degrees, [-90, 90].
        lat: f64,
        /// Radius in metres, > 0. Stored as `f32` (rounding <= 4 mm at 50 km).
        radius_m: f64,
    },
    /// Planar (lon/lat degrees) polygons with holes, like GeoJSON / PostGIS
    /// `geometry`. Longitudes must lie in [-180, 180]; a polygon crossing the
    /// antimeridian must be cut at ±180 into a MultiPolygon (RFC 7946
    /// §3.1.9, see [`cut_at_antimeridian`]).
    Area(geo::MultiPolygon<f64>),
}

/// A fence as handed to the index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedFence {
    /// Fence id; unique within an index (the last one wins on duplicates).
    pub id: uuid::Uuid,
    /// Check-ins whose reported accuracy radius is larger than this never match.
    pub max_accuracy_m: f32,
    /// Geometry of the fence.
    pub shape: Shape,
}

/// One fence containing the queried point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FenceMatch {
    /// Id of the matching fence.
    pub id: uuid::Uuid,
    /// Metres to the fence's edge, positive inside (0 on the boundary). Matches
    /// are always inside, so this is never negative.
    pub edge_distance_m: f64,
    /// Circles only: metres to the centre.
    pub center_distance_m: Option<f64>,
}

/// Why a fence was rejected by [`IndexedFence::validate`].
#[derive(Debug, Clone, PartialEq)]
pub enum InvalidFence {
    /// Circle centre or radius is not finite / out of range.
    BadCircle,
    /// `max_accuracy_m` is NaN or negative.
    BadAccuracy,
    /// MultiPolygon without any polygon.
    EmptyArea,
    /// A ring has fewer than 3 vertices (4 coordinates with the closing one).
    DegenerateRing,
    /// A coordinate is not finite, or outside lon [-180, 180] / lat [-90, 90]
    /// (antimeridian-crossing polygons must be cut, see [`cut_at_antimeridian`]).
    CoordinateOutOfRange,
    /// More vertices than the index can address.
    TooManyVertices,
}

impl fmt::Display for InvalidFence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::BadCircle => "circle centre/radius not finite or out of range",
            Self::BadAccuracy => "max_accuracy_m must be a non-negative number",
            Self::EmptyArea => "area has no polygon",
            Self::DegenerateRing => "polygon ring has fewer than 3 vertices",
            Self::CoordinateOutOfRange => {
                "coordinate outside lon [-180,180] / lat [-90,90] (cut antimeridian polygons)"
            }
            Self::TooManyVertices => "too many vertices",
        };
        f.write_str(msg)
    }
}

impl std::error::Error for InvalidFence {}

impl IndexedFence {
    /// Checks the fence against the index's input rules. [`FenceIndex::build`]
    /// silently drops fences that fail this, so validate at the API edge.
    pub fn validate(&self) -> Result<(), InvalidFence> {
        if self.max_accuracy_m.is_nan() || self.max_accuracy_m < 0.0 {
            return Err(InvalidFence::BadAccuracy);
        }
        match &self.shape {
            Shape::Circle { lon, lat, radius_m } => {
                let ok = lon.is_finite()
                    && (-90.0..=90.0).contains(lat)
                    && radius_m.is_finite()
                    && *radius_m > 0.0
                    // Half the Earth's circumference: beyond that the disc is the globe.
                    && *radius_m <= 20_000_000.0;
                if ok {
                    Ok(())
                } else {
                    Err(InvalidFence::BadCircle)
                }
            }
            Shape::Area(mp) => area::validate(mp),
        }
    }
}
