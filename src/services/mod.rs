//! Use cases: the one layer that writes to the store and publishes on the change feed.
//!
//! Handlers (`api/`), the demo loader and the console (`console/`) parse their input, call a
//! service here and turn its result into an answer, so the rules — validation, the consent
//! protocol, event ingestion, the read log — exist once. Each service is a plain struct of
//! the handles it needs, built in `startup.rs` and held in [`AppState`](crate::state::AppState).
//! Every service reads time from its [`Clock`](crate::clock::Clock) through one method
//! named `now`, so audit times and `received_at` follow the test clock.

pub mod access;
pub mod backtest;
pub mod catalog;
pub mod events;
pub mod health;
pub mod paging;
pub mod people;
pub mod retention;
pub mod sessions;
pub mod support;
pub mod trial;
pub mod weather_log;
pub mod webhook_dns;
pub mod webhook_sender;
pub mod webhooks;

use crate::auth::Principal;
use crate::domain::BrandId;
use crate::error::ApiError;
use crate::store::{Store, StoreError};
use std::sync::Arc;

/// Seeded ids for a world a simulation builds (`geoffer simulate`).
pub use crate::store::shared::with_seeded_ids;
pub use access::AccessService;
pub use catalog::CatalogService;
pub use events::EventService;
pub use health::HealthService;
pub use people::PeopleService;
pub use sessions::SessionService;
pub use support::SupportService;
pub use trial::TrialService;
pub use webhook_sender::WebhookSender;
pub use webhooks::WebhookService;

/// Every use case, cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// Key verification.
    pub access: Arc<AccessService>,
    /// Brands, keys, fences and offers.
    pub catalog: Arc<CatalogService>,
    /// Consent, erasure.
    pub people: Arc<PeopleService>,
    /// Feedback events.
    pub events: Arc<EventService>,
    /// Support reads and the read log.
    pub support: Arc<SupportService>,
    /// Readiness probes.
    pub health: Arc<HealthService>,
    /// Console sign-in and sessions.
    pub sessions: Arc<SessionService>,
    /// Test decisions ("Try it") through the real engine.
    pub trial: Arc<TrialService>,
    /// Backtests of offers on recorded decisions.
    pub backtest: Arc<backtest::BacktestService>,
    /// Brands' webhook endpoints, attempts and replay.
    pub webhooks: Arc<WebhookService>,
    /// Sends due webhook messages (the background task calls it; tests may too).
    pub webhook_sender: Arc<WebhookSender>,
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(msg) => ApiError::Conflict(msg),
            StoreError::NotFound(msg) => ApiError::NotFound(msg),
            StoreError::Unavailable(e) => ApiError::unavailable_store(&e),
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

/// One page of a list, newest or oldest first as the list says.
#[derive(Debug)]
pub struct Page<T> {
    /// The items, at most the page size.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Cuts `items`, fetched with `limit + 1`, to `limit`; the extra row says more follow,
    /// and the next page starts after the last kept item's `key`.
    pub fn cut<K: ToString>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> K) -> Self {
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = more
            .then(|| items.last().map(|x| paging::encode(&key(x).to_string())))
            .flatten();
        Self { items, next_cursor }
    }

    /// The same page with each item turned into `U`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// A brand the caller was found allowed to read (and, for writes, to change); only services
/// make one, so holding it is the proof that the check ran.
#[derive(Debug, Clone)]
pub struct BrandGrant(BrandId);

impl BrandGrant {
    /// The brand.
    pub fn id(&self) -> &BrandId {
        &self.0
    }
}

/// Path segments arrive as text; a malformed brand or id simply names nothing (404), which
/// also keeps a brand key from learning anything about the shape of other brands' ids.
pub fn brand_path(s: &str) -> Result<BrandId, ApiError> {
    BrandId::parse(s).map_err(|_| ApiError::NotFound(format!("brand `{s}` not found")))
}

/// Parses a resource id from the path (see [`brand_path`]).
pub fn id_path(s: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s).map_err(|_| ApiError::NotFound(format!("{what} `{s}` not found")))
}

/// The brand named by `raw` when it exists and `who` may read it (or, with `write`, change
/// it); 404 otherwise.
pub(crate) async fn grant(
    store: &dyn Store,
    who: &Principal,
    raw: &str,
    write: bool,
) -> Result<BrandGrant, ApiError> {
    let brand = brand_path(raw)?;
    if write {
        who.can_write_brand(&brand)?
    } else {
        who.can_read_brand(&brand)?
    }
    match store.get_brand(&brand).await? {
        Some(_) => Ok(BrandGrant(brand)),
        None => Err(ApiError::NotFound(format!("brand `{brand}` not found"))),
    }
}
