//! `/v1/audit/changes` (who changed what) and `/v1/audit/reads` (who read whose data).

use super::extract::ValidQuery;
use super::paging;
use crate::audit::{AuditEntry, AuditQuery};
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::support::reads::WHATS;
use crate::support::{ReadEntry, ReadQuery, ReadRecord};
use actix_web::{HttpRequest, HttpResponse, web};
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
    if let Some(b) = q.brand.as_deref() {
        crate::domain::BrandId::parse(b).map_err(|e| ApiError::BadRequest {
            errors: vec![crate::error::FieldError::new("/query/brand", e.clone())],
            detail: e,
        })?;
    }
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
    if !matches!(who.role, Role::Admin | Role::Support) {
        return Err(ApiError::Forbidden(format!(
            "{} keys cannot read the read log",
            who.role.as_str()
        )));
    }
    if let Some(w) = q.what.as_deref().filter(|w| !WHATS.contains(w)) {
        let detail = format!(
            "`{w}` is not a kind of read; use one of {}",
            WHATS.join(", ")
        );
        return Err(ApiError::BadRequest {
            errors: vec![crate::error::FieldError::new("/query/what", detail.clone())],
            detail,
        });
    }
    let limit = paging::limit(q.limit)?;
    let query = ReadQuery {
        from: q.from,
        to: q.to,
        key_id: q.key_id,
        what: q.what,
        before_id: paging::decode::<i64>(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let mut items = state.store.list_reads(&query).await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| items.last().map(|e| paging::encode(&e.id.to_string())))
        .flatten();
    Ok(HttpResponse::Ok().json(ReadsPage { items, next_cursor }))
}

/// Records that `who` read a person's data: `what` kind of read, of `subject` (a user id of
/// `app`; `None` when the read spans many people). Called after the read succeeded and
/// before the answer leaves, so an answer is never sent without its record.
pub(crate) async fn log_read(
    state: &AppState,
    who: &Principal,
    req: &HttpRequest,
    what: &'static str,
    app: Option<&str>,
    subject: Option<&str>,
) -> Result<(), ApiError> {
    let record = ReadRecord {
        at: state.engine.clock().now(),
        key_id: who.key_id.clone(),
        role: who.role.as_str().to_string(),
        brand: who.brand.as_ref().map(|b| b.to_string()),
        what,
        app: app.map(str::to_string),
        subject: subject.map(str::to_string),
        query: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_string(), |p| p.to_string()),
    };
    state.store.record_read(&record).await?;
    Ok(())
}
