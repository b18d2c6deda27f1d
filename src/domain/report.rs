//! What a phone reports beside its position: how accurate the fix is and how fast it moves.

/// A reported horizontal accuracy: above 0 and at most 5 km.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct ReportedAccuracyM(f64);

impl ReportedAccuracyM {
    /// Validates a reported accuracy.
    pub fn parse(v: f64) -> Result<Self, String> {
        if v.is_finite() && v > 0.0 && v <= 5_000.0 {
            Ok(Self(v))
        } else {
            Err(format!(
                "accuracy_m must be above 0 and at most 5000 metres, got {v}"
            ))
        }
    }
    /// Metres.
    pub fn metres(self) -> f64 {
        self.0
    }
}

/// A reported speed over ground: 0–150 m/s.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct SpeedMps(f64);

impl SpeedMps {
    /// Validates a reported speed.
    pub fn parse(v: f64) -> Result<Self, String> {
        if v.is_finite() && (0.0..=150.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!("speed_mps must be between 0 and 150, got {v}"))
        }
    }
    /// Metres per second.
    pub fn mps(self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_speed_keep_their_ranges() {
        assert!(ReportedAccuracyM::parse(0.0).is_err());
        assert!(ReportedAccuracyM::parse(5_000.0).is_ok());
        assert!(ReportedAccuracyM::parse(f64::NAN).is_err());
        assert!(SpeedMps::parse(-1.0).is_err());
        assert!(SpeedMps::parse(150.0).is_ok());
    }
}
