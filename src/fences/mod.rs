//! Brands' geofences: the GeoJSON they send, its validation, the stored model and the index.

mod feature;
mod geometry;
pub mod index;
mod model;

pub use feature::{FeatureInput, FencePropertiesInput, GeometryInput, parse_feature};
pub use geometry::FenceGeometry;
pub use model::{Fence, FenceDraft, FenceFeature, FenceProperties};
