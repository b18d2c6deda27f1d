//! `GET /v1/users/{user_id}/timeline`: consent changes, decisions and deliveries of one person
//! in time order.

use super::extract::ValidQuery;
use super::{UserPath, reader};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::support::{PageAsk, Window};
use crate::state::AppState;
use crate::support::TimelineEntry;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which part of the timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineParams {
    /// The app the user id belongs to (default `default`).
    #[param(pattern = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")]
    pub app: Option<String>,
    /// At or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339); not before `from`.
    pub to: Option<DateTime<Utc>>,
    /// From a previous page's `next_cursor`.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A page of a person's timeline, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    /// The app's user id.
    pub user_id: String,
    /// The app.
    pub app: String,
    /// The entries, oldest first.
    pub items: Vec<TimelineEntry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A person's consent changes, decisions and deliveries in time order (admin, support; brand
/// keys only the decisions and deliveries involving their brand).
#[utoipa::path(get, path = "/v1/users/{user_id}/timeline", tag = "support", security(("bearer" = [])),
    params(UserPath, TimelineParams),
    responses((status = 200, description = "A page of the timeline", body = TimelinePage),
              (status = 422, description = "The user id is not 1–128 printable characters")))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    req: HttpRequest,
    path: web::Path<UserPath>,
    q: ValidQuery<TimelineParams>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let window = Window {
        from: q.from,
        to: q.to,
    };
    let page = PageAsk {
        cursor: q.cursor.as_deref(),
        limit: q.limit,
    };
    let (app, page) = state
        .services
        .support
        .timeline(&reader(&who, &req), &path.user_id, q.app, window, page)
        .await?;
    Ok(HttpResponse::Ok().json(TimelinePage {
        user_id: path.into_inner().user_id,
        app,
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
