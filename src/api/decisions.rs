//! `GET /v1/decisions/{checkin_id}`: why a person did or did not get an offer, explained.

use super::audit::log_read;
use super::extract::ValidQuery;
use crate::auth::Principal;
use crate::checkins::engine::claim_key;
use crate::error::{ApiError, FieldError};
use crate::people::PersonId;
use crate::state::AppState;
use crate::store::StoredDecision;
use crate::support::{CandidateView, Delivery, DeliveryFilter, Names, Scope, explain};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Which decision, when several apps used the same check-in id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    /// The app that reported the check-in (needed only when several apps used the id).
    pub app: Option<String>,
}

/// One decision, explained for support.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// The app's check-in id.
    pub checkin_id: String,
    /// The app that reported it.
    pub app: String,
    /// The app's user id.
    pub user_id: String,
    /// When it was decided.
    pub at: DateTime<Utc>,
    /// `offer` or `none`.
    pub decision: String,
    /// Why none.
    pub reason: Option<String>,
    /// One sentence.
    pub summary: String,
    /// The steps that mattered, one line each.
    pub explanation: Vec<String>,
    /// Every candidate offer with the reasons it did or did not go out.
    pub candidates: Vec<CandidateView>,
    /// The delivery, with the copy exactly as shown.
    pub delivery: Option<Delivery>,
    /// The raw trace (null once purged by retention).
    #[schema(value_type = Object)]
    pub trace: Value,
    /// When retention purged the trace.
    pub trace_purged_at: Option<DateTime<Utc>>,
    /// Time spent deciding, microseconds.
    pub latency_us: i64,
}

/// The full trace of one decision, explained (admin, support; brand keys only decisions that
/// involved their fences or offers, showing only their part).
#[utoipa::path(get, path = "/v1/decisions/{checkin_id}", tag = "support", security(("bearer" = [])),
    params(("checkin_id" = String, Path, description = "the app's check-in id"), DecisionQuery),
    responses((status = 200, description = "The decision, explained", body = DecisionView)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    q: ValidQuery<DecisionQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = Scope::of(&who)?;
    let mut found: Vec<_> = state
        .store
        .decisions_by_checkin(&path)
        .await?
        .into_iter()
        .filter(|d| q.0.app.as_ref().is_none_or(|a| *a == d.app))
        .filter(|d| {
            scope
                .brand()
                .is_none_or(|b| d.brands.iter().any(|x| x == b))
        })
        .collect();
    if found.len() > 1 {
        let apps: Vec<&str> = found.iter().map(|d| d.app.as_str()).collect();
        let detail = format!(
            "check-in id `{}` was used by {} apps ({}); pass `app=` to pick one",
            path.as_str(),
            apps.len(),
            apps.join(", ")
        );
        return Err(ApiError::BadRequest {
            errors: vec![FieldError::new("/query/app", detail.clone())],
            detail,
        });
    }
    let Some(mut d) = found.pop() else {
        return Err(ApiError::NotFound(format!(
            "no decision for check-in `{}` (check-ins that matched no fence keep nothing)",
            path.as_str()
        )));
    };
    let delivery = match d.delivery_id.as_deref().map(uuid::Uuid::parse_str) {
        Some(Ok(id)) => state.store.get_delivery(id).await?,
        _ => None,
    }
    .filter(|x| scope.sees_brand(Some(&x.brand)));
    let names = names_for(&state, &d, delivery.as_ref()).await?;
    d.trace = scope.redact_trace(&d.trace, |o| names.offers.get(o).map(|l| l.brand.clone()));
    let explained = explain(&d, delivery.as_ref(), &names, &scope);
    log_read(
        &state,
        &who,
        &req,
        "decision",
        Some(&d.app),
        Some(&d.user_id),
    )
    .await?;
    Ok(HttpResponse::Ok().json(DecisionView {
        checkin_id: d.checkin_id,
        app: d.app,
        user_id: d.user_id,
        at: d.at,
        decision: d.decision,
        reason: d.reason,
        summary: explained.summary,
        explanation: explained.explanation,
        candidates: explained.candidates,
        delivery,
        trace: d.trace,
        trace_purged_at: d.trace_purged_at,
        latency_us: d.latency_us,
    }))
}

/// Names for what the trace leaves bare: cap holders (their offer, and their check-in, which
/// the limiter knows only by its claim key), and the delivered offer and fence once retention
/// purged the trace.
async fn names_for(
    state: &AppState,
    d: &StoredDecision,
    delivery: Option<&Delivery>,
) -> Result<Names, ApiError> {
    let holders: BTreeSet<String> = crate::decisions::trace::Trace::read(&d.trace)
        .map(|t| t.cap_holders())
        .unwrap_or_default();
    let mut ids: Vec<String> = holders.iter().cloned().collect();
    ids.extend(d.offer_id.clone());
    let mut names = Names {
        offers: state.store.offer_labels(&ids).await?,
        ..Names::default()
    };
    let person = PersonId::of(&d.app, &d.user_id).to_string();
    for offer in holders.iter().filter_map(|o| Uuid::parse_str(o).ok()) {
        let filter = DeliveryFilter {
            person: Some(person.clone()),
            offer_id: Some(offer),
            ..DeliveryFilter::default()
        };
        // A person holds few deliveries of one offer; the newest hundred cover every window.
        for x in state.store.list_deliveries(&filter, None, 100).await? {
            names
                .checkins
                .insert(claim_key(&x.app, &x.user_id, &x.checkin_id), x.checkin_id);
        }
    }
    if let Some(f) = delivery.and_then(|x| state.engine.catalog().fence(&x.fence_id)) {
        names.fences.insert(f.id.to_string(), f.name.clone());
    }
    Ok(names)
}
