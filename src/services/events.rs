//! Feedback events: each event of a batch is checked, consented, applied once, and then has
//! its side effects (a dismissal cools the brand down); a bad event does not sink the others.

use crate::auth::Principal;
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::error::{ApiError, FieldError, Problem, problem_type, title_for};
use crate::events::{Event, EventInput, EventKind, MAX_BATCH, parse};
use crate::limits::Limiter;
use crate::people::PersonId;
use crate::services::PeopleService;
use crate::store::{Applied, Store};
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

/// A batch of events.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1–500 events, each an `EventInput` (see the schema of that name). Each is checked on
    /// its own: a malformed one is answered as `rejected` in the results, with its problem,
    /// and does not sink the others — so the batch itself accepts items of any shape.
    #[schema(schema_with = any_events)]
    pub events: Vec<EventInput>,
}

/// The schema of a batch's `events`: 1–500 values of any shape. Each is parsed as an
/// [`EventInput`] on its own and a malformed one is rejected in the results, not the batch,
/// so documenting the items as `EventInput` would promise a 4xx the service never sends.
fn any_events() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::domain::schemas::any_items(
        "An event: see the `EventInput` schema for its fields",
        MAX_BATCH,
    )
}

/// What happened to one event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResult {
    /// The event's id, when it had one.
    pub event_id: Option<String>,
    /// `accepted`, `duplicate` (seen before: nothing changed) or `rejected`.
    pub status: &'static str,
    /// Why it was rejected (problem+json body, with its own status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// Accepted, but something secondary did not happen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The batch answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// One entry per event, in order.
    pub results: Vec<EventResult>,
    /// Counts.
    pub accepted: usize,
    /// Counts.
    pub duplicates: usize,
    /// Counts.
    pub rejected: usize,
}

/// Event ingestion.
pub struct EventService {
    store: Arc<dyn Store>,
    people: Arc<PeopleService>,
    catalog: Arc<Catalog>,
    limiter: Arc<dyn Limiter>,
    clock: Arc<dyn Clock>,
    dismissal_cooldown_days: i64,
}

/// The handles an [`EventService`] needs.
pub struct EventDeps {
    /// Where events are applied.
    pub store: Arc<dyn Store>,
    /// Consent of the person each event is about.
    pub people: Arc<PeopleService>,
    /// Which brands exist (a follow names one).
    pub catalog: Arc<Catalog>,
    /// Brand cool-downs after a dismissal.
    pub limiter: Arc<dyn Limiter>,
    /// The time (`received_at`, future-time checks).
    pub clock: Arc<dyn Clock>,
    /// How long a dismissal cools its brand down.
    pub dismissal_cooldown_days: i64,
}

impl EventService {
    /// An event service over these handles.
    pub fn new(d: EventDeps) -> Self {
        Self {
            store: d.store,
            people: d.people,
            catalog: d.catalog,
            limiter: d.limiter,
            clock: d.clock,
            dismissal_cooldown_days: d.dismissal_cooldown_days,
        }
    }

    /// The one clock reading of this service: events are judged against it, and the
    /// store's `received_at` takes it from here once the store accepts a `now`.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Records a batch of events (app key). Replaying a batch changes nothing.
    pub async fn ingest(
        &self,
        who: &Principal,
        batch: &[EventInput],
    ) -> Result<BatchResult, ApiError> {
        let app = who.require_app()?;
        if batch.is_empty() || batch.len() > MAX_BATCH {
            return Err(ApiError::invalid(
                "/events",
                format!("send 1-{MAX_BATCH} events per batch, got {}", batch.len()),
            ));
        }
        let now = self.now();
        let mut results = Vec::with_capacity(batch.len());
        for (i, raw) in batch.iter().enumerate() {
            results.push(self.one(app, &raw.0, i, now).await);
        }
        let count = |s: &str| results.iter().filter(|r| r.status == s).count();
        let (accepted, duplicates, rejected) =
            (count("accepted"), count("duplicate"), count("rejected"));
        Ok(BatchResult {
            results,
            accepted,
            duplicates,
            rejected,
        })
    }

