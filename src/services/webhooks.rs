//! Brands' webhook endpoints: register (SSRF rules checked, the secret shown once), list,
//! read, delete, rotate the secret (the old one keeps signing for a grace period), list
//! attempts and replay one. Sending is [`super::webhook_sender`].

use super::webhook_dns::{Lookup, SystemLookup, check_resolves_public};
use super::{BrandGrant, Page, grant, id_path, paging};
use crate::auth::Principal;
use crate::clock::Clock;
use crate::error::{ApiError, FieldError};
use crate::store::Store;
use crate::store::shared::{Change, mint_id};
use crate::webhooks::address::{Target, check_url};
use crate::webhooks::retry::GIVE_UP_AFTER;
use crate::webhooks::signing::new_secret;
use crate::webhooks::{
    AttemptView, DISABLED_BY_BRAND, Endpoint, EndpointStatus, EndpointUpdate, EndpointView,
    EventType, NewEndpoint,
};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// How long the secret before a rotation keeps signing messages.
pub const ROTATION_GRACE: Duration = Duration::hours(24);

/// Endpoints a brand may have.
pub const MAX_ENDPOINTS: usize = 20;

/// Longest URL accepted.
const MAX_URL: usize = 2_048;

/// Webhook endpoints, attempts and replay.
pub struct WebhookService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    allow_loopback_http: bool,
    lookup: Arc<dyn Lookup>,
}

