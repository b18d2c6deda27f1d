//! WGS84 latitude and longitude in degrees.

use std::fmt;

/// Latitude in degrees, finite and within −90..=90.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Latitude(f64);

/// Longitude in degrees, finite and within −180..=180.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Longitude(f64);

impl Latitude {
    /// Validates a latitude.
    pub fn parse(v: f64) -> Result<Self, String> {
        if v.is_finite() && (-90.0..=90.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!(
                "latitude must be a finite number within -90..=90, got {v}"
            ))
        }
    }
    /// Degrees.
    pub fn degrees(self) -> f64 {
        self.0
    }
}

impl Longitude {
    /// Validates a longitude.
    pub fn parse(v: f64) -> Result<Self, String> {
        if v.is_finite() && (-180.0..=180.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!(
                "longitude must be a finite number within -180..=180, got {v}"
            ))
        }
    }
    /// Degrees.
    pub fn degrees(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Latitude {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Longitude {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_nan_infinity_and_out_of_range() {
        for bad in [f64::NAN, f64::INFINITY, 90.000001, -91.0] {
            assert!(Latitude::parse(bad).is_err());
        }
        for bad in [f64::NEG_INFINITY, 180.5, -180.000001] {
            assert!(Longitude::parse(bad).is_err());
        }
    }

    proptest! {
        #[test]
        fn in_range_values_round_trip(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            prop_assert_eq!(Latitude::parse(lat).unwrap().degrees(), lat);
            prop_assert_eq!(Longitude::parse(lon).unwrap().degrees(), lon);
        }

        #[test]
        fn out_of_range_latitudes_never_parse(lat in 90.0f64..1e9) {
            prop_assume!(lat > 90.0);
            prop_assert!(Latitude::parse(lat).is_err());
            prop_assert!(Latitude::parse(-lat).is_err());
        }
    }
}
