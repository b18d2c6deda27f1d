//! Support reads: deliveries (pages and exports), explained decisions, a person's timeline,
//! offer results, and the audit logs; with the read-log rule: what support opens about a
//! person is recorded before the answer leaves.

mod decisions;
mod deliveries;
mod results;

pub use decisions::DecisionView;
pub use deliveries::{DeliveryAsk, DeliveryRequest};
pub use results::{DEFAULT_DAYS, DaysAsk, MAX_DAYS};

use super::{Page, paging};
use crate::audit::{AuditEntry, AuditQuery};
use crate::auth::{Principal, Role};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::error::{ApiError, FieldError};
use crate::people::{PersonId, check_user_id};
use crate::store::Store;
use crate::support::TimelineQuery;
use crate::support::reads::WHATS;
use crate::support::timeline::entry;
use crate::support::{ReadEntry, ReadQuery, ReadRecord, Scope, TimelineEntry, TimelineKey};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Who reads, and what they asked (the request's path and query, kept in the read log).
pub struct Reader<'a> {
    /// The acting key.
    pub who: &'a Principal,
    /// The request as the read log shows it.
    pub query: String,
}

/// Support reads and the read log.
pub struct SupportService {
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    clock: Arc<dyn Clock>,
    attribution_days: i64,
}

/// A time window's bounds as asked.
pub struct Window {
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before; not before `from`.
    pub to: Option<DateTime<Utc>>,
}

/// One page request: a cursor from a previous page, and a page size.
pub struct PageAsk<'a> {
    /// From a previous page's `next_cursor`.
    pub cursor: Option<&'a str>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<u32>,
}

/// What the read log can be filtered by.
pub struct ReadsAsk {
    /// The window.
    pub window: Window,
    /// Only reads by this key.
    pub key_id: Option<String>,
    /// Only this kind of read.
    pub what: Option<String>,
}

fn bad(name: &str, detail: String) -> ApiError {
    ApiError::BadRequest {
        errors: vec![FieldError::new(format!("/query/{name}"), detail.clone())],
        detail,
    }
}

impl SupportService {
    /// A support service; `attribution_days` is the results' attribution window.
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Arc<Catalog>,
        clock: Arc<dyn Clock>,
        attribution_days: i64,
    ) -> Self {
        Self {
            store,
            catalog,
            clock,
            attribution_days,
        }
    }

    /// The one clock reading of this service: read-log times.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Records that the reader read a person's data: `what` kind of read, of `subject` (a
    /// user id of `app`; `None` when the read spans many people). Called after the read
    /// succeeded and before the answer leaves, so an answer is never sent without its record.
    async fn log_read(
        &self,
        r: &Reader<'_>,
        what: &'static str,
        app: Option<&str>,
        subject: Option<&str>,
    ) -> Result<(), ApiError> {
        let record = ReadRecord {
            at: self.now(),
            key_id: r.who.key_id.clone(),
            role: r.who.role.as_str().to_string(),
            brand: r.who.brand.as_ref().map(|b| b.to_string()),
            what,
            app: app.map(str::to_string),
            subject: subject.map(str::to_string),
            query: r.query.clone(),
        };
        self.store.record_read(&record).await?;
        Ok(())
    }

    /// A person's consent changes, decisions and deliveries in time order (admin, support;
    /// brand keys only the decisions and deliveries involving their brand).
    pub async fn timeline(
        &self,
        r: &Reader<'_>,
        user_id: &str,
        app: Option<String>,
        window: Window,
        page: PageAsk<'_>,
    ) -> Result<(String, Page<TimelineEntry>), ApiError> {
        let scope = Scope::of(r.who)?;
        check_user_id(user_id).map_err(|e| ApiError::invalid("/path/user_id", e))?;
        let app = app.unwrap_or_else(|| crate::auth::DEFAULT_APP.to_string());
        check_user_id(&app).map_err(|e| bad("app", e.replace("user_id", "app")))?;
        if let (Some(from), Some(to)) = (window.from, window.to)
            && from > to
        {
            return Err(bad("to", "`to` must not be before `from`".into()));
        }
        let limit = paging::limit(page.limit)?;
        let query = TimelineQuery {
            person: PersonId::of(&app, user_id).to_string(),
            brand: scope.brand().map(str::to_string),
            from: window.from,
            to: window.to,
            after: paging::decode::<TimelineKey>(page.cursor)?,
            limit: limit + 1,
        };
        let rows = self.store.timeline(&query).await?;
        let rows = Page::cut(rows, limit, TimelineKey::of);
        self.log_read(r, "timeline", Some(&app), Some(user_id))
            .await?;
        Ok((app, rows.map(|row| entry(row, &scope))))
    }

    /// Who changed what, when: before and after (admin, support; brand keys their brand).
    pub async fn changes(
        &self,
        who: &Principal,
        brand: Option<String>,
        window: Window,
        page: PageAsk<'_>,
    ) -> Result<Page<AuditEntry>, ApiError> {
        if let Some(b) = brand.as_deref() {
            crate::domain::BrandId::parse(b).map_err(|e| ApiError::BadRequest {
                errors: vec![FieldError::new("/query/brand", e.clone())],
                detail: e,
            })?;
        }
        let brand = match who.role {
            Role::Admin | Role::Support => brand,
            Role::Brand => {
                let own = who.brand.as_ref().map(|b| b.to_string());
                if brand.is_some() && brand != own {
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
        let limit = paging::limit(page.limit)?;
        let query = AuditQuery {
            brand,
            from: window.from,
            to: window.to,
            before_id: paging::decode::<i64>(page.cursor)?,
            limit: limit + 1,
        };
        let items = self.store.list_changes(&query).await?;
        Ok(Page::cut(items, limit, |e| e.id))
    }

    /// Who read whose deliveries, decisions and timelines, when (admin, support).
    pub async fn reads(
        &self,
        who: &Principal,
        ask: ReadsAsk,
        page: PageAsk<'_>,
    ) -> Result<Page<ReadEntry>, ApiError> {
        if !matches!(who.role, Role::Admin | Role::Support) {
            return Err(ApiError::Forbidden(format!(
                "{} keys cannot read the read log",
                who.role.as_str()
            )));
        }
        if let Some(w) = ask.what.as_deref().filter(|w| !WHATS.contains(w)) {
            let detail = format!(
                "`{w}` is not a kind of read; use one of {}",
                WHATS.join(", ")
            );
            return Err(ApiError::BadRequest {
                errors: vec![FieldError::new("/query/what", detail.clone())],
                detail,
            });
        }
        let limit = paging::limit(page.limit)?;
        let query = ReadQuery {
            from: ask.window.from,
            to: ask.window.to,
            key_id: ask.key_id,
            what: ask.what,
            before_id: paging::decode::<i64>(page.cursor)?,
            limit: limit + 1,
        };
        let items = self.store.list_reads(&query).await?;
        Ok(Page::cut(items, limit, |e| e.id))
    }
}
