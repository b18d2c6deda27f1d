//! Rules every backend shares, with no database in them: minting ids from the time passed
//! in, the audit entry (and its before/after snapshots) of each kind of change, how a fence
//! import or an edit makes the next version, the dedupe of retries within one decision
//! batch, what each level of erasure removes, and the day a time counts on. A backend only
//! runs the statements.
//!
//! Long (about 350 lines with its tests) because it is the one home of these rules; each is short.

use super::{Brand, Erase, Prior, Upserted};
use crate::auth::{ApiKeyRecord, Principal};
use crate::decisions::DecisionRecord;
use crate::domain::BrandId;
use crate::fences::{Fence, FenceDraft};
use crate::offers::results::DayResults;
use crate::offers::{Offer, OfferSpec};
use crate::webhooks::Endpoint;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::{Timestamp, Uuid};

/// A process-wide sequence below each id's timestamp: ids minted in the same millisecond (a
/// fence import, or a test clock standing still) sort in minting order, while the timestamp
/// stays exactly the time passed in (uuid's own `ContextV7` would carry a later time forward
/// when a test clock moves back). It starts at a random point in the lower half of its range,
/// so two processes minting in the same millisecond (replicas on one database) do not share
/// sequence values as well, and a process never wraps it.
static SEQUENCE: std::sync::LazyLock<AtomicU64> = std::sync::LazyLock::new(|| {
    AtomicU64::new(rand::random::<u64>() & ((1 << (SEQUENCE_BITS - 1)) - 1))
});

/// Bits of [`SEQUENCE`] in an id; the other 32 random bits keep ids unguessable.
const SEQUENCE_BITS: u8 = 42;

/// Milliseconds in a UTC day: stores count `at / DAY_MS` as the day of a time in ms.
pub const DAY_MS: i64 = 86_400_000;

/// One day's counts as a store reads them: the day (days since 1970-01-01, UTC) and the
/// deliveries, opens, dismissals, redemptions and conversions on it.
pub fn day_results(day: i64, counts: [i64; 5]) -> DayResults {
    let n = |i: usize| counts[i].max(0) as u64;
    DayResults {
        date: DateTime::from_timestamp(day * (DAY_MS / 1000), 0)
            .unwrap_or_default()
            .date_naive(),
        deliveries: n(0),
        opens: n(1),
        dismissals: n(2),
        redemptions: n(3),
        conversions: n(4),
    }
}

tokio::task_local! {
    /// Within [`with_seeded_ids`]: the generator ids draw their random bits from, and a count.
    static SEEDED: std::cell::RefCell<(rand::rngs::StdRng, u16)>;
}

/// Runs `f` with every id it mints (through [`mint_id`], on this task) drawn from a
/// generator seeded with `seed`, so a simulation that builds the same world gets the same
/// ids — and so the same holdouts and tie-breaks (`geoffer simulate`). Outside it, ids stay
/// unguessable.
pub async fn with_seeded_ids<F: std::future::Future>(seed: u64, f: F) -> F::Output {
    use rand::SeedableRng;
    let rng = rand::rngs::StdRng::seed_from_u64(seed);
    SEEDED.scope(std::cell::RefCell::new((rng, 0)), f).await
}

/// A new id (UUIDv7) whose timestamp is `at`, the caller's time, not the machine's.
pub fn mint_id(at: DateTime<Utc>) -> Uuid {
    if let Ok(id) = SEEDED.try_with(|s| {
        use rand::RngExt;
        let (rng, n) = &mut *s.borrow_mut();
        *n = n.wrapping_add(1);
        let mut bytes = [0u8; 10];
        bytes[..2].copy_from_slice(&n.to_be_bytes());
        bytes[2..].copy_from_slice(&rng.random::<u64>().to_be_bytes());
        let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
    }) {
        return id;
    }
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    let n = SEQUENCE.fetch_add(1, Ordering::Relaxed) & ((1 << SEQUENCE_BITS) - 1);
    Uuid::new_v7(Timestamp::from_unix_time(
        secs,
        at.timestamp_subsec_nanos(),
        u128::from(n),
        SEQUENCE_BITS,
    ))
}

