//! Typed domain values, validated once at the edge. Inside the service the types carry the proof.

mod brand_id;
mod coordinates;
mod measures;
mod motion;
mod report;
pub mod schemas;
mod tag;
mod timezone;
mod weather_log;
pub mod whole;

pub use brand_id::BrandId;
pub use coordinates::{Latitude, Longitude};
pub use measures::{AccuracyM, RadiusM};
pub use motion::{Activity, AppState};
pub use report::{ReportedAccuracyM, SpeedMps};
pub use tag::check_tag;
pub use timezone::Timezone;
pub use weather_log::WeatherLogEntry;
