//! The consent gate of the check-in path: what a person allows, read without a store round
//! trip.
//!
//! Every check-in starts with consent. Reading it from SQLite is a thread hand-off to the
//! store's worker per check-in, which was the largest cost of a check-in that matched no
//! fence (most of them). The store stays the record; the gate is a copy beside the rate
//! limiter (Redis, shared by every replica, or the in-process twin) that is never trusted
//! while it could be stale:
//!
//! 1. a consent change first marks the person *changing* in the gate (if that fails, the
//!    change is refused with 503 and nothing changes);
//! 2. then commits to the store;
//! 3. then publishes the committed state to the gate (an erasure deletes the entry).
//!
//! A reader that finds nothing takes a fill ticket (a unique mark, set only where nothing
//! is), asks the store, and fills the gate only if its ticket is still there. A change that
//! starts meanwhile replaces the ticket, so a fill that raced with a change never lands.
//! Readers that find a mark ask the store. If step 3 fails, the mark expires after
//! [`CHANGING_TTL`]; when Redis cannot be asked, readers ask the store.

use super::PersonId;
use crate::redis_conns::{CallError, Calls, PerThread};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// How long a "changing" mark holds when the change never publishes its result.
pub const CHANGING_TTL: Duration = Duration::from_secs(60);
/// How long a published or filled state is kept; a later check-in refills it from the store.
pub const KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

/// What the check-in path needs to know of a person's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    /// Location processing (check-ins).
    pub location: bool,
    /// Habits, follows, interests, purchases.
    pub personalization: bool,
}

impl From<&super::Consent> for Allowed {
    fn from(c: &super::Consent) -> Self {
        Allowed {
            location: c.location,
            personalization: c.personalization,
        }
    }
}

impl Allowed {
    /// Nothing allowed: never answered, or erased.
    pub const NOTHING: Allowed = Allowed {
        location: false,
        personalization: false,
    };

    fn encode(self) -> &'static str {
        match (self.location, self.personalization) {
            (true, true) => "11",
            (true, false) => "10",
            (false, true) => "01",
            (false, false) => "00",
        }
    }

    fn decode(s: &str) -> Option<Allowed> {
        let b = s.as_bytes();
        match b {
            [l @ (b'0' | b'1'), p @ (b'0' | b'1')] => Some(Allowed {
                location: *l == b'1',
                personalization: *p == b'1',
            }),
            _ => None,
        }
    }
}

/// What the gate knows of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Their consent.
    Known(Allowed),
    /// Ask the store; with a ticket, the answer may be filled in.
    Ask(Option<Ticket>),
}

/// The right to fill one person's entry, if nothing changed it meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket(String);

impl Ticket {
    fn new() -> Self {
        Self(format!("r:{}", uuid::Uuid::new_v4().simple()))
    }
}

/// The gate: a copy of consent that readers may trust, and the protocol that keeps it so.
#[async_trait]
pub trait ConsentGate: Send + Sync + 'static {
    /// The person's consent, or what to do to learn it.
    async fn get(&self, person: &PersonId) -> Lookup;
    /// Fills what the store said, if the ticket is still the entry.
    async fn fill(&self, person: &PersonId, ticket: Ticket, allowed: Allowed);
    /// Step 1 of a change: from now on readers ask the store. An error refuses the change.
    async fn begin_change(&self, person: &PersonId) -> Result<(), String>;
    /// Step 3 of a change: the committed state, or `None` when the person was erased.
    async fn publish(&self, person: &PersonId, allowed: Option<Allowed>);
}

const CHANGING: &str = "?";

/// Sets the entry to the filled state only if it still holds the reader's ticket.
static FILL: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
           return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end return false",
    )
});

/// The gate in Redis, under the person's hash tag: `<prefix>{u:<person>}:consent`.
pub struct RedisGate {
    conns: Arc<PerThread>,
    prefix: String,
    calls: Calls,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RedisGate {
    /// Uses connections shared with habits; every call is bounded by `timeout`.
    pub fn new(conns: Arc<PerThread>, prefix: &str, timeout: Duration) -> Self {
        Self {
            conns,
            prefix: prefix.to_string(),
            calls: Calls::new(timeout),
        }
    }

    /// Bounds and counts calls with `calls` (shared, so their metrics are exported once).
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    fn key(&self, person: &PersonId) -> String {
        format!("{}{{u:{}}}:consent", self.prefix, person.as_str())
    }

    /// Runs one command within the gate's time budget (the connection is taken first).
    async fn run<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T, String> {
        let mut conn = self.conns.get().await;
        self.calls
            .bounded(op, cmd.query_async::<T>(&mut conn))
            .await
            .map_err(|e| match e {
                CallError::Failed(e) => e.to_string(),
                CallError::Timeout(after) => format!("no answer within {after:?}"),
            })
    }
}

#[async_trait]
impl ConsentGate for RedisGate {
    async fn get(&self, person: &PersonId) -> Lookup {
        let key = self.key(person);
        match self
            .run::<Option<String>>("consent_get", redis::cmd("GET").arg(&key))
            .await
        {
            Ok(Some(v)) => Allowed::decode(&v).map_or(Lookup::Ask(None), Lookup::Known),
            Ok(None) => {
                let ticket = Ticket::new();
                let mut set = redis::cmd("SET");
                set.arg(&key)
                    .arg(&ticket.0)
                    .arg("PX")
                    .arg(ms(CHANGING_TTL))
                    .arg("NX");
                match self.run::<Option<String>>("consent_ticket", &set).await {
                    Ok(Some(_)) => Lookup::Ask(Some(ticket)),
                    _ => Lookup::Ask(None),
                }
            }
            // A mark, or Redis unavailable: the store decides.
            Err(_) => Lookup::Ask(None),
        }
    }