impl WebhookService {
    /// Endpoints kept in `store`; `allow_loopback_http` is the setting of that name.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, allow_loopback_http: bool) -> Self {
        Self {
            store,
            clock,
            allow_loopback_http,
            lookup: Arc::new(SystemLookup),
        }
    }

    /// The same, resolving names with `lookup` when checking where a URL points.
    pub fn resolving(mut self, lookup: Arc<dyn Lookup>) -> Self {
        self.lookup = lookup;
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn grant(
        &self,
        who: &Principal,
        brand: &str,
        write: bool,
    ) -> Result<BrandGrant, ApiError> {
        grant(self.store.as_ref(), who, brand, write).await
    }

    /// Registers an endpoint; the answer carries its secret, the only time it is shown.
    pub async fn create(
        &self,
        who: &Principal,
        brand: &str,
        new: NewEndpoint,
    ) -> Result<EndpointView, ApiError> {
        let brand = self.grant(who, brand, true).await?;
        let mut errors = Vec::new();
        let event_types = event_types(&new.event_types, &mut errors);
        if let Err(why) = self.check_url(&new.url).await {
            errors.push(FieldError::new("/url", why));
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let existing = self.store.endpoints(brand.id().as_str()).await?;
        if existing.len() >= MAX_ENDPOINTS {
            return Err(ApiError::Conflict(format!(
                "a brand may have at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
            )));
        }
        let now = self.now();
        let endpoint = Endpoint::new(
            mint_id(now),
            brand.id().as_str().to_string(),
            new.url,
            event_types,
            now,
        );
        let change =
            audit(who, &brand, &endpoint, now, "create").snapshots(None, Some(snapshot(&endpoint)));
        self.store.create_endpoint(&endpoint, &change).await?;
        Ok(endpoint.view(Some(endpoint.secret.clone())))
    }

    /// The brand's endpoints (no secrets).
    pub async fn list(&self, who: &Principal, brand: &str) -> Result<Vec<EndpointView>, ApiError> {
        let brand = self.grant(who, brand, false).await?;
        let all = self.store.endpoints(brand.id().as_str()).await?;
        Ok(all.iter().map(|e| e.view(None)).collect())
    }

    async fn find(&self, brand: &BrandGrant, id: &str) -> Result<Endpoint, ApiError> {
        let uuid = id_path(id, "webhook endpoint")?;
        self.store
            .endpoint(brand.id().as_str(), uuid)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint `{id}` not found")))
    }

    /// One endpoint (no secret).
    pub async fn get(
        &self,
        who: &Principal,
        brand: &str,
        id: &str,
    ) -> Result<EndpointView, ApiError> {
        let brand = self.grant(who, brand, false).await?;
        Ok(self.find(&brand, id).await?.view(None))
    }

    /// Deletes an endpoint with its waiting messages and attempts.
    pub async fn delete(&self, who: &Principal, brand: &str, id: &str) -> Result<(), ApiError> {
        let brand = self.grant(who, brand, true).await?;
        let found = self.find(&brand, id).await?;
        let change = audit(who, &brand, &found, self.now(), "delete")
            .snapshots(Some(snapshot(&found)), None);
        if !self
            .store
            .delete_endpoint(brand.id().as_str(), found.id, &change)
            .await?
        {
            return Err(ApiError::NotFound(format!(
                "webhook endpoint `{id}` not found"
            )));
        }
        Ok(())
    }

    /// Replaces the URL and event types (checked as on create) and, when `status` is given,
    /// enables or disables the endpoint: enabling clears the failure streak and the reason,
    /// and messages that waited are sent.
    pub async fn update(
        &self,
        who: &Principal,
        brand: &str,
        id: &str,
        change: EndpointUpdate,
    ) -> Result<EndpointView, ApiError> {
        let brand = self.grant(who, brand, true).await?;
        let found = self.find(&brand, id).await?;
        let mut errors = Vec::new();
        let event_types = event_types(&change.event_types, &mut errors);
        if let Err(why) = self.check_url(&change.url).await {
            errors.push(FieldError::new("/url", why));
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let now = self.now();
        let mut next = Endpoint {
            url: change.url,
            event_types,
            updated_at: now,
            ..found.clone()
        };
        // Re-enabling sends, at once, the waiting messages still inside their retry window;
        // older ones keep their schedule (one more attempt, then given up if it fails).
        let mut resume_since = None;
        match change.status {
            Some(EndpointStatus::Active) if found.status != EndpointStatus::Active => {
                next.status = EndpointStatus::Active;
                next.disabled_reason = None;
                next.consecutive_failures = 0;
                next.failing_since = None;
                resume_since = Some(now - GIVE_UP_AFTER);
            }
            Some(EndpointStatus::Disabled) if found.status != EndpointStatus::Disabled => {
                next.status = EndpointStatus::Disabled;
                next.disabled_reason = Some(DISABLED_BY_BRAND.into());
            }
            _ => {}
        }
        let entry = audit(who, &brand, &found, now, "update")
            .snapshots(Some(snapshot(&found)), Some(snapshot(&next)));
        if !self
            .store
            .update_endpoint(&next, &entry, resume_since)
            .await?
        {
            return Err(ApiError::NotFound(format!(
                "webhook endpoint `{id}` not found"
            )));
        }
        Ok(next.view(None))
    }

    /// Enables an endpoint again with its URL and event types unchanged (the console's
    /// button; the API's `PUT` with `status: active` does the same): its failure streak is
    /// cleared and its waiting messages go out.
    pub async fn enable(
        &self,
        who: &Principal,
        brand: &str,
        id: &str,
    ) -> Result<EndpointView, ApiError> {
        let found = self.get(who, brand, id).await?;
        let change = EndpointUpdate {
            url: found.url,
            event_types: found
                .event_types
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            status: Some(EndpointStatus::Active),
        };
        self.update(who, brand, id, change).await
    }

    /// A new secret, shown once; the old one keeps signing for [`ROTATION_GRACE`].
    pub async fn rotate_secret(
        &self,
        who: &Principal,
        brand: &str,
        id: &str,
    ) -> Result<EndpointView, ApiError> {
        let brand = self.grant(who, brand, true).await?;
        let found = self.find(&brand, id).await?;
        let now = self.now();
        let secret = new_secret();
        let after = Endpoint {
            previous_secret_until: Some(now + ROTATION_GRACE),
            updated_at: now,
            ..found.clone()
        };
        // The entry says the secret was rotated and until when the old one signs; it holds
        // no secret.
        let change = audit(who, &brand, &found, now, "rotate-secret")
            .snapshots(Some(snapshot(&found)), Some(snapshot(&after)));
        let rotated = self
            .store
            .rotate_secret(
                brand.id().as_str(),
                found.id,
                &secret,
                now + ROTATION_GRACE,
                &change,
            )
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("webhook endpoint `{id}` not found")))?;
        Ok(rotated.view(Some(secret)))
    }

    /// The endpoint's attempts, newest first.
    pub async fn attempts(
        &self,
        who: &Principal,
        brand: &str,
        id: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<AttemptView>, ApiError> {
        let brand = self.grant(who, brand, false).await?;
        let found = self.find(&brand, id).await?;
        let limit = paging::limit(limit)?;
        let before = paging::decode::<uuid::Uuid>(cursor)?;
        let items = self
            .store
            .attempts(brand.id().as_str(), found.id, before, i64::from(limit) + 1)
            .await?;
        Ok(Page::cut(items, limit, |a| a.id))
    }

    /// Queues the message of one attempt again for its endpoint, due now; it keeps its
    /// `webhook-id`, so a receiver that already has it can tell.
    pub async fn replay(
        &self,
        who: &Principal,
        brand: &str,
        id: &str,
        attempt: &str,
    ) -> Result<(), ApiError> {
        let brand = self.grant(who, brand, true).await?;
        let found = self.find(&brand, id).await?;
        let attempt_id = id_path(attempt, "attempt")?;
        if !self
            .store
            .replay(brand.id().as_str(), found.id, attempt_id, self.now())
            .await?
        {
            return Err(ApiError::NotFound(format!("attempt `{attempt}` not found")));
        }
        Ok(())
    }

    /// The SSRF rules at registration: the URL's shape, then every address its name
    /// resolves to now. (The sender checks the addresses again when it connects.)
    async fn check_url(&self, raw: &str) -> Result<(), String> {
        if raw.len() > MAX_URL {
            return Err(format!("must be at most {MAX_URL} characters"));
        }
        let url = match check_url(raw, self.allow_loopback_http)? {
            Target::Loopback(_) => return Ok(()),
            Target::Named(url) => url,
        };
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(443);
        check_resolves_public(self.lookup.as_ref(), host, port).await
    }
}

/// The audit entry of a change to an endpoint.
fn audit(
    who: &Principal,
    brand: &BrandGrant,
    e: &Endpoint,
    at: DateTime<Utc>,
    action: &'static str,
) -> Change {
    Change::new(
        Some(who),
        at,
        Some(brand.id()),
        "webhook",
        e.id.to_string(),
        action,
    )
}

/// What the audit log keeps of an endpoint: what the brand sees, never a secret.
fn snapshot(e: &Endpoint) -> serde_json::Value {
    serde_json::to_value(e.view(None)).unwrap_or_default()
}

/// The event types named, each known; problems at `/event_types/…`.
fn event_types(names: &[String], errors: &mut Vec<FieldError>) -> Vec<EventType> {
    if names.is_empty() {
        errors.push(FieldError::new(
            "/event_types",
            "name at least one event type",
        ));
    }
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        match EventType::parse(n) {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => errors.push(FieldError::new(
                format!("/event_types/{i}"),
                format!(
                    "unknown event type `{n}`; one of {}",
                    EventType::ALL.map(EventType::as_str).join(", ")
                ),
            )),
        }
    }
    out
}
