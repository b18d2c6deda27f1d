//! Per-cell answer cache with single-flight bookkeeping.
//!
//! The cached answers and the in-flight upstream calls live in one table under
//! one lock, so "not cached" and "nobody is fetching it" are decided together:
//! no window exists in which two callers both start a fetch for one cell.

use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

use super::grid::GridCell;
use super::{Weather, WeatherLookup};

/// Receiving end of an in-flight fetch: `None` until the fetch completes.
pub(crate) type Pending = watch::Receiver<Option<WeatherLookup>>;

/// Sending end handed to the task that performs the fetch.
pub(crate) type Completion = watch::Sender<Option<WeatherLookup>>;

/// What the table knows about a cell right now.
#[derive(Debug)]
pub(crate) enum Slot {
    /// A successful answer within its TTL.
    Fresh(Weather),
    /// A recent failure within the (short) negative TTL; holds the reason.
    Negative(String),
    /// Someone is already fetching this cell: wait on it.
    Pending(Pending),
    /// Nothing known and nobody fetching: the caller should fetch.
    Miss,
}

#[derive(Debug)]
enum Answer {
    Known(Weather),
    Failed(String),
}

#[derive(Debug)]
struct Entry {
    answer: Answer,
    stored_at: Instant,
    expires_at: Instant,
}

/// Bounded TTL cache keyed by grid cell, plus the cells being fetched.
#[derive(Debug)]
pub(crate) struct CellTable {
    ttl: Duration,
    negative_ttl: Duration,
    max_entries: usize,
    entries: HashMap<GridCell, Entry>,
    pending: HashMap<GridCell, Pending>,
}

impl CellTable {
    /// An empty table; `max_entries` is at least 1.
    pub(crate) fn new(ttl: Duration, negative_ttl: Duration, max_entries: usize) -> Self {
        CellTable {
            ttl,
            negative_ttl,
            max_entries: max_entries.max(1),
            entries: HashMap::new(),
            pending: HashMap::new(),
        }
    }

    /// Looks a cell up at `now`, dropping an expired entry on the way.
    pub(crate) fn lookup(&mut self, cell: GridCell, now: Instant) -> Slot {
        match self.entries.get(&cell) {
            Some(e) if now < e.expires_at => {
                return match &e.answer {
                    Answer::Known(w) => Slot::Fresh(w.clone()),
                    Answer::Failed(r) => Slot::Negative(r.clone()),
                };
            }
            Some(_) => {
                self.entries.remove(&cell);
            }
            None => {}
        }
        match self.pending.get(&cell) {
            Some(rx) => Slot::Pending(rx.clone()),
            None => Slot::Miss,
        }
    }

    /// Marks `cell` as being fetched; later lookups get [`Slot::Pending`]
    /// until [`CellTable::complete`] or [`CellTable::abandon`].
    pub(crate) fn begin(&mut self, cell: GridCell) -> (Completion, Pending) {
        let (tx, rx) = watch::channel(None);
        self.pending.insert(cell, rx.clone());
        (tx, rx)
    }

    /// Stores the outcome of a fetch and clears the pending mark; returns
    /// how many entries were evicted to make room.
    ///
    /// Known answers live for the TTL; failures only for the negative TTL
    /// (zero disables negative caching) so a blip is not remembered for 15
    /// minutes.
    pub(crate) fn complete(
        &mut self,
        cell: GridCell,
        outcome: &WeatherLookup,
        now: Instant,
    ) -> usize {
        self.pending.remove(&cell);
        let (answer, ttl) = match outcome {
            WeatherLookup::Known(w) => (Answer::Known(w.clone()), self.ttl),
            WeatherLookup::Unknown { reason } => {
                (Answer::Failed(reason.clone()), self.negative_ttl)
            }
        };
        if ttl.is_zero() {
            self.entries.remove(&cell);
            return 0;
        }
        let evicted = if self.entries.contains_key(&cell) {
            0
        } else {
            self.make_room(now)
        };
        self.entries.insert(
            cell,
            Entry {
                answer,
                stored_at: now,
                expires_at: now + ttl,
            },
        );
        evicted
    }

    /// Clears the pending mark without storing anything (fetch task died).
    pub(crate) fn abandon(&mut self, cell: GridCell) {
        self.pending.remove(&cell);
    }

