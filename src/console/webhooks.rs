//! `/console/brands/{brand}/webhooks`: the brand's webhook endpoints, their status and, for
//! one geoffer disabled because it kept failing, why and the one thing to do: fix the
//! receiver, then **Re-enable** (`WebhookService::enable`, the API's `PUT` with `status:
//! active`). The same warning ([`alerts`]) heads the fences and offers pages, where a brand
//! user looks first. Endpoints are registered and changed through the API (docs/webhooks.md).

use super::fences::role;
use super::pages;
use super::session::Signed;
use super::{ConsoleError, sign_in::CsrfForm};
use crate::auth::Role;
use crate::state::AppState;
use crate::webhooks::{EndpointStatus, EndpointView};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};

/// `?enabled=` of the page: set after a re-enable.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    #[serde(default)]
    enabled: String,
}

/// A warning about one endpoint geoffer disabled: which, why, and what to do.
#[derive(Debug, Serialize)]
pub struct Alert {
    id: String,
    url: String,
    failures: i64,
    /// When it started failing, in words (UTC).
    since: Option<String>,
    /// What the receiver did on the last attempt, when one is recorded.
    last_error: Option<String>,
}

/// One endpoint in the list.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    url: String,
    status: &'static str,
    event_types: Vec<&'static str>,
    disabled_reason: Option<String>,
    failures: i64,
    since: Option<String>,
    /// Disabled by geoffer for failing (not by the brand).
    for_failing: bool,
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The warnings the brand's pages show: one per endpoint geoffer disabled for failing.
pub(super) async fn alerts(
    state: &AppState,
    who: &Signed,
    brand: &str,
) -> Result<Vec<Alert>, ConsoleError> {
    let service = &state.services.webhooks;
    let mut out = Vec::new();
    for e in service.list(&who.who, brand).await? {
        if e.disabled_for_failing {
            out.push(alert(state, who, brand, &e).await?);
        }
    }
    Ok(out)
}

async fn alert(
    state: &AppState,
    who: &Signed,
    brand: &str,
    e: &EndpointView,
) -> Result<Alert, ConsoleError> {
    let id = e.id.to_string();
    let last = state
        .services
        .webhooks
        .attempts(&who.who, brand, &id, None, Some(1))
        .await?;
    Ok(Alert {
        url: e.url.clone(),
        failures: e.consecutive_failures,
        since: e.failing_since.map(when),
        last_error: last.items.into_iter().next().and_then(|a| a.error),
        id,
    })
}

/// `GET /console/brands/{brand}/webhooks`.
pub async fn page(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    notice: web::Query<Notice>,
) -> Result<HttpResponse, ConsoleError> {
    let b = state.services.catalog.brand(&who.who, &brand).await?;
    let endpoints = state.services.webhooks.list(&who.who, &brand).await?;
    let rows: Vec<Row> = endpoints.iter().map(row).collect();
    let hook_alerts = alerts(&state, &who, &brand).await?;
    let notice = (!notice.enabled.is_empty())
        .then_some("The endpoint is enabled again: its waiting messages are being sent now.");
    Ok(pages::ok(
        "webhooks.html",
        context! {
            who => role(&who),
            csrf => &who.csrf,
            brand => context! { id => b.id.to_string(), name => &b.name },
            rows => Value::from(Serde(&rows)),
            hook_alerts => Value::from(Serde(&hook_alerts)),
            on_webhooks_page => true,
            can_write => who.who.role != Role::Support,
            notice,
        },
    ))
}

fn row(e: &EndpointView) -> Row {
    Row {
        id: e.id.to_string(),
        url: e.url.clone(),
        status: e.status.as_str(),
        event_types: e.event_types.iter().map(|t| t.as_str()).collect(),
        disabled_reason: (e.status == EndpointStatus::Disabled)
            .then(|| e.disabled_reason.clone())
            .flatten(),
        failures: e.consecutive_failures,
        since: e.failing_since.map(when),
        for_failing: e.disabled_for_failing,
    }
}

/// `POST /console/brands/{brand}/webhooks/{id}/enable`: enables the endpoint again (its
/// failure streak cleared, its waiting messages due at once) and comes back to the list.
pub async fn enable(
    state: web::Data<AppState>,
    who: Signed,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    who.check_csrf(&form.csrf)?;
    let (brand, id) = path.into_inner();
    state
        .services
        .webhooks
        .enable(&who.who, &brand, &id)
        .await?;
    Ok(pages::see_other(&format!(
        "/console/brands/{brand}/webhooks?enabled={}",
        pages::urlencode(&id)
    )))
}
