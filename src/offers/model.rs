//! The offer document. It is stored as versioned JSON (`SPEC_VERSION`) so later fields can be
//! added without a migration; unknown fields are refused so typos do not silently do nothing.

use super::Targeting;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Version of the stored offer document.
pub const SPEC_VERSION: i64 = 1;

/// What a brand configures for one offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferSpec {
    /// Internal name, shown to the brand and support: 1–200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: String,
    /// Only `active` offers are evaluated.
    #[serde(default)]
    pub status: OfferStatus,
    /// Notification title: a minijinja template using only the documented variables.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub title: String,
    /// Notification body: a minijinja template using only the documented variables.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub body: String,
    /// What one delivery is worth to the brand; scores multiply it.
    #[serde(default = "default_value")]
    #[schema(minimum = 0, maximum = 1000000)]
    pub value: f64,
    /// Not evaluated before this time.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// Not evaluated after this time; after `valid_from`.
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    /// Which moments qualify; every block is optional.
    #[serde(default)]
    pub targeting: Targeting,
    /// Per-person caps specific to this offer.
    #[serde(default)]
    pub caps: OfferCaps,
    /// Delivery budget.
    #[serde(default)]
    pub budget: Budget,
    /// Percentage of people held out as a control group (0–50).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 50)]
    pub holdout_pct: f64,
    /// Redemption code and validity.
    #[serde(default)]
    pub redemption: Option<Redemption>,
    /// What the offer is for. Someone who just bought one of these SKUs or categories is not
    /// offered it again (no chasing people with what they already have).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Product>,
}

/// The items an offer promotes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// SKUs.
    #[serde(default)]
    pub skus: Vec<String>,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
}

fn default_value() -> f64 {
    1.0
}

/// Lifecycle of an offer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OfferStatus {
    /// Evaluated at check-ins.
    #[default]
    Active,
    /// Kept, not evaluated.
    Paused,
}

/// Offer-specific caps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferCaps {
    /// How often one person may get this offer; absent: once.
    #[serde(default)]
    pub per_person: Option<PerPersonCap>,
}

/// `count` deliveries per `period_days` (absent: ever).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerPersonCap {
    /// Deliveries allowed in the period.
    #[serde(deserialize_with = "crate::domain::whole::required")]
    #[schema(minimum = 1, maximum = 1000)]
    pub count: u32,
    /// Rolling period in days.
    #[serde(default, deserialize_with = "crate::domain::whole::optional")]
    #[schema(minimum = 1, maximum = 3650)]
    pub period_days: Option<u32>,
}

/// Delivery budget.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Deliveries over the offer's life (1 to 1,000,000,000).
    #[serde(default, deserialize_with = "crate::domain::whole::optional")]
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub total: Option<u64>,
    /// Deliveries per UTC day (1 to 1,000,000,000; at most `total`).
    #[serde(default, deserialize_with = "crate::domain::whole::optional")]
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub daily: Option<u64>,
}

/// Redemption codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Redemption {
    /// Code prefix, 1–12 uppercase letters or digits.
    #[schema(pattern = r"^[A-Z0-9]{1,12}$")]
    pub code_prefix: String,
    /// Hours a delivered code stays valid (1–720).
    #[serde(deserialize_with = "crate::domain::whole::required")]
    #[schema(minimum = 1, maximum = 720)]
    pub valid_hours: u32,
}

/// A stored offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// Server-assigned id.
    pub id: Uuid,
    /// Owning brand.
    pub brand: crate::domain::BrandId,
    /// The brand's configuration.
    pub spec: OfferSpec,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Change counter.
    pub version: i64,
}

impl Offer {
    /// Whether deciding or writing this offer reads the person's profile (follows,
    /// interests, purchases): audience and exclusion rules, retargeting, "the usual" in its
    /// copy. The check-in reads the profile only when some candidate does.
    pub fn reads_profile(&self) -> bool {
        let s = &self.spec;
        s.targeting.audience.is_some()
            || s.targeting.exclude.is_some()
            || s.product.is_some()
            || s.title.contains("usual_item")
            || s.body.contains("usual_item")
    }
}

/// An offer as the API returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferView {
    /// Offer id.
    pub id: Uuid,
    /// Owning brand.
    pub brand: String,
    /// The configuration.
    #[serde(flatten)]
    pub spec: OfferSpec,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Change counter.
    pub version: i64,
}

impl Offer {
    /// The API representation.
    pub fn to_view(&self) -> OfferView {
        OfferView {
            id: self.id,
            brand: self.brand.to_string(),
            spec: self.spec.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}
