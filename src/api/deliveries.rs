//! `/v1/deliveries`: every offer sent, newest first, as JSON pages or a streamed CSV / NDJSON
//! export (by `Accept`). Support and admin read across brands, brand keys their own brand.

use super::audit::log_read;
use super::extract::ValidQuery;
use super::{id_path, paging};
use crate::auth::Principal;
use crate::domain::BrandId;
use crate::error::{ApiError, FieldError};
use crate::people::{PersonId, check_user_id};
use crate::state::AppState;
use crate::store::Store;
use crate::support::deliveries::STATUSES;
use crate::support::export::{self, Format};
use crate::support::{Delivery, DeliveryFilter, DeliveryKey, Scope};
use actix_web::http::header::{ACCEPT, CONTENT_DISPOSITION};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Rows fetched per query while streaming an export: large enough to amortise the round
/// trip, small enough that memory stays flat for any export size.
const EXPORT_BATCH: u32 = 1_000;

/// Filters of the deliveries list and export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// The app `user_id` belongs to (default `default`).
    #[param(pattern = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")]
    pub app: Option<String>,
    /// Only this user's deliveries.
    #[param(pattern = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")]
    pub user_id: Option<String>,
    /// Only this brand (brand keys: always their own).
    #[param(pattern = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub brand: Option<String>,
    /// Only this offer.
    pub offer_id: Option<Uuid>,
    /// Only this fence.
    pub fence_id: Option<Uuid>,
    /// Only this status.
    #[param(schema_with = super::schemas::delivery_status)]
    pub status: Option<String>,
    /// Sent at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Sent before (RFC 3339); not before `from`.
    pub to: Option<DateTime<Utc>>,
    /// From a previous page's `next_cursor` (exports start after it too).
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100); exports return every matching row.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveriesPage {
    /// The deliveries.
    pub items: Vec<Delivery>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn bad(pointer: &str, detail: String) -> ApiError {
    ApiError::BadRequest {
        errors: vec![FieldError::new(format!("/query/{pointer}"), detail.clone())],
        detail,
    }
}

/// The store filter for this query and key, or why the query is wrong.
fn filter(q: &DeliveriesQuery, scope: &Scope) -> Result<DeliveryFilter, ApiError> {
    let brand = match (scope.brand(), &q.brand) {
        (Some(own), Some(asked)) if own != asked => {
            return Err(ApiError::NotFound(format!("brand `{asked}` not found")));
        }
        (Some(own), _) => Some(own.to_string()),
        (None, Some(asked)) => {
            BrandId::parse(asked).map_err(|e| bad("brand", e.to_string()))?;
            Some(asked.clone())
        }
        (None, None) => None,
    };
    if let Some(s) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(bad(
            "status",
            format!("`{s}` is not a status; use one of {}", STATUSES.join(", ")),
        ));
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from > to
    {
        return Err(bad("to", "`to` must not be before `from`".into()));
    }
    Ok(DeliveryFilter {
        person: subject(q.app.as_deref(), q.user_id.as_deref())?.map(|(_, p)| p),
        brand,
        offer_id: q.offer_id,
        fence_id: q.fence_id,
        status: q.status.clone(),
        from: q.from,
        to: q.to,
    })
}

/// The app (default `default`) and, with a user id, the person it names.
fn subject(app: Option<&str>, user: Option<&str>) -> Result<Option<(String, String)>, ApiError> {
    let app = app.unwrap_or(crate::auth::DEFAULT_APP);
    check_user_id(app).map_err(|e| bad("app", e.replace("user_id", "app")))?;
    let Some(user) = user else { return Ok(None) };
    check_user_id(user).map_err(|e| bad("user_id", e))?;
    Ok(Some((app.to_string(), PersonId::of(app, user).to_string())))
}

/// Deliveries newest first (admin, support; brand keys their own brand). `Accept: text/csv`
/// or `application/x-ndjson` streams every matching row instead of one page.
#[utoipa::path(get, path = "/v1/deliveries", tag = "support", security(("bearer" = [])),
    params(DeliveriesQuery),
    responses((status = 200, description = "A JSON page; `Accept: text/csv` or `application/x-ndjson` streams every row",
               content((DeliveriesPage = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
              (status = 404, description = "A brand key asked for another brand"),
              (status = 406, description = "`Accept` names no format this endpoint produces")))]
pub async fn list(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    q: ValidQuery<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let scope = Scope::of(&who)?;
    let f = filter(&q, &scope)?;
    let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept).map_err(ApiError::NotAcceptable)?;
    let limit = paging::limit(q.limit)?;
    let after = paging::decode::<DeliveryKey>(q.cursor.as_deref())?;
    let app = q.app.as_deref().unwrap_or(crate::auth::DEFAULT_APP);
    let what = if format == Format::Json {
        "deliveries"
    } else {
        "export"
    };
    let subject = q.user_id.as_deref();
    if format != Format::Json {
        log_read(&state, &who, &req, what, subject.map(|_| app), subject).await?;
        return Ok(stream_export(state.store.clone(), f, after, format));
    }
    let mut items = state.store.list_deliveries(&f, after, limit + 1).await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            items
                .last()
                .map(|d| paging::encode(&DeliveryKey::of(d).to_string()))
        })
        .flatten();
    log_read(&state, &who, &req, what, subject.map(|_| app), subject).await?;
    Ok(HttpResponse::Ok().json(DeliveriesPage { items, next_cursor }))
}