/// One entry of the admin change log, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// When the change was made (the caller's time).
    pub at: DateTime<Utc>,
    /// The acting key's public id (`cli` for the command line).
    pub key_id: String,
    /// The acting key's role.
    pub role: String,
    /// The brand the entity belongs to.
    pub brand: Option<String>,
    /// `brand`, `key`, `geofence` or `offer`.
    pub entity: &'static str,
    /// The entity's id.
    pub entity_id: String,
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// Snapshot before the change.
    pub before: Option<Value>,
    /// Snapshot after the change.
    pub after: Option<Value>,
}

/// The `key_id` and `role` of changes geoffer makes by itself (an endpoint disabled for
/// failing), in the audit log beside the keys' own.
pub const SYSTEM: &str = "system";

impl Change {
    /// A change of `entity` by `actor` (`None`: the command line) at `at`, without snapshots.
    pub fn new(
        actor: Option<&Principal>,
        at: DateTime<Utc>,
        brand: Option<&BrandId>,
        entity: &'static str,
        entity_id: String,
        action: &'static str,
    ) -> Self {
        let (key_id, role) =
            actor.map_or(("cli", "admin"), |a| (a.key_id.as_str(), a.role.as_str()));
        Self {
            at,
            key_id: key_id.to_string(),
            role: role.to_string(),
            brand: brand.map(|b| b.as_str().to_string()),
            entity,
            entity_id,
            action,
            before: None,
            after: None,
        }
    }

    /// The same change with its snapshots.
    pub fn snapshots(mut self, before: Option<Value>, after: Option<Value>) -> Self {
        self.before = before;
        self.after = after;
        self
    }

    /// A brand created, at its `created_at`.
    pub fn brand_created(actor: &Principal, brand: &Brand) -> Self {
        Self::new(
            Some(actor),
            brand.created_at,
            Some(&brand.id),
            "brand",
            brand.id.to_string(),
            "create",
        )
        .snapshots(None, serde_json::to_value(brand).ok())
    }

    /// Geoffer itself (`key_id` and `role` both `system`) disabled a webhook endpoint that
    /// kept failing, at `after.updated_at`: the snapshots are what the brand's `GET` shows,
    /// with the reason, the failed attempts in a row and since when; never a secret.
    pub fn endpoint_disabled(before: &Endpoint, after: &Endpoint) -> Self {
        Self {
            at: after.updated_at,
            key_id: SYSTEM.to_string(),
            role: SYSTEM.to_string(),
            brand: Some(after.brand.clone()),
            entity: "webhook",
            entity_id: after.id.to_string(),
            action: "disable",
            before: serde_json::to_value(before.view(None)).ok(),
            after: serde_json::to_value(after.view(None)).ok(),
        }
    }

    /// A key created, at its `created_at`. The snapshot leaves the secret's hash out.
    pub fn key_created(actor: Option<&Principal>, key: &ApiKeyRecord) -> Self {
        let after = serde_json::json!({ "id": key.id, "role": key.role, "brand": key.brand, "app": key.app });
        Self::new(
            actor,
            key.created_at,
            key.brand.as_ref(),
            "key",
            key.id.clone(),
            "create",
        )
        .snapshots(None, Some(after))
    }

    /// A fence created, replaced or deleted: `before`/`after` are the fence as GeoJSON.
    pub fn fence(
        actor: &Principal,
        at: DateTime<Utc>,
        before: Option<&Fence>,
        after: Option<&Fence>,
    ) -> Self {
        let (action, f) = action_of(before, after);
        Self::new(
            Some(actor),
            at,
            Some(&f.brand),
            "geofence",
            f.id.to_string(),
            action,
        )
        .snapshots(before.map(fence_snapshot), after.map(fence_snapshot))
    }

