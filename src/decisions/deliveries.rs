//! Deliveries as support reads them: every offer sent to a device, newest first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;
use uuid::Uuid;

/// The statuses a delivery moves through (feedback events change it).
pub const STATUSES: [&str; 5] = ["delivered", "opened", "redeemed", "dismissed", "expired"];

/// One offer sent to a device, with the copy exactly as shown.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Delivery {
    /// Delivery id (the app uses it in feedback events).
    pub id: Uuid,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// The app whose user received it.
    pub app: String,
    /// The app's user id.
    pub user_id: String,
    /// The device that reported the check-in.
    pub device_id: Option<String>,
    /// The offer's brand.
    pub brand: String,
    /// The offer.
    pub offer_id: Uuid,
    /// The fence that triggered it.
    pub fence_id: Uuid,
    /// The check-in it answered (`GET /v1/decisions/{checkin_id}` explains it).
    pub checkin_id: String,
    /// Title exactly as shown.
    pub title: String,
    /// Body exactly as shown.
    pub body: String,
    /// Redemption code, if the offer has one.
    pub redemption_code: Option<String>,
    /// When the code stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// delivered, opened, redeemed, dismissed or expired.
    pub status: String,
}

/// Which deliveries to read. Every field narrows; none set means all.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// One person (pseudonymous token of app and user id).
    pub person: Option<String>,
    /// One brand.
    pub brand: Option<String>,
    /// One offer.
    pub offer_id: Option<Uuid>,
    /// One fence.
    pub fence_id: Option<Uuid>,
    /// One status.
    pub status: Option<String>,
    /// Sent at or after.
    pub from: Option<DateTime<Utc>>,
    /// Sent before.
    pub to: Option<DateTime<Utc>>,
}

/// The keyset position of a delivery in newest-first order: (created_at, id), both descending.
/// A page that starts after a key neither repeats nor skips rows while newer ones arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryKey {
    /// `created_at` in Unix milliseconds (the stored precision).
    pub created_at_ms: i64,
    /// The delivery id, the tie-breaker within one millisecond.
    pub id: Uuid,
}

impl DeliveryKey {
    /// The key of a delivery.
    pub fn of(d: &Delivery) -> Self {
        Self {
            created_at_ms: d.created_at.timestamp_millis(),
            id: d.id,
        }
    }
}

impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.created_at_ms, self.id)
    }
}

impl FromStr for DeliveryKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ms, id) = s.split_once('.').ok_or("no separator")?;
        Ok(Self {
            created_at_ms: ms.parse().map_err(|_| "bad time")?,
            id: Uuid::parse_str(id).map_err(|_| "bad id")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_key_round_trips_through_its_text() {
        let key = DeliveryKey {
            created_at_ms: 1_784_055_600_000,
            id: Uuid::new_v4(),
        };
        assert_eq!(key.to_string().parse::<DeliveryKey>(), Ok(key));
        assert!("17840".parse::<DeliveryKey>().is_err());
    }
}
