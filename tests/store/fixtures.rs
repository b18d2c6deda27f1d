//! Backends and the records the cases store.

use crate::pg::PgDatabase;
use chrono::{DateTime, Duration, Utc};
use geoffer::audit::{AuditEntry, AuditQuery};
use geoffer::auth::{Principal, Role};
use geoffer::decisions::record::pack_trace;
use geoffer::decisions::{DecisionRecord, DeliveryRecord};
use geoffer::domain::{AccuracyM, BrandId, RadiusM, Timezone};
use geoffer::events::{Channel, Event, EventKind, Purchase};
use geoffer::fences::{FenceDraft, FenceGeometry};
use geoffer::offers::OfferSpec;
use geoffer::people::PersonId;
use geoffer::store::postgres::{PgStore, PoolSettings};
use geoffer::store::sqlite::SqliteStore;
use geoffer::store::{Brand, Store};
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

/// A store under test, with whatever keeps it alive.
pub struct Backend {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _db: Option<PgDatabase>,
}

impl Backend {
    /// The store, as every caller sees it.
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The store, shared (for tasks of its own).
    pub fn shared(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The PostgreSQL database's URL, for a backend on PostgreSQL.
    pub fn pg_url(&self) -> Option<&str> {
        self._db.as_ref().map(|d| d.url.as_str())
    }
}

/// A fresh SQLite store in a temporary file of its own.
pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = SqliteStore::connect(&url).await.expect("store opens");
    Backend {
        store: Arc::new(store),
        _dir: Some(dir),
        _db: None,
    }
}

/// A fresh PostgreSQL store in a database of its own, created for the test on the server
/// at `GEOFFER_TEST_PG_URL` and dropped after it.
pub async fn postgres() -> Backend {
    let db = PgDatabase::create().await;
    let store = PgStore::connect(&db.url, PoolSettings::default())
        .await
        .expect("store opens");
    Backend {
        store: Arc::new(store),
        _dir: None,
        _db: Some(db),
    }
}

/// The time the cases start at: not the machine's, so a store that reads its own clock shows.
pub fn t0() -> DateTime<Utc> {
    "2026-07-14T19:00:00Z".parse().unwrap()
}

/// `t0` plus `mins` minutes.
pub fn at(mins: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(mins)
}

/// An admin key.
pub fn admin() -> Principal {
    Principal {
        key_id: "k-admin".into(),
        role: Role::Admin,
        brand: None,
        app: None,
    }
}

/// A brand's key.
pub fn brand_key(brand: &BrandId) -> Principal {
    Principal {
        key_id: format!("k-{brand}"),
        role: Role::Brand,
        brand: Some(brand.clone()),
        app: None,
    }
}

/// A brand id.
pub fn bid(s: &str) -> BrandId {
    BrandId::parse(s).unwrap()
}

/// Creates brand `id` at `t0`.
pub async fn brand(s: &dyn Store, id: &str) -> BrandId {
    let b = Brand {
        id: bid(id),
        name: format!("{id} Inc"),
        created_at: t0(),
    };
    s.create_brand(&admin(), &b).await.unwrap();
    b.id
}

/// A 100 m circle in New York.
pub fn fence(name: &str, external_id: Option<&str>, tags: &[&str]) -> FenceDraft {
    FenceDraft {
        name: name.into(),
        geometry: FenceGeometry::Point([-73.9857, 40.7484]),
        radius: Some(RadiusM::parse(100.0).unwrap()),
        timezone: Timezone::parse("America/New_York").unwrap(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        external_id: external_id.map(str::to_string),
        max_accuracy: AccuracyM::parse(200.0).unwrap(),
    }
}

/// An offer with the least a spec needs.
pub fn spec(name: &str) -> OfferSpec {
    serde_json::from_value(json!({"name": name, "title": "Cold drinks", "body": "Two for one"}))
        .unwrap()
}

/// The person of a user of the default app.
pub fn person(user: &str) -> PersonId {
    PersonId::of("default", user)
}

/// A "none" decision about `checkin` by `user`.
pub fn decision(checkin: &str, user: &str, at: DateTime<Utc>) -> DecisionRecord {
    DecisionRecord {
        app: "default".into(),
        checkin_id: checkin.into(),
        fingerprint: format!("fp-{checkin}-{user}"),
        person: person(user).to_string(),
        user_id: user.into(),
        at,
        decision: "none",
        reason: Some("no-offer".into()),
        offer_id: None,
        delivery: None,
        response: json!({"decision": "none", "checkin_id": checkin, "user": user}),
        trace: pack_trace(&json!({"fences": [], "checkin": checkin}).to_string()),
        brands: vec![],
        latency_us: 10,
        visit_hooks: Vec::new(),
    }
}

/// A decision that delivered `offer` of `brand` to `user`.
pub fn delivered(
    checkin: &str,
    user: &str,
    brand: &str,
    offer: Uuid,
    at: DateTime<Utc>,
) -> DecisionRecord {
    let id = Uuid::new_v4();
    DecisionRecord {
        decision: "offer",
        reason: None,
        offer_id: Some(offer),
        delivery: Some(DeliveryRecord {
            id,
            device_id: Some("d-1".into()),
            brand: brand.into(),
            offer_id: offer,
            fence_id: Uuid::from_u128(7),
            title: format!("Title {checkin}"),
            body: "Body".into(),
            redemption_code: Some(format!("CODE-{checkin}")),
            expires_at: Some(at + Duration::hours(4)),
            budget_exhausted: None,
        }),
        response: json!({"decision": "offer", "checkin_id": checkin}),
        brands: vec![brand.to_string()],
        ..decision(checkin, user, at)
    }
}

/// The delivery id of a delivered decision.
pub fn delivery_id(d: &DecisionRecord) -> Uuid {
    d.delivery.as_ref().unwrap().id
}

/// An event by `user` with id `id`.
pub fn event(id: &str, user: &str, kind: EventKind, at: DateTime<Utc>) -> Event {
    Event {
        event_id: id.into(),
        user_id: user.into(),
        occurred_at: at,
        kind,
    }
}

/// A purchase from `brand`.
pub fn purchase(brand: &str, sku: &str) -> EventKind {
    EventKind::Purchase(Purchase {
        brand: bid(brand),
        sku: Some(sku.into()),
        category: Some("drinks".into()),
        amount: Some(3.5),
        currency: Some("USD".into()),
        channel: Channel::InStore,
        fence_id: None,
    })
}

/// The whole timeline of a user of the default app, as support sees it.
pub fn timeline_of(user: &str) -> geoffer::decisions::TimelineQuery {
    geoffer::decisions::TimelineQuery {
        person: person(user).to_string(),
        brand: None,
        from: None,
        to: None,
        after: None,
        limit: 100,
    }
}

/// The newest `limit` entries of the change log, of one brand or all.
pub async fn changes(s: &dyn Store, brand: Option<&str>, limit: u32) -> Vec<AuditEntry> {
    let q = AuditQuery {
        brand: brand.map(str::to_string),
        limit,
        ..Default::default()
    };
    s.list_changes(&q).await.unwrap()
}

/// The newest entry of the change log.
pub async fn last_change(s: &dyn Store) -> AuditEntry {
    changes(s, None, 1).await.remove(0)
}