    /// An offer created, changed or retired: `before`/`after` are the offer as the API shows it.
    pub fn offer(
        actor: &Principal,
        at: DateTime<Utc>,
        before: Option<&Offer>,
        after: Option<&Offer>,
    ) -> Self {
        let (action, o) = action_of(before, after);
        Self::new(
            Some(actor),
            at,
            Some(&o.brand),
            "offer",
            o.id.to_string(),
            action,
        )
        .snapshots(before.map(offer_snapshot), after.map(offer_snapshot))
    }
}

fn action_of<'a, T>(before: Option<&'a T>, after: Option<&'a T>) -> (&'static str, &'a T) {
    match (before, after) {
        (None, Some(a)) => ("create", a),
        (Some(_), Some(a)) => ("update", a),
        (Some(b), None) => ("delete", b),
        (None, None) => unreachable!("a change has a before or an after"),
    }
}

/// A fence as the audit log keeps it: its GeoJSON feature.
pub fn fence_snapshot(f: &Fence) -> Value {
    serde_json::to_value(f.to_feature()).unwrap_or_default()
}

/// An offer as the audit log keeps it: its API view.
pub fn offer_snapshot(o: &Offer) -> Value {
    serde_json::to_value(o.to_view()).unwrap_or_default()
}

/// The fences an import writes, and the stored fences they replace.
#[derive(Debug, Default)]
pub struct FenceImport {
    /// Every draft as the fence it becomes, in draft order.
    pub fences: Vec<(Fence, Upserted)>,
    /// The stored fences replaced (same brand and `external_id`), to delete first.
    pub replaced: Vec<Fence>,
}

impl FenceImport {
    /// The audit entries of the import, one per fence.
    pub fn changes(&self, actor: &Principal, at: DateTime<Utc>) -> Vec<Change> {
        let before: HashMap<Uuid, &Fence> = self.replaced.iter().map(|f| (f.id, f)).collect();
        self.fences
            .iter()
            .map(|(f, _)| Change::fence(actor, at, before.get(&f.id).copied(), Some(f)))
            .collect()
    }
}

/// Plans an import at `now`: a draft whose `external_id` is in `existing` (the brand's stored
/// fences by external id; empty unless upserting) replaces that fence, keeping its id and
/// creation time; every other draft is a new fence with a new id.
pub fn plan_import(
    brand: &BrandId,
    drafts: Vec<FenceDraft>,
    existing: &HashMap<String, Fence>,
    now: DateTime<Utc>,
) -> FenceImport {
    let mut plan = FenceImport::default();
    for draft in drafts {
        match draft.external_id.as_ref().and_then(|e| existing.get(e)) {
            Some(old) => {
                plan.replaced.push(old.clone());
                plan.fences
                    .push((next_fence(old, draft, now), Upserted::Updated));
            }
            None => {
                let fence = Fence {
                    id: mint_id(now),
                    brand: brand.clone(),
                    draft,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                };
                plan.fences.push((fence, Upserted::Created));
            }
        }
    }
    plan
}

/// The next version of a fence: same id, brand and creation time.
pub fn next_fence(old: &Fence, draft: FenceDraft, now: DateTime<Utc>) -> Fence {
    Fence {
        draft,
        updated_at: now,
        version: old.version + 1,
        ..old.clone()
    }
}

