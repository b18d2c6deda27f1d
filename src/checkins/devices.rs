//! One device reporting for distant users: each replica remembers, per device, the last user it
//! reported for, at which fence and when — in process, bounded, for 6 hours, and never a
//! coordinate. Per replica: a device whose reports land on different replicas is not compared
//! across them (keeping this in Redis would cost another key on another slot, so another round
//! trip per check-in; docs/decisions.md, step 4a).

use crate::habits::SIGHTING_TTL_MS;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Mutex;
use uuid::Uuid;

/// Devices remembered per replica at most (about 60 bytes each).
pub const DEVICE_MEMORY: usize = 100_000;

/// A device's last in-fence report: for whom (a hash of the pseudonymous person), where (a
/// fence) and when; `until` is when it is forgotten.
#[derive(Debug, Clone, Copy)]
struct Seen {
    person: u64,
    fence: Uuid,
    at_ms: i64,
    until_ms: i64,
}

/// Devices by a hash of (app, device id).
pub struct Devices {
    seen: Mutex<HashMap<u64, Seen>>,
    capacity: usize,
}

fn hash(parts: &[&str]) -> u64 {
    // A fixed hasher: the same device is the same key for the life of the process.
    BuildHasherDefault::<DefaultHasher>::default().hash_one(parts)
}

impl Devices {
    /// Remembers at most `capacity` devices.
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Records that `device` (of `app`) reported for `person` at `fence` at `at_ms`, and returns
    /// the device's previous report if it was for another person and is still remembered:
    /// that report's fence and time. A report older than the one kept is compared but does
    /// not replace it.
    pub fn swap(
        &self,
        app: &str,
        device: &str,
        person: &str,
        fence: Uuid,
        at_ms: i64,
        now_ms: i64,
    ) -> Option<(Uuid, i64)> {
        let key = hash(&[app, device]);
        let person = hash(&[person]);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let kept = seen.get(&key).copied().filter(|s| s.until_ms > now_ms);
        if kept.is_none_or(|k| at_ms >= k.at_ms) {
            if seen.len() >= self.capacity && !seen.contains_key(&key) {
                evict(&mut seen, now_ms, self.capacity);
            }
            seen.insert(
                key,
                Seen {
                    person,
                    fence,
                    at_ms,
                    until_ms: now_ms + SIGHTING_TTL_MS,
                },
            );
        }
        kept.filter(|k| k.person != person)
            .map(|k| (k.fence, k.at_ms))
    }

    /// Devices remembered now.
    pub fn len(&self) -> usize {
        self.seen.lock().map_or(0, |s| s.len())
    }

    /// Nothing remembered?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Makes room: drops what expired, and if that is not enough, the older half (by when each
/// expires). O(n) once every n/2 new devices, so O(1) per report on average.
fn evict(seen: &mut HashMap<u64, Seen>, now_ms: i64, capacity: usize) {
    seen.retain(|_, s| s.until_ms > now_ms);
    if seen.len() < capacity {
        return;
    }
    let mut untils: Vec<i64> = seen.values().map(|s| s.until_ms).collect();
    let mid = untils.len() / 2;
    let (_, median, _) = untils.select_nth_unstable(mid);
    let median = *median;
    seen.retain(|_, s| s.until_ms > median);
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_772_442_000_000;

    #[test]
    fn a_device_reporting_for_another_person_returns_that_report_and_the_same_person_does_not() {
        let d = Devices::new(10);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(d.swap("app", "d-1", "p1", a, T, T), None);
        assert_eq!(d.swap("app", "d-1", "p1", a, T + 1, T + 1), None);
        assert_eq!(
            d.swap("app", "d-1", "p2", b, T + 2, T + 2),
            Some((a, T + 1))
        );
        // Another app's device of the same name is another device.
        assert_eq!(d.swap("other", "d-1", "p1", a, T + 3, T + 3), None);
        // Forgotten after 6 hours.
        let later = T + 2 + SIGHTING_TTL_MS;
        assert_eq!(d.swap("app", "d-1", "p1", a, later, later), None);
    }

    #[test]
    fn memory_stays_bounded() {
        let d = Devices::new(100);
        for i in 0..1_000 {
            d.swap("app", &format!("d-{i}"), "p", Uuid::nil(), T + i, T + i);
            assert!(d.len() <= 100, "{} devices at {i}", d.len());
        }
        assert!(!d.is_empty());
    }
}
