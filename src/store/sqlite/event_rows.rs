//! An event's row and its effect, as one write for the group commit.

use super::commit::Statements;
use super::ms;
use crate::events::{Event, EventKind, Status};
use crate::webhooks::{EventType, delivery_event_timestamp};
use sqlx::{QueryBuilder, Sqlite};

/// The delivery state a delivery event was checked against, and where it moves it.
pub(super) struct DeliveryGuard {
    /// The delivery.
    pub id: String,
    /// Its status when checked.
    pub from: Status,
    /// The status the event moves it to, if any.
    pub to: Option<Status>,
}

/// An event's row and effect, as a write for the group commit. The event's `INSERT` returns
/// one row when it inserted the event; its effect runs only then (`changes() = 1`).
pub(super) struct EventWrite {
    /// The sending app.
    pub app: String,
    /// The person it concerns.
    pub person: String,
    /// The event.
    pub ev: Event,
    /// Its body as received.
    pub body: String,
    /// When it was received (ms).
    pub received_at: i64,
    /// For a delivery event: the state it was checked against.
    pub guard: Option<DeliveryGuard>,
}

impl Statements for EventWrite {
    fn push(&self, q: &mut QueryBuilder<Sqlite>, job: i64) {
        let ev = &self.ev;
        q.push(
            "INSERT INTO events (app_id, event_id, person, kind, occurred_at, received_at,
               brand_id, delivery_id, body) SELECT ",
        );
        {
            let mut v = q.separated(", ");
            v.push_bind(self.app.clone())
                .push_bind(ev.event_id.clone())
                .push_bind(self.person.clone())
                .push_bind(ev.kind.name())
                .push_bind(ms(ev.occurred_at))
                .push_bind(self.received_at)
                .push_bind(ev.kind.brand().map(|b| b.as_str().to_string()))
                .push_bind(ev.kind.delivery().map(|d| d.to_string()))
                .push_bind(self.body.clone());
        }
        // A row comes back only when the event was new. (`WHERE true` lets SQLite parse the
        // upsert after `INSERT ... SELECT`.)
        if let Some(g) = &self.guard {
            q.push(" WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ")
                .push_bind(g.id.clone())
                .push(" AND status = ")
                .push_bind(g.from.as_str())
                .push(")");
            returning(q, job);
            if let Some(next) = g.to {
                let column = match next {
                    Status::Opened => "opened_at",
                    Status::Dismissed => "dismissed_at",
                    Status::Redeemed => "redeemed_at",
                    Status::Delivered => "created_at",
                };
                q.push("; UPDATE deliveries SET status = ")
                    .push_bind(next.as_str())
                    .push(format!(", {column} = COALESCE({column}, "))
                    .push_bind(ms(ev.occurred_at))
                    .push(") WHERE id = ")
                    .push_bind(g.id.clone())
                    .push(" AND changes() = 1");
                if let Some(kind) = webhook_event(next) {
                    push_outbox(q, kind, &g.id, ev, self.received_at);
                }
            }
            return;
        }
        q.push(" WHERE true");
        returning(q, job);
        match &ev.kind {
            EventKind::Purchase(p) => {
                q.push(
                    "; INSERT INTO purchases (person, brand_id, sku, category, amount, currency,
                       channel, fence_id, at) SELECT ",
                );
                let mut v = q.separated(", ");
                v.push_bind(self.person.clone())
                    .push_bind(p.brand.as_str().to_string())
                    .push_bind(p.sku.clone())
                    .push_bind(p.category.clone())
                    .push_bind(p.amount)
                    .push_bind(p.currency.clone())
                    .push_bind(
                        serde_json::to_value(p.channel)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string)),
                    )
                    .push_bind(p.fence_id.map(|f| f.to_string()))
                    .push_bind(ms(ev.occurred_at));
                q.push(" WHERE changes() = 1");
            }
            EventKind::Follow { brand } => {
                q.push("; INSERT OR IGNORE INTO follows (person, brand_id, since) SELECT ")
                    .push_bind(self.person.clone())
                    .push(", ")
                    .push_bind(brand.as_str().to_string())
                    .push(", ")
                    .push_bind(ms(ev.occurred_at))
                    .push(" WHERE changes() = 1");
            }
            EventKind::Unfollow { brand } => {
                q.push("; DELETE FROM follows WHERE person = ")
                    .push_bind(self.person.clone())
                    .push(" AND brand_id = ")
                    .push_bind(brand.as_str().to_string())
                    .push(" AND changes() = 1");
            }
            // Delivery events carry a guard (above); traits are not written here.
            _ => {}
        }
    }
}

/// The end of the event's `INSERT`: a row tagged with the job (a parameter, so the text is
/// the same for every job and the prepared statement is reused) when the event was new.
fn returning(q: &mut QueryBuilder<Sqlite>, job: i64) {
    q.push(" ON CONFLICT (app_id, event_id) DO NOTHING RETURNING ")
        .push_bind(job)
        .push(" AS job");
}

/// The webhook event a delivery's move to `status` reports, if any.
fn webhook_event(status: Status) -> Option<EventType> {
    match status {
        Status::Opened => Some(EventType::DeliveryOpened),
        Status::Redeemed => Some(EventType::DeliveryRedeemed),
        _ => None,
    }
}

/// The brand's webhook messages for a delivery's move, one per subscribed active endpoint,
/// written only when the delivery's `UPDATE` just before changed it (`changes() = 1`): in
/// the event's transaction, so the outbox and the delivery cannot disagree. The payload
/// carries the delivery's pseudonymous ids, never a location.
fn push_outbox(q: &mut QueryBuilder<Sqlite>, kind: EventType, delivery: &str, ev: &Event, at: i64) {
    let msg_suffix = kind.as_str().rsplit('.').next().unwrap_or("event");
    q.push(
        "; INSERT OR IGNORE INTO webhook_outbox (endpoint_id, msg_id, brand_id, event_type,
           person, payload, created_at, next_attempt_at, status, attempts)
           SELECT e.id, 'msg_' || d.id || '_' || ",
    )
    .push_bind(msg_suffix)
    .push(", e.brand_id, ")
    .push_bind(kind.as_str())
    .push(", d.person, json_object('type', ")
    .push_bind(kind.as_str())
    .push(", 'timestamp', ")
    .push_bind(delivery_event_timestamp(ev.occurred_at))
    .push(
        ", 'data', json_object('delivery_id', d.id, 'offer_id', d.offer_id,
           'fence_id', d.fence_id, 'brand', d.brand_id, 'user_id', d.user_id)), ",
    )
    .push_bind(at)
    .push(", ")
    .push_bind(at)
    .push(
        ", 'pending', 0 FROM deliveries d JOIN webhook_endpoints e ON e.brand_id = d.brand_id
           AND e.status = 'active' AND instr(e.event_types, ",
    )
    .push_bind(kind.quoted())
    .push(") > 0 WHERE d.id = ")
    .push_bind(delivery.to_string())
    .push(" AND changes() = 1");
}
