//! Verified key records kept in memory: every request authenticates, and a store round trip
//! per request was a measurable share of a check-in's cost (docs/benchmarks.md).
//!
//! Key records never change once created (there is no rotation or revocation yet), so a cached
//! record cannot go stale. When revocation arrives it must evict here, in every replica.

use super::ApiKeyRecord;
use std::collections::HashMap;
use std::sync::RwLock;

/// Most records kept; past it the cache is cleared (keys are few; this only bounds abuse by
/// clients cycling through made-up ids, which never reach the cache anyway).
const MAX_KEYS: usize = 100_000;

/// Key id → record, filled on first successful lookup.
#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<String, ApiKeyRecord>>,
}

impl KeyCache {
    /// A cached record.
    pub fn get(&self, id: &str) -> Option<ApiKeyRecord> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Remembers a record read from the store.
    pub fn put(&self, record: ApiKeyRecord) {
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(record.id.clone(), record);
    }
}
