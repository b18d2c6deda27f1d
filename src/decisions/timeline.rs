//! A person's timeline as stored: consent changes, decisions and deliveries in time order,
//! and the query and cursor that page through it.

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// A timeline row as stored: time, kind, a key unique within the kind, and the facts.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// consent, decision or delivery.
    pub kind: String,
    /// Unique within the kind: consent change number, check-in id or delivery id.
    pub key: String,
    /// The facts of the entry.
    pub detail: Value,
}

/// Which part of a person's timeline to read, oldest first.
#[derive(Debug, Clone)]
pub struct TimelineQuery {
    /// The person (pseudonymous token).
    pub person: String,
    /// Brand keys: only entries involving this brand (no consent changes).
    pub brand: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Entries after this position (the cursor).
    pub after: Option<TimelineKey>,
    /// Page size.
    pub limit: u32,
}

/// A position in the timeline's (at, kind, key) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineKey {
    /// Unix milliseconds.
    pub at_ms: i64,
    /// The entry's kind.
    pub kind: String,
    /// The entry's key.
    pub key: String,
}

impl TimelineKey {
    /// The position of a row.
    pub fn of(row: &TimelineRow) -> Self {
        Self {
            at_ms: row.at.timestamp_millis(),
            kind: row.kind.clone(),
            key: row.key.clone(),
        }
    }
}

impl fmt::Display for TimelineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.at_ms, self.kind, self.key)
    }
}

impl FromStr for TimelineKey {
    type Err = String;

    // Kinds have no dots; keys (check-in ids) may, so they take the rest.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ms, rest) = s.split_once('.').ok_or("no separator")?;
        let (kind, key) = rest.split_once('.').ok_or("no separator")?;
        Ok(Self {
            at_ms: ms.parse().map_err(|_| "bad time")?,
            kind: kind.to_string(),
            key: key.to_string(),
        })
    }
}