    async fn one(&self, app: &str, raw: &Value, i: usize, now: DateTime<Utc>) -> EventResult {
        let id = raw
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let ev = match parse(raw, &format!("/events/{i}"), now).and_then(|ev| self.known(ev, i)) {
            Ok(ev) => ev,
            Err(errors) => {
                let detail = format!("event {i} is invalid; see `errors`");
                return rejected(
                    id,
                    problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation",
                        detail,
                        errors,
                    ),
                );
            }
        };
        let person = PersonId::of(app, &ev.user_id);
        let consent = match self.people.allowed(app, &ev.user_id, &person).await {
            Ok(c) => c,
            Err(e) => return rejected(id, failure(e)),
        };
        let allowed = consent.location && (consent.personalization || !ev.kind.is_personal());
        if !allowed {
            let need = if ev.kind.is_personal() {
                "personalization"
            } else {
                "location"
            };
            let detail = format!(
                "user `{}` has not given {need} consent, so this {} event is not kept",
                ev.user_id,
                ev.kind.name()
            );
            return rejected(
                id,
                problem(StatusCode::FORBIDDEN, "consent-required", detail, vec![]),
            );
        }
        match self.store.apply_event(app, &person, &ev, raw, now).await {
            Ok(Applied::Duplicate) => EventResult {
                event_id: id,
                status: "duplicate",
                problem: None,
                warnings: Vec::new(),
            },
            Ok(Applied::Accepted { brand }) => EventResult {
                event_id: id,
                status: "accepted",
                problem: None,
                warnings: self.after_accepted(&ev, &person, brand).await,
            },
            Err(e) => rejected(id, failure(e.into())),
        }
    }

    /// A follow names a brand people can follow here: one that exists (checked in memory).
    fn known(&self, ev: Event, i: usize) -> Result<Event, Vec<FieldError>> {
        match &ev.kind {
            EventKind::Follow { brand } | EventKind::Unfollow { brand }
                if self.catalog.brand_name(brand).is_none() =>
            {
                Err(vec![FieldError::new(
                    format!("/events/{i}/brand"),
                    format!("no brand `{brand}`"),
                )])
            }
            _ => Ok(ev),
        }
    }

    /// Side effects of an accepted event: a dismissal cools its brand down. They do not undo
    /// the event when they fail; the answer warns instead.
    async fn after_accepted(
        &self,
        ev: &Event,
        person: &PersonId,
        brand: Option<String>,
    ) -> Vec<String> {
        let mut warnings = Vec::new();
        if let (EventKind::Dismissed { .. }, Some(brand)) = (&ev.kind, brand) {
            let days = self.dismissal_cooldown_days;
            let cool = std::time::Duration::from_secs(days.max(0) as u64 * 86_400);
            if let Err(e) = self.limiter.cool_down(person.as_str(), &brand, cool).await {
                tracing::error!(error = %e, "brand cool-down not recorded");
                warnings.push(format!(
                    "the brand cool-down could not be recorded ({e}); the dismissal itself is kept"
                ));
            }
        }
        warnings
    }
}

fn problem(status: StatusCode, slug: &str, detail: String, errors: Vec<FieldError>) -> Problem {
    Problem {
        type_: problem_type(slug),
        title: title_for(status),
        status: status.as_u16(),
        detail,
        errors,
    }
}

fn rejected(event_id: Option<String>, p: Problem) -> EventResult {
    EventResult {
        event_id,
        status: "rejected",
        problem: Some(p),
        warnings: Vec::new(),
    }
}

/// An event that failed for a reason other than its content, as the problem the whole
/// request would have answered (a full disk is 503 `unavailable`, not `internal`).
fn failure(e: ApiError) -> Problem {
    if actix_web::ResponseError::status_code(&e).is_server_error() {
        tracing::error!(error = ?e, "event failed");
    }
    e.to_problem()
}
