//! The consent gate within one process (no Redis configured).

use super::{Allowed, ConsentGate, Lookup, Ticket};
use crate::people::PersonId;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

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
