//! `/v1/audit/changes` (who changed what) and `/v1/audit/reads` (who read whose data).

use super::extract::ValidQuery;
use crate::audit::AuditEntry;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::support::{PageAsk, ReadsAsk, Window};
use crate::state::AppState;
use crate::support::ReadEntry;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// Only this brand (brand keys: always their own).
    #[param(pattern = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub brand: Option<String>,
    /// At or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// From a previous page's `next_cursor`.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
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
    params(ChangesQuery), responses((status = 200, description = "A page of changes", body = ChangesPage),
                                    (status = 404, description = "A brand key asked for another brand")))]
pub async fn changes(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ChangesQuery>,
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
    let page = state
        .services
        .support
        .changes(&who, q.brand, window, page)
        .await?;
    Ok(HttpResponse::Ok().json(ChangesPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// Filters of the read log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReadsQuery {
    /// At or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Only reads by this key (its public id).
    pub key_id: Option<String>,
    /// Only this kind of read.
    #[param(schema_with = super::schemas::read_kind)]
    pub what: Option<String>,
    /// From a previous page's `next_cursor`.
    #[param(pattern = r"^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A page of the read log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadsPage {
    /// The reads.
    pub items: Vec<ReadEntry>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Who read whose deliveries, decisions and timelines, when (admin, support).
#[utoipa::path(get, path = "/v1/audit/reads", tag = "audit", security(("bearer" = [])),
    params(ReadsQuery), responses((status = 200, description = "A page of reads", body = ReadsPage)))]
pub async fn reads(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ReadsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let ask = ReadsAsk {
        window: Window {
            from: q.from,
            to: q.to,
        },
        key_id: q.key_id,
        what: q.what,
    };
    let page = PageAsk {
        cursor: q.cursor.as_deref(),
        limit: q.limit,
    };
    let page = state.services.support.reads(&who, ask, page).await?;
    Ok(HttpResponse::Ok().json(ReadsPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
