//! Deliveries: pages, one delivery, and exports streamed in batches.

use super::{Reader, SupportService, bad};
use crate::domain::BrandId;
use crate::error::ApiError;
use crate::people::{PersonId, check_user_id};
use crate::services::{Page, id_path, paging};
use crate::store::{Store, StoreError};
use crate::support::deliveries::STATUSES;
use crate::support::export::{self, Format};
use crate::support::{Delivery, DeliveryFilter, DeliveryKey, Scope};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt, TryStreamExt, stream};
use std::sync::Arc;
use uuid::Uuid;

/// Rows fetched per query while streaming an export: large enough to amortise the round
/// trip, small enough that memory stays flat for any export size.
const EXPORT_BATCH: u32 = 1_000;

/// The filters of a deliveries list or export, as asked.
#[derive(Debug, Default)]
pub struct DeliveryAsk {
    /// The app `user_id` belongs to (default `default`).
    pub app: Option<String>,
    /// Only this user's deliveries.
    pub user_id: Option<String>,
    /// Only this brand (brand keys: always their own).
    pub brand: Option<String>,
    /// Only this offer.
    pub offer_id: Option<Uuid>,
    /// Only this fence.
    pub fence_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<String>,
    /// Sent at or after.
    pub from: Option<DateTime<Utc>>,
    /// Sent before; not before `from`.
    pub to: Option<DateTime<Utc>>,
}

/// A checked deliveries request: the store filter, and whose data it reads (for the log).
#[derive(Debug)]
pub struct DeliveryRequest {
    filter: DeliveryFilter,
    app: String,
    user_id: Option<String>,
}

impl DeliveryRequest {
    fn subject(&self) -> (Option<&str>, Option<&str>) {
        let user = self.user_id.as_deref();
        (user.map(|_| self.app.as_str()), user)
    }
}

/// The app (default `default`) and, with a user id, the person it names.
fn subject(app: Option<&str>, user: Option<&str>) -> Result<Option<(String, String)>, ApiError> {
    let app = app.unwrap_or(crate::auth::DEFAULT_APP);
    check_user_id(app).map_err(|e| bad("app", e.replace("user_id", "app")))?;
    let Some(user) = user else { return Ok(None) };
    check_user_id(user).map_err(|e| bad("user_id", e))?;
    Ok(Some((app.to_string(), PersonId::of(app, user).to_string())))
}

impl SupportService {
    /// Checks a deliveries query against the reader's scope (admin, support; brand keys
    /// their own brand).
    pub fn delivery_request(
        &self,
        r: &Reader<'_>,
        q: DeliveryAsk,
    ) -> Result<DeliveryRequest, ApiError> {
        let scope = Scope::of(r.who)?;
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
        let filter = DeliveryFilter {
            person: subject(q.app.as_deref(), q.user_id.as_deref())?.map(|(_, p)| p),
            brand,
            offer_id: q.offer_id,
            fence_id: q.fence_id,
            status: q.status,
            from: q.from,
            to: q.to,
        };
        Ok(DeliveryRequest {
            filter,
            app: q
                .app
                .unwrap_or_else(|| crate::auth::DEFAULT_APP.to_string()),
            user_id: q.user_id,
        })
    }

    /// A page of deliveries, newest first.
    pub async fn deliveries(
        &self,
        r: &Reader<'_>,
        req: &DeliveryRequest,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Delivery>, ApiError> {
        let limit = paging::limit(limit)?;
        let after = paging::decode::<DeliveryKey>(cursor)?;
        let items = self
            .store
            .list_deliveries(&req.filter, after, limit + 1)
            .await?;
        let page = Page::cut(items, limit, DeliveryKey::of);
        let (app, user) = req.subject();
        self.log_read(r, "deliveries", app, user).await?;
        Ok(page)
    }

    /// Every matching delivery, as CSV or NDJSON chunks, starting after `cursor`. The read is
    /// logged before the first byte.
    pub async fn export(
        &self,
        r: &Reader<'_>,
        req: DeliveryRequest,
        cursor: Option<&str>,
        limit: Option<u32>,
        format: Format,
    ) -> Result<impl Stream<Item = Result<String, StoreError>> + use<>, ApiError> {
        // The page size is checked even though an export returns every row.
        paging::limit(limit)?;
        let after = paging::decode::<DeliveryKey>(cursor)?;
        let (app, user) = req.subject();
        self.log_read(r, "export", app, user).await?;
        Ok(stream_export(self.store.clone(), req.filter, after, format))
    }

    /// One delivery (admin, support; brand keys their own brand's).
    pub async fn delivery(&self, r: &Reader<'_>, id: &str) -> Result<Delivery, ApiError> {
        let scope = Scope::of(r.who)?;
        let id = id_path(id, "delivery")?;
        let found = self.store.get_delivery(id).await?;
        let d = found
            .filter(|d| scope.sees_brand(Some(&d.brand)))
            .ok_or_else(|| ApiError::NotFound(format!("delivery `{id}` not found")))?;
        self.log_read(r, "delivery", Some(&d.app), Some(&d.user_id))
            .await?;
        Ok(d)
    }
}

/// Streams every matching row in batches over the same keyset, so memory stays flat and rows
/// arriving meanwhile (always newer than the first batch) neither repeat nor shift the export.
fn stream_export(
    store: Arc<dyn Store>,
    f: DeliveryFilter,
    start: Option<DeliveryKey>,
    format: Format,
) -> impl Stream<Item = Result<String, StoreError>> {
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
            Ok::<_, StoreError>(Some((chunk, next)))
        }
    })
    .inspect_err(|e| tracing::error!(error = %e, "delivery export stopped"));
    stream::once(async move { Ok(header) })
        .chain(pages)
        .filter(|chunk| std::future::ready(!chunk.as_ref().is_ok_and(String::is_empty)))
}
