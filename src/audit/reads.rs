//! The log of support reads: every read of a person's data names who looked at whom, when.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// One read to record.
#[derive(Debug, Clone)]
pub struct ReadRecord {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Public id of the reading key.
    pub key_id: String,
    /// Its role.
    pub role: String,
    /// Its brand, for brand keys.
    pub brand: Option<String>,
    /// deliveries, delivery, decision, timeline or export.
    pub what: &'static str,
    /// The app the subject's user id belongs to, when known.
    pub app: Option<String>,
    /// The user id, check-in id or delivery id read; `None` when the read spans many people.
    pub subject: Option<String>,
    /// The query string as sent.
    pub query: String,
}

/// One recorded read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadEntry {
    /// Increasing id; also the paging cursor.
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Public id of the reading key.
    pub key_id: String,
    /// Its role.
    pub role: String,
    /// Its brand, for brand keys.
    pub brand: Option<String>,
    /// deliveries, delivery, decision, timeline or export.
    pub what: String,
    /// The app the subject's user id belongs to.
    pub app: Option<String>,
    /// The user id, check-in id or delivery id read; absent when the read spans many people.
    pub subject: Option<String>,
    /// The query string as sent.
    pub query: String,
}

/// Filter over the read log, newest first.
#[derive(Debug, Clone, Default)]
pub struct ReadQuery {
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Only reads by this key.
    pub key_id: Option<String>,
    /// Only this kind of read.
    pub what: Option<String>,
    /// Entries with ids below this one (the cursor).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// The kinds of read that are logged.
pub const WHATS: [&str; 5] = ["deliveries", "delivery", "decision", "timeline", "export"];
