//! `/v1/deliveries`: every offer sent, newest first, as JSON pages or a streamed CSV / NDJSON
//! export (by `Accept`). Support and admin read across brands, brand keys their own brand.

use super::extract::ValidQuery;
use super::reader;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::support::DeliveryAsk;
use crate::state::AppState;
use crate::support::Delivery;
use crate::support::export::Format;
use actix_web::http::header::{ACCEPT, CONTENT_DISPOSITION};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

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
    let r = reader(&who, &req);
    let support = &state.services.support;
    let ask = DeliveryAsk {
        app: q.app,
        user_id: q.user_id,
        brand: q.brand,
        offer_id: q.offer_id,
        fence_id: q.fence_id,
        status: q.status,
        from: q.from,
        to: q.to,
    };
    let asked = support.delivery_request(&r, ask)?;
    let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept).map_err(ApiError::NotAcceptable)?;
    let (cursor, limit) = (q.cursor.as_deref(), q.limit);
    if format == Format::Json {
        let page = support.deliveries(&r, &asked, cursor, limit).await?;
        return Ok(HttpResponse::Ok().json(DeliveriesPage {
            items: page.items,
            next_cursor: page.next_cursor,
        }));
    }
    let chunks = support
        .export(&r, asked, cursor, limit, format)
        .await?
        .map_ok(Bytes::from);
    let name = if format == Format::Csv {
        "csv"
    } else {
        "ndjson"
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"deliveries.{name}\""),
        ))
        .streaming(chunks))
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
    let d = state
        .services
        .support
        .delivery(&reader(&who, &req), &path)
        .await?;
    Ok(HttpResponse::Ok().json(d))
}
