//! One decision, explained for support.

use super::{Reader, SupportService};
use crate::checkins::engine::claim_key;
use crate::error::{ApiError, FieldError};
use crate::people::PersonId;
use crate::store::StoredDecision;
use crate::support::{CandidateView, Delivery, DeliveryFilter, Names, Scope, explain};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use utoipa::ToSchema;
use uuid::Uuid;

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

impl SupportService {
    /// The decision of check-in `checkin_id` (of `app`, needed only when several apps used
    /// the id), explained (admin, support; brand keys only decisions that involved their
    /// fences or offers, showing only their part).
    pub async fn decision(
        &self,
        r: &Reader<'_>,
        checkin_id: &str,
        app: Option<&str>,
    ) -> Result<DecisionView, ApiError> {
        let scope = Scope::of(r.who)?;
        let mut found: Vec<_> = self
            .store
            .decisions_by_checkin(checkin_id)
            .await?
            .into_iter()
            .filter(|d| app.is_none_or(|a| a == d.app))
            .filter(|d| {
                scope
                    .brand()
                    .is_none_or(|b| d.brands.iter().any(|x| x == b))
            })
            .collect();
        if found.len() > 1 {
            let apps: Vec<&str> = found.iter().map(|d| d.app.as_str()).collect();
            let detail = format!(
                "check-in id `{checkin_id}` was used by {} apps ({}); pass `app=` to pick one",
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
                "no decision for check-in `{checkin_id}` (check-ins that matched no fence keep nothing)"
            )));
        };
        let delivery = match d.delivery_id.as_deref().map(Uuid::parse_str) {
            Some(Ok(id)) => self.store.get_delivery(id).await?,
            _ => None,
        }
        .filter(|x| scope.sees_brand(Some(&x.brand)));
        let names = self.names_for(&d, delivery.as_ref()).await?;
        d.trace = scope.redact_trace(&d.trace, |o| names.offers.get(o).map(|l| l.brand.clone()));
        let explained = explain(&d, delivery.as_ref(), &names, &scope);
        self.log_read(r, "decision", Some(&d.app), Some(&d.user_id))
            .await?;
        Ok(DecisionView {
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
        })
    }

    /// Names for what the trace leaves bare: cap holders (their offer, and their check-in,
    /// which the limiter knows only by its claim key), and the delivered offer and fence once
    /// retention purged the trace.
    async fn names_for(
        &self,
        d: &StoredDecision,
        delivery: Option<&Delivery>,
    ) -> Result<Names, ApiError> {
        let holders: BTreeSet<String> = crate::decisions::trace::Trace::read(&d.trace)
            .map(|t| t.cap_holders())
            .unwrap_or_default();
        let mut ids: Vec<String> = holders.iter().cloned().collect();
        ids.extend(d.offer_id.clone());
        let mut names = Names {
            offers: self.store.offer_labels(&ids).await?,
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
            for x in self.store.list_deliveries(&filter, None, 100).await? {
                names
                    .checkins
                    .insert(claim_key(&x.app, &x.user_id, &x.checkin_id), x.checkin_id);
            }
        }
        if let Some(f) = delivery.and_then(|x| self.catalog.fence(&x.fence_id)) {
            names.fences.insert(f.id.to_string(), f.name.clone());
        }
        Ok(names)
    }
}
