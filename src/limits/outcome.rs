//! What a claim answers: granted, or denied by a named cap with the facts support needs.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A cap that can refuse a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cap {
    /// Deliveries per person per rolling day, all brands.
    PersonDay,
    /// Deliveries per person per rolling week, all brands.
    PersonWeek,
    /// Deliveries per person per brand.
    PersonBrand,
    /// Deliveries per person per offer.
    PersonOffer,
    /// Deliveries per person per geofence.
    PersonFence,
    /// The person dismissed this brand recently.
    BrandCooldown,
    /// The offer's total budget is spent.
    BudgetTotal,
    /// The offer's budget for this UTC day is spent.
    BudgetDaily,
    /// This check-in already produced a delivery (one grant per check-in).
    CheckinAlreadyServed,
    /// The grant was released: the check-in's id belongs to another report (409).
    CheckinIdReused,
}

impl Cap {
    /// Every cap, in the order a claim checks them.
    pub const ALL: [Cap; 10] = [
        Cap::CheckinAlreadyServed,
        Cap::BrandCooldown,
        Cap::PersonDay,
        Cap::PersonWeek,
        Cap::PersonBrand,
        Cap::PersonOffer,
        Cap::PersonFence,
        Cap::BudgetTotal,
        Cap::BudgetDaily,
        Cap::CheckinIdReused,
    ];

    /// Stable kebab-case name, used in decision traces, metrics and the Redis script.
    pub fn as_str(&self) -> &'static str {
        match self {
            Cap::PersonDay => "person-day",
            Cap::PersonWeek => "person-week",
            Cap::PersonBrand => "person-brand",
            Cap::PersonOffer => "person-offer",
            Cap::PersonFence => "person-fence",
            Cap::BrandCooldown => "brand-cooldown",
            Cap::BudgetTotal => "budget-total",
            Cap::BudgetDaily => "budget-daily",
            Cap::CheckinAlreadyServed => "checkin-already-served",
            Cap::CheckinIdReused => "checkin-id-reused",
        }
    }

    /// The cap named `name` (the inverse of [`Cap::as_str`]).
    pub fn parse(name: &str) -> Option<Cap> {
        Cap::ALL.into_iter().find(|cap| cap.as_str() == name)
    }
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum ClaimOutcome {
    /// The delivery may go out; every cap and the budget now count it.
    Granted {
        /// When the grant was recorded (the store's clock).
        at: DateTime<Utc>,
        /// True when this answers a retry of an already granted claim (nothing counted).
        replayed: bool,
        /// The budget window this grant used up, when it took the last delivery of one
        /// (`offer.budget_exhausted`); a retry of that grant reports it again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exhausted: Option<BudgetWindow>,
    },
    /// The delivery must not go out.
    Denied(Denial),
}

impl ClaimOutcome {
    /// True for a grant (fresh or replayed).
    pub fn is_granted(&self) -> bool {
        matches!(self, ClaimOutcome::Granted { .. })
    }

    /// The denial, if this is one.
    pub fn denial(&self) -> Option<&Denial> {
        match self {
            ClaimOutcome::Denied(denial) => Some(denial),
            ClaimOutcome::Granted { .. } => None,
        }
    }
}

/// An offer budget's window, as a grant that used it up reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BudgetWindow {
    /// The offer's total budget: used up once, for good.
    Total,
    /// The offer's budget for the grant's UTC day: used up at most once that day.
    Daily,
}

impl BudgetWindow {
    /// The wire name (`total`, `daily`), as budget.lua answers it and payloads carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetWindow::Total => "total",
            BudgetWindow::Daily => "daily",
        }
    }

    /// The window of a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        [BudgetWindow::Total, BudgetWindow::Daily]
            .into_iter()
            .find(|w| w.as_str() == name)
    }
}

/// Why a claim was refused, in terms support can repeat to a person or a brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denial {
    /// The cap that refused.
    pub cap: Cap,
    /// The cap's limit: deliveries per period, or the budget (0 for a cool-down).
    pub limit: u64,
    /// The rolling period of the cap, if it has one.
    #[serde(with = "millis", rename = "period_ms")]
    pub period: Option<Duration>,
    /// The delivery that holds the window (for support's "used at 09:12 by offer …").
    pub held_by: Option<Holder>,
    /// When the window frees, the cool-down ends or the daily budget resets.
    pub until: Option<DateTime<Utc>>,
}

/// A past delivery that occupies a cap's window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The offer that was delivered.
    pub offer_id: String,
    /// The check-in that delivery answered (its decision trace is keyed by it).
    pub checkin_id: String,
    /// When it was granted.
    pub at: DateTime<Utc>,
}

/// Periods travel as whole milliseconds: readable in traces and exact for our windows.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cap_round_trips_through_its_name() {
        for cap in Cap::ALL {
            assert_eq!(Cap::parse(cap.as_str()), Some(cap));
        }
        assert_eq!(Cap::parse("nope"), None);
    }

    #[test]
    fn a_denial_serialises_with_kebab_cap_and_period_in_ms() {
        let denial = Denial {
            cap: Cap::PersonDay,
            limit: 1,
            period: Some(Duration::from_secs(86_400)),
            held_by: None,
            until: None,
        };
        let json = serde_json::to_value(ClaimOutcome::Denied(denial.clone())).unwrap();
        assert_eq!(json["decision"], "denied");
        assert_eq!(json["cap"], "person-day");
        assert_eq!(json["period_ms"], 86_400_000);
        let back: ClaimOutcome = serde_json::from_value(json).unwrap();
        assert_eq!(back, ClaimOutcome::Denied(denial));
    }
}