/// Streams every matching row in batches over the same keyset, so memory stays flat and rows
/// arriving meanwhile (always newer than the first batch) neither repeat nor shift the export.
fn stream_export(
    store: Arc<dyn Store>,
    f: DeliveryFilter,
    start: Option<DeliveryKey>,
    format: Format,
) -> HttpResponse {
    let header = match format {
        Format::Csv => export::csv_header(),
        _ => String::new(),
    };
    let line = match format {
        Format::Csv => export::csv_line,
        _ => export::ndjson_line,
    };
    // State: Some(after) while there may be more rows, None once a short batch ended it.
    let pages = stream::try_unfold(Some(start), move |next| {
        let (store, f) = (store.clone(), f.clone());
        async move {
            let Some(after) = next else { return Ok(None) };
            let rows = store.list_deliveries(&f, after, EXPORT_BATCH).await?;
            if rows.is_empty() {
                return Ok(None);
            }
            let next =
                (rows.len() == EXPORT_BATCH as usize).then(|| rows.last().map(DeliveryKey::of));
            let chunk: String = rows.iter().map(line).collect();
            Ok::<_, crate::store::StoreError>(Some((Bytes::from(chunk), next)))
        }
    })
    .inspect_err(|e| tracing::error!(error = %e, "delivery export stopped"));
    let body = stream::once(async move { Ok(Bytes::from(header)) })
        .chain(pages)
        .filter(|chunk| std::future::ready(!chunk.as_ref().is_ok_and(Bytes::is_empty)));
    let name = if format == Format::Csv {
        "csv"
    } else {
        "ndjson"
    };
    HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"deliveries.{name}\""),
        ))
        .streaming(body)
}

/// One delivery (admin, support; brand keys their own brand's).
#[utoipa::path(get, path = "/v1/deliveries/{delivery_id}", tag = "support", security(("bearer" = [])),
    params(("delivery_id" = uuid::Uuid, Path, description = "the delivery id")),
    responses((status = 200, description = "The delivery", body = Delivery)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = Scope::of(&who)?;
    let id = id_path(&path, "delivery")?;
    let found = state.store.get_delivery(id).await?;
    let d = found
        .filter(|d| scope.sees_brand(Some(&d.brand)))
        .ok_or_else(|| ApiError::NotFound(format!("delivery `{id}` not found")))?;
    log_read(
        &state,
        &who,
        &req,
        "delivery",
        Some(&d.app),
        Some(&d.user_id),
    )
    .await?;
    Ok(HttpResponse::Ok().json(d))
}
