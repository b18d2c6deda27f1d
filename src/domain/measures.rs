//! Distances in metres with the ranges the product allows.

/// A circle fence's radius: 10 m – 50 km.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct RadiusM(f64);

impl RadiusM {
    /// Smallest radius: below this, phone accuracy makes matching a coin toss.
    pub const MIN: f64 = 10.0;
    /// Largest radius: beyond this a "place" is a region, not a moment.
    pub const MAX: f64 = 50_000.0;

    /// Validates a radius.
    pub fn parse(v: f64) -> Result<Self, String> {
        if v.is_finite() && (Self::MIN..=Self::MAX).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!(
                "radius_m must be between 10 and 50000 metres, got {v}"
            ))
        }
    }
    /// Metres.
    pub fn metres(self) -> f64 {
        self.0
    }
}

/// A fence's accuracy gate: the worst reported accuracy it accepts, 5 m – 5 km.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct AccuracyM(f64);

impl AccuracyM {
    /// Default gate when a fence names none.
    pub const DEFAULT: f64 = 100.0;

    /// Validates a fence's `max_accuracy_m`.
    pub fn parse(v: f64) -> Result<Self, String> {
        if v.is_finite() && (5.0..=5_000.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!(
                "max_accuracy_m must be between 5 and 5000 metres, got {v}"
            ))
        }
    }
    /// Metres.
    pub fn metres(self) -> f64 {
        self.0
    }
}

impl Default for AccuracyM {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn radius_bounds_are_inclusive() {
        assert!(RadiusM::parse(10.0).is_ok());
        assert!(RadiusM::parse(50_000.0).is_ok());
        assert!(RadiusM::parse(9.99).is_err());
        assert!(RadiusM::parse(50_000.1).is_err());
        assert!(RadiusM::parse(f64::NAN).is_err());
    }

    proptest! {
        #[test]
        fn accuracy_gate_accepts_exactly_its_range(v in -1e4f64..1e4) {
            prop_assert_eq!(AccuracyM::parse(v).is_ok(), (5.0..=5000.0).contains(&v));
        }
    }
}
