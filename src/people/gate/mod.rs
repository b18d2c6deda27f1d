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

mod redis;
mod twin;

pub use redis::RedisGate;
pub use twin::InProcessGate;

use super::PersonId;
use async_trait::async_trait;
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

    pub(super) fn encode(self) -> &'static str {
        match (self.location, self.personalization) {
            (true, true) => "11",
            (true, false) => "10",
            (false, true) => "01",
            (false, false) => "00",
        }
    }

    /// Reads an entry's state; `None` for a change mark or a fill ticket.
    pub(crate) fn decode(s: &str) -> Option<Allowed> {
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
pub struct Ticket(pub(super) String);

impl Ticket {
    pub(super) fn new() -> Self {
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

/// The mark of a change in progress.
pub(super) const CHANGING: &str = "?";

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
