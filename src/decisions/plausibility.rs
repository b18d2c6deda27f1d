//! Why a report was judged implausible (reason `implausible-location`), as a type: which
//! check failed and the numbers it compared. Support reads the sentence made from it
//! (`Display`); traces recorded before the check existed have none and still read.

use super::outcome::plain_number;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// The plausibility check that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "kebab-case")]
pub enum Implausible {
    /// The app's SDK marked the location as mocked (`is_mocked: true`).
    Mocked,
    /// Too fast from the person's own last check-in inside a fence.
    Speed(Jump),
    /// The same device reported, shortly before, for another user too far away for one phone
    /// to have travelled (that user's fence is not named).
    SharedDevice(Jump),
}

/// A move between two check-ins inside fences, at least as far and as fast as stated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jump {
    /// The fence of the earlier check-in, when it was the same person's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_fence: Option<Uuid>,
    /// The least distance between the two fences (their covering circles), less the report's
    /// accuracy, in metres.
    pub distance_m: f64,
    /// Seconds between the two reports' `recorded_at`.
    pub elapsed_s: f64,
    /// The fastest plausible speed, km/h (`max_plausible_speed_kmh`).
    pub limit_kmh: f64,
}

impl Jump {
    /// The speed the move implies, km/h (infinite for any distance at the same instant).
    pub fn speed_kmh(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.distance_m / self.elapsed_s * 3.6
        } else if self.distance_m > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }

    /// Faster than the limit?
    pub fn too_fast(&self) -> bool {
        self.speed_kmh() > self.limit_kmh
    }
}

impl Implausible {
    /// The check's name, as in metrics (`implausible_checkins_total{check}`) and traces.
    pub fn check(&self) -> &'static str {
        match self {
            Self::Mocked => "mocked",
            Self::Speed(_) => "speed",
            Self::SharedDevice(_) => "shared-device",
        }
    }
}

fn distance(m: f64) -> String {
    if m >= 1_000.0 {
        format!("{} km", plain_number((m / 100.0).round() / 10.0))
    } else {
        format!("{} m", m.round())
    }
}

fn elapsed(s: f64) -> String {
    if s < 120.0 {
        format!("{} s", s.round())
    } else if s < 7_200.0 {
        format!("{} min", (s / 60.0).round())
    } else {
        format!("{} h", plain_number((s / 360.0).round() / 10.0))
    }
}

fn speed(j: &Jump) -> String {
    let v = j.speed_kmh();
    let v = if v.is_finite() {
        format!("{} km/h", v.round())
    } else {
        "no time at all".into()
    };
    format!("{v}, above the {} km/h limit", plain_number(j.limit_kmh))
}

impl fmt::Display for Implausible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mocked => f.write_str("the app reported the location as mocked"),
            Self::Speed(j) => write!(
                f,
                "{} from the person's check-in inside a fence {} earlier ({})",
                distance(j.distance_m),
                elapsed(j.elapsed_s),
                speed(j)
            ),
            Self::SharedDevice(j) => write!(
                f,
                "the same device reported for another user {} away {} earlier ({})",
                distance(j.distance_m),
                elapsed(j.elapsed_s),
                speed(j)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_reads_back_and_says_how_fast_it_was() {
        let j = Implausible::Speed(Jump {
            from_fence: Some(Uuid::nil()),
            distance_m: 900_000.0,
            elapsed_s: 600.0,
            limit_kmh: 300.0,
        });
        let v = serde_json::to_value(&j).unwrap();
        assert_eq!(v["check"], "speed");
        assert_eq!(serde_json::from_value::<Implausible>(v).unwrap(), j);
        assert_eq!(
            j.to_string(),
            "900 km from the person's check-in inside a fence 10 min earlier \
             (5400 km/h, above the 300 km/h limit)"
        );
        let mocked = serde_json::to_value(Implausible::Mocked).unwrap();
        assert_eq!(mocked, serde_json::json!({"check": "mocked"}));
    }

    #[test]
    fn any_distance_at_the_same_instant_is_too_fast_and_none_is_not() {
        let at_once = |distance_m| Jump {
            from_fence: None,
            distance_m,
            elapsed_s: 0.0,
            limit_kmh: 300.0,
        };
        assert!(at_once(1.0).too_fast());
        assert!(!at_once(0.0).too_fast());
    }
}
