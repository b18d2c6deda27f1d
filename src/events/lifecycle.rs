//! A delivery's life: delivered → opened → redeemed | dismissed; codes expire.

use chrono::{DateTime, Utc};

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Status {
    Delivered,
    Opened,
    Redeemed,
    Dismissed,
}

impl Status {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Opened => "opened",
            Status::Redeemed => "redeemed",
            Status::Dismissed => "dismissed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::Delivered,
            Status::Opened,
            Status::Redeemed,
            Status::Dismissed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What a transition needs to know about the delivery.
#[derive(Debug, Clone)]
pub struct DeliveryState {
    /// Whose it is.
    pub person: String,
    /// Current status.
    pub status: Status,
    /// The code that was shown.
    pub redemption_code: Option<String>,
    /// When the code stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The status after `event` (one of the offer_* kinds) by `person` at `at`, or why it makes
/// no sense (answered 409). `Ok(None)` means "valid, but changes nothing" (opening twice).
pub fn transition(
    d: &DeliveryState,
    person: &str,
    to: Status,
    code: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Option<Status>, String> {
    if d.person != person {
        return Err("this delivery was not sent to this user".into());
    }
    use Status::*;
    match (d.status, to) {
        (Redeemed, Redeemed) => Err("this offer was already redeemed".into()),
        (Redeemed, _) => {
            Err("this offer was already redeemed; it can no longer be opened or dismissed".into())
        }
        (Dismissed, Opened) | (Opened, Opened) | (Dismissed, Dismissed) => Ok(None),
        (_, Redeemed) => {
            if d.expires_at.is_some_and(|e| at > e) {
                return Err(format!(
                    "the code expired at {}",
                    d.expires_at.map(|e| e.to_rfc3339()).unwrap_or_default()
                ));
            }
            if let (Some(given), Some(real)) = (code, d.redemption_code.as_deref())
                && given != real
            {
                return Err("the redemption code does not belong to this delivery".into());
            }
            Ok(Some(Redeemed))
        }
        (_, to) => Ok(Some(to)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(status: Status) -> DeliveryState {
        DeliveryState {
            person: "p".into(),
            status,
            redemption_code: Some("C-1".into()),
            expires_at: Some("2026-07-14T23:00:00Z".parse().unwrap()),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_happy_path_is_delivered_opened_redeemed() {
        let t = at("2026-07-14T20:00:00Z");
        assert_eq!(
            transition(&d(Status::Delivered), "p", Status::Opened, None, t),
            Ok(Some(Status::Opened))
        );
        assert_eq!(
            transition(&d(Status::Opened), "p", Status::Redeemed, Some("C-1"), t),
            Ok(Some(Status::Redeemed))
        );
    }

    #[test]
    fn nonsense_transitions_are_refused() {
        let t = at("2026-07-14T20:00:00Z");
        assert!(
            transition(
                &d(Status::Delivered),
                "someone-else",
                Status::Opened,
                None,
                t
            )
            .is_err()
        );
        assert!(transition(&d(Status::Redeemed), "p", Status::Redeemed, None, t).is_err());
        assert!(transition(&d(Status::Opened), "p", Status::Redeemed, Some("C-2"), t).is_err());
        assert!(
            transition(
                &d(Status::Opened),
                "p",
                Status::Redeemed,
                None,
                at("2026-07-15T00:00:00Z")
            )
            .is_err()
        );
    }

    #[test]
    fn opening_twice_changes_nothing() {
        assert_eq!(
            transition(
                &d(Status::Opened),
                "p",
                Status::Opened,
                None,
                at("2026-07-14T20:00:00Z")
            ),
            Ok(None)
        );
    }
}
