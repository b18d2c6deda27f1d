//! Consent: opt-in first. Without location consent nothing about a person is processed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an app sends.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// May geoffer process this person's location (check-ins)?
    pub location: bool,
    /// May geoffer learn and use habits, follows, interests and purchases?
    pub personalization: bool,
}

/// A person's consent as stored.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Consent {
    /// The app's user id.
    pub user_id: String,
    /// Location processing allowed.
    pub location: bool,
    /// Personalization allowed.
    pub personalization: bool,
    /// Last change; absent when the person never answered (everything is off).
    pub updated_at: Option<DateTime<Utc>>,
}

impl Consent {
    /// The state of someone who never answered: nothing allowed.
    pub fn none(user_id: &str) -> Self {
        Self {
            user_id: user_id.to_string(),
            location: false,
            personalization: false,
            updated_at: None,
        }
    }
}