    async fn fill(&self, person: &PersonId, ticket: Ticket, allowed: Allowed) {
        let mut conn = self.conns.get().await;
        let mut fill = FILL.prepare_invoke();
        fill.key(self.key(person))
            .arg(&ticket.0)
            .arg(allowed.encode())
            .arg(ms(KEEP));
        let call = fill.invoke_async::<Option<String>>(&mut conn);
        if let Err(e) = self.calls.bounded("consent_fill", call).await {
            tracing::debug!(error = %e, "consent gate: fill failed (the store keeps answering)");
        }
    }

    async fn begin_change(&self, person: &PersonId) -> Result<(), String> {
        let mut set = redis::cmd("SET");
        set.arg(self.key(person))
            .arg(CHANGING)
            .arg("PX")
            .arg(ms(CHANGING_TTL));
        self.run::<Option<String>>("consent_begin_change", &set)
            .await
            .map(drop)
    }

    async fn publish(&self, person: &PersonId, allowed: Option<Allowed>) {
        let key = self.key(person);
        let result = match allowed {
            Some(a) => {
                let mut set = redis::cmd("SET");
                set.arg(&key).arg(a.encode()).arg("PX").arg(ms(KEEP));
                self.run::<Option<String>>("consent_publish", &set)
                    .await
                    .map(drop)
            }
            None => self
                .run::<i64>("consent_publish", redis::cmd("DEL").arg(&key))
                .await
                .map(drop),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "consent gate: publishing a change failed; readers ask the store until the mark expires");
        }
    }
}

/// Most people kept by the in-process gate; past it the gate starts over (readers then ask
/// the store and refill it), which bounds memory whatever the number of people.
const MAX_PEOPLE: usize = 1_000_000;

/// An entry of the in-process gate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Known(Allowed),
    Changing,
    Filling(String),
}

/// The gate within one process (no Redis configured): the same protocol over a map. A
/// change whose commit failed leaves its mark, and that person is then read from the store.
#[derive(Default)]
pub struct InProcessGate {
    people: Mutex<HashMap<String, Entry>>,
}

impl InProcessGate {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        f(&mut self
            .people
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

#[async_trait]
impl ConsentGate for InProcessGate {
    async fn get(&self, person: &PersonId) -> Lookup {
        self.with(|m| match m.get(person.as_str()) {
            Some(Entry::Known(a)) => Lookup::Known(*a),
            Some(_) => Lookup::Ask(None),
            None => {
                if m.len() >= MAX_PEOPLE {
                    m.retain(|_, e| *e == Entry::Changing);
                }
                let ticket = Ticket::new();
                m.insert(
                    person.as_str().to_string(),
                    Entry::Filling(ticket.0.clone()),
                );
                Lookup::Ask(Some(ticket))
            }
        })
    }

    async fn fill(&self, person: &PersonId, ticket: Ticket, allowed: Allowed) {
        self.with(|m| {
            if let Some(e) = m.get_mut(person.as_str())
                && *e == Entry::Filling(ticket.0)
            {
                *e = Entry::Known(allowed);
            }
        });
    }

    async fn begin_change(&self, person: &PersonId) -> Result<(), String> {
        self.with(|m| m.insert(person.as_str().to_string(), Entry::Changing));
        Ok(())
    }

    async fn publish(&self, person: &PersonId, allowed: Option<Allowed>) {
        self.with(|m| match allowed {
            Some(a) => m.insert(person.as_str().to_string(), Entry::Known(a)),
            None => m.remove(person.as_str()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_and_marks_read_as_unknown() {
        for l in [false, true] {
            for p in [false, true] {
                let a = Allowed {
                    location: l,
                    personalization: p,
                };
                assert_eq!(Allowed::decode(a.encode()), Some(a));
            }
        }
        assert_eq!(Allowed::decode(CHANGING), None);
        assert_eq!(Allowed::decode(&Ticket::new().0), None);
    }

    #[tokio::test]
    async fn in_process_a_fill_that_raced_with_a_change_never_lands() {
        let gate = InProcessGate::default();
        let p = PersonId::of("app", "u");
        let old = Allowed {
            location: true,
            personalization: true,
        };
        let Lookup::Ask(Some(ticket)) = gate.get(&p).await else {
            panic!("an empty gate hands out a fill ticket");
        };
        // The reader read the store; a withdrawal starts before its fill arrives.
        gate.begin_change(&p).await.expect("begin");
        gate.fill(&p, ticket, old).await;
        assert_eq!(gate.get(&p).await, Lookup::Ask(None), "still changing");
        gate.publish(&p, Some(Allowed::NOTHING)).await;
        assert_eq!(gate.get(&p).await, Lookup::Known(Allowed::NOTHING));
        // An erasure forgets the entry; the next reader fills from the store again.
        gate.publish(&p, None).await;
        assert!(matches!(gate.get(&p).await, Lookup::Ask(Some(_))));
    }
}
