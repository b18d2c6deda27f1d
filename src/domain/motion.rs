//! How the phone says it is moving, and whether the app was in front: reported with a
//! check-in, read by the motion rules, kept in the decision's trace.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the phone says it is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Activity {
    Still,
    Walking,
    Running,
    Cycling,
    Automotive,
    Unknown,
}

/// Whether the app was in the foreground.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum AppState {
    Foreground,
    Background,
}

impl Activity {
    /// The name the API and traces use (`walking`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Still => "still",
            Self::Walking => "walking",
            Self::Running => "running",
            Self::Cycling => "cycling",
            Self::Automotive => "automotive",
            Self::Unknown => "unknown",
        }
    }
}
