//! Brands' offers: typed targeting, caps, budget, holdout and redemption, validated on write.

pub mod creative;
mod model;
pub mod results;
pub mod summary;
mod targeting;
pub mod validate;

pub use model::*;
pub use targeting::*;
pub use validate::validate_offer;