/// A new offer of `brand`, created at `now`.
pub fn new_offer(brand: &BrandId, spec: OfferSpec, now: DateTime<Utc>) -> Offer {
    Offer {
        id: mint_id(now),
        brand: brand.clone(),
        spec,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// The next version of an offer: same id, brand and creation time.
pub fn next_offer(old: &Offer, spec: OfferSpec, now: DateTime<Utc>) -> Offer {
    Offer {
        spec,
        updated_at: now,
        version: old.version + 1,
        ..old.clone()
    }
}

/// The retries within one decision batch: a decision whose (app, check-in) came earlier in
/// the batch gets that one as its prior; the first of each gets `None` (it is for the store
/// to say whether it was recorded before).
pub fn priors_within(batch: &[DecisionRecord]) -> Vec<Option<Prior>> {
    let mut first: HashMap<(&str, &str), &DecisionRecord> = HashMap::new();
    batch
        .iter()
        .map(
            |d| match first.get(&(d.app.as_str(), d.checkin_id.as_str())) {
                Some(earlier) => Some(Prior {
                    user_id: earlier.user_id.clone(),
                    fingerprint: Some(earlier.fingerprint.clone()),
                    response: earlier.response.clone(),
                }),
                None => {
                    first.insert((&d.app, &d.checkin_id), d);
                    None
                }
            },
        )
        .collect()
}

/// What an erasure removes, level by level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErasePlan {
    /// Follows, interests, traits and purchases (always).
    pub profile: bool,
    /// Only the profile's own events (purchase, follow, unfollow, traits); `history`
    /// removes every event.
    pub profile_events: bool,
    /// Events, decisions (and their brands), webhook messages about the person (outbox rows
    /// and their attempts, sent or not); the read log's mentions of the person redacted;
    /// deliveries kept as de-identified counts (person, user and device replaced, the
    /// check-in id replaced by a random one).
    pub history: bool,
    /// The consent record and its history.
    pub consents: bool,
}

impl ErasePlan {
    /// The plan of one level.
    pub fn of(what: Erase) -> Self {
        Self {
            profile: true,
            profile_events: what == Erase::Profile,
            history: what != Erase::Profile,
            consents: what == Erase::Everything,
        }
    }
}

/// What an erased person, user or read subject is replaced with.
pub const ERASED: &str = "erased";

/// The check-in id a de-identified delivery gets instead of its own: random, so it links to
/// nothing.
pub fn erased_checkin_id() -> String {
    Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn seeded_ids_repeat_for_a_seed_and_keep_their_time() {
        let at = DateTime::from_timestamp_millis(1_780_000_000_000).unwrap();
        let mint = || async move { (0..50).map(|_| mint_id(at)).collect::<Vec<_>>() };
        let a = with_seeded_ids(7, mint()).await;
        assert_eq!(a, with_seeded_ids(7, mint()).await);
        assert_ne!(a, with_seeded_ids(8, mint()).await);
        assert_ne!(a, mint().await, "outside a seeded scope ids stay random");
        let distinct: std::collections::BTreeSet<_> = a.iter().collect();
        assert_eq!(distinct.len(), 50);
        let (secs, _) = a[0].get_timestamp().unwrap().to_unix();
        assert_eq!(secs as i64, at.timestamp());
    }

    #[test]
    fn ids_minted_at_one_instant_carry_it_and_sort_in_minting_order() {
        let at: DateTime<Utc> = "2026-07-14T19:00:00.123Z".parse().unwrap();
        let ids: Vec<Uuid> = (0..100).map(|_| mint_id(at)).collect();
        let (secs, nanos) = ids[0].get_timestamp().unwrap().to_unix();
        assert_eq!((secs as i64, nanos / 1_000_000), (at.timestamp(), 123));
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        // A clock that moved back: the id still carries exactly the time passed in.
        let earlier = at - chrono::Duration::hours(1);
        let (secs, _) = mint_id(earlier).get_timestamp().unwrap().to_unix();
        assert_eq!(secs as i64, earlier.timestamp());
    }

    #[test]
    fn each_erasure_level_removes_more_than_the_one_before() {
        let p = ErasePlan::of(Erase::Profile);
        assert!(p.profile && p.profile_events && !p.history && !p.consents);
        let h = ErasePlan::of(Erase::History);
        assert!(h.profile && !h.profile_events && h.history && !h.consents);
        let e = ErasePlan::of(Erase::Everything);
        assert!(e.profile && e.history && e.consents);
    }
}
