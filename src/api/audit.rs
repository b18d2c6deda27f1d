//! `/v1/audit/changes`: the admin audit log.

use super::extract::ValidQuery;
use super::paging;
use crate::audit::{AuditEntry, AuditQuery};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ChangesQuery {
    /// Only this brand (brand keys: always their own).
    pub brand: Option<String>,
    /// At or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<u32>,
}

/// A page of audit entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesPage {
    /// The entries.
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Who changed what, when: before and after (admin, support; brand keys for their brand).
#[utoipa::path(get, path = "/v1/audit/changes", tag = "audit", security(("bearer" = [])),
    params(ChangesQuery), responses((status = 200, body = ChangesPage), (status = 403, body = Problem)))]
pub async fn changes(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let brand = match who.role {
        Role::Admin | Role::Support => q.brand,
        Role::Brand => {
            let own = who.brand.as_ref().map(|b| b.to_string());
            if q.brand.is_some() && q.brand != own {
                return Err(ApiError::NotFound("brand not found".into()));
            }
            own
        }
        Role::App => {
            return Err(ApiError::Forbidden(
                "app keys cannot read the audit log".into(),
            ));
        }
    };
    let limit = paging::limit(q.limit)?;
    let query = AuditQuery {
        brand,
        from: q.from,
        to: q.to,
        before_id: paging::decode::<i64>(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let mut items = state.store.list_changes(&query).await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| items.last().map(|e| paging::encode(&e.id.to_string())))
        .flatten();
    Ok(HttpResponse::Ok().json(ChangesPage { items, next_cursor }))
}
