//! A person's timeline: consent changes, decisions and deliveries in time order. Each entry
//! carries a `kind`, so feedback events join as `event` once their table exists (one more
//! branch in the store's query, one more arm in [`summary`]).

use super::scope::Scope;
pub use crate::decisions::timeline::{TimelineKey, TimelineQuery, TimelineRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One entry as support reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// consent, decision or delivery (later also event).
    pub kind: String,
    /// Unique within the kind: consent change number, check-in id or delivery id.
    pub id: String,
    /// One line for people.
    pub summary: String,
    /// The facts of the entry, by kind.
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// Turns a stored row into an entry for `scope`: brand keys do not learn which offer of
/// another brand a decision delivered.
pub fn entry(row: TimelineRow, scope: &Scope) -> TimelineEntry {
    let mut detail = row.detail;
    if row.kind == "decision" {
        let theirs = detail["offer_brand"].as_str().map(str::to_string);
        if theirs.is_some() && !scope.sees_brand(theirs.as_deref()) {
            for field in ["offer_id", "delivery_id", "offer_brand"] {
                detail[field] = Value::Null;
            }
            detail["other_brand"] = Value::Bool(true);
        }
    }
    TimelineEntry {
        summary: summary(&row.kind, &detail),
        at: row.at,
        kind: row.kind,
        id: row.key,
        detail,
    }
}

fn on_off(v: &Value) -> &'static str {
    if v.as_bool().unwrap_or(false) {
        "on"
    } else {
        "off"
    }
}

/// One line per entry.
fn summary(kind: &str, d: &Value) -> String {
    let s = |k: &str| d[k].as_str().unwrap_or("?").to_string();
    match kind {
        "consent" => format!(
            "consent: location {}, personalization {}",
            on_off(&d["location"]),
            on_off(&d["personalization"])
        ),
        "decision" if d["decision"] == "offer" && d["other_brand"] == true => format!(
            "decision: another brand's offer was delivered (check-in {})",
            s("checkin_id")
        ),
        "decision" if d["decision"] == "offer" => format!(
            "decision: offer from {} delivered (check-in {})",
            s("offer_brand"),
            s("checkin_id")
        ),
        "decision" => format!(
            "decision: no offer, {} (check-in {})",
            s("reason"),
            s("checkin_id")
        ),
        "delivery" => format!(
            "delivery: “{}” from {} ({})",
            s("title"),
            s("brand"),
            s("status")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_timeline_key_keeps_dots_inside_the_check_in_id() {
        let key = TimelineKey {
            at_ms: 5,
            kind: "decision".into(),
            key: "c.1.2".into(),
        };
        assert_eq!(key.to_string().parse::<TimelineKey>(), Ok(key));
    }

    #[test]
    fn a_brand_does_not_see_which_offer_of_another_brand_was_delivered() {
        let row = TimelineRow {
            at: Utc::now(),
            kind: "decision".into(),
            key: "c-1".into(),
            detail: json!({"checkin_id": "c-1", "decision": "offer", "offer_id": "o-9", "offer_brand": "beanline"}),
        };
        let e = entry(row, &Scope::Brand("chillco".into()));
        assert_eq!(e.detail["offer_id"], Value::Null);
        assert_eq!(
            e.summary,
            "decision: another brand's offer was delivered (check-in c-1)"
        );
    }
}
