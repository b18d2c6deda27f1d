//! The admin audit log: who changed which brand, key, fence or offer, when, before and after.

pub mod reads;

pub use reads::{ReadEntry, ReadQuery, ReadRecord};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One recorded change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Increasing id; also the paging cursor.
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Public id of the key that made it (`cli` for the command line).
    pub key_id: String,
    /// That key's role.
    pub role: String,
    /// The brand the entity belongs to.
    pub brand: Option<String>,
    /// `brand`, `key`, `geofence` or `offer`.
    pub entity: String,
    /// The entity's id.
    pub entity_id: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// The entity before the change.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The entity after the change.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

/// Filter over the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this brand's entities.
    pub brand: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Entries with ids below this one (the cursor; newest first).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}