    /// Number of cached entries (fresh or not yet purged).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Frees one slot when full: expired entries go first, then the oldest.
    /// The O(n) scan only runs when the table is full, which at ~10k entries
    /// costs microseconds and happens at most once per upstream call.
    fn make_room(&mut self, now: Instant) -> usize {
        if self.entries.len() < self.max_entries {
            return 0;
        }
        let before = self.entries.len();
        self.entries.retain(|_, e| now < e.expires_at);
        if self.entries.len() >= self.max_entries {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.stored_at)
                .map(|(cell, _)| *cell);
            if let Some(cell) = oldest {
                self.entries.remove(&cell);
            }
        }
        before - self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather::Condition;

    const TTL: Duration = Duration::from_secs(900);
    const NEG_TTL: Duration = Duration::from_secs(5);

    fn weather(temp_c: f64) -> WeatherLookup {
        WeatherLookup::Known(Weather {
            temp_c,
            feels_like_c: temp_c,
            precipitation_mm: 0.0,
            condition: Condition::Clear,
            is_day: true,
            observed_at: None,
        })
    }

    fn cell(col: i32) -> GridCell {
        GridCell { row: 2000, col }
    }

    #[test]
    fn a_known_answer_is_served_until_its_ttl_ends() {
        let now = Instant::now();
        let mut t = CellTable::new(TTL, NEG_TTL, 10);
        assert!(matches!(t.lookup(cell(1), now), Slot::Miss));
        t.complete(cell(1), &weather(30.0), now);
        assert!(
            matches!(t.lookup(cell(1), now + TTL - Duration::from_secs(1)), Slot::Fresh(w) if w.temp_c == 30.0)
        );
        assert!(matches!(t.lookup(cell(1), now + TTL), Slot::Miss));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn a_failure_is_remembered_only_for_the_negative_ttl() {
        let now = Instant::now();
        let mut t = CellTable::new(TTL, NEG_TTL, 10);
        t.complete(cell(1), &WeatherLookup::unknown("upstream-error"), now);
        assert!(matches!(t.lookup(cell(1), now), Slot::Negative(r) if r == "upstream-error"));
        assert!(matches!(t.lookup(cell(1), now + NEG_TTL), Slot::Miss));

        let mut no_neg = CellTable::new(TTL, Duration::ZERO, 10);
        no_neg.complete(cell(1), &WeatherLookup::unknown("upstream-error"), now);
        assert!(matches!(no_neg.lookup(cell(1), now), Slot::Miss));
    }

    #[test]
    fn a_pending_fetch_is_shared_until_it_completes() {
        let now = Instant::now();
        let mut t = CellTable::new(TTL, NEG_TTL, 10);
        let (tx, _rx) = t.begin(cell(1));
        let Slot::Pending(waiter) = t.lookup(cell(1), now) else {
            panic!("expected pending");
        };
        t.complete(cell(1), &weather(25.0), now);
        tx.send_replace(Some(weather(25.0)));
        assert_eq!(*waiter.borrow(), Some(weather(25.0)));
        assert!(matches!(t.lookup(cell(1), now), Slot::Fresh(_)));

        t.begin(cell(2));
        t.abandon(cell(2));
        assert!(matches!(t.lookup(cell(2), now), Slot::Miss));
    }

    #[test]
    fn a_full_table_evicts_expired_entries_first_then_the_oldest() {
        let now = Instant::now();
        let mut t = CellTable::new(TTL, NEG_TTL, 2);
        t.complete(cell(1), &WeatherLookup::unknown("bad-response"), now);
        t.complete(cell(2), &weather(1.0), now + Duration::from_secs(1));
        // cell 1's negative entry has expired by now: it goes, cell 2 stays.
        let later = now + Duration::from_secs(10);
        assert_eq!(t.complete(cell(3), &weather(3.0), later), 1);
        assert!(matches!(t.lookup(cell(2), later), Slot::Fresh(_)));
        // Nothing expired: the oldest (cell 2) goes.
        assert_eq!(t.complete(cell(4), &weather(4.0), later), 1);
        assert_eq!(t.len(), 2);
        assert!(matches!(t.lookup(cell(2), later), Slot::Miss));
        assert!(matches!(t.lookup(cell(3), later), Slot::Fresh(_)));
    }
}
