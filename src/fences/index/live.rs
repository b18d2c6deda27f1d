//! [`LiveIndex`]: the index the check-in path reads while fences are edited.
//!
//! Readers load an `Arc<View>` through arc-swap (lock-free, never blocked by
//! writers). A view is three layers, newest last, like a tiny LSM tree:
//!
//! * `base`: the big immutable [`FenceIndex`];
//! * `mid`: all edits since the base was built, as a small index of upserted
//!   fences plus the set of ids it shadows; rebuilt every `recent_max` edits;
//! * `recent`: the last < `recent_max` edits, rebuilt on every edit.
//!
//! So a single edit costs O(recent_max) plus an amortised O(delta / recent_max),
//! never a copy of the million-entry base. Once the delta exceeds
//! `max_delta`, a background thread merges it into a new base
//! (see `live_merge`); edits made meanwhile are kept.

use super::compiled::Compiled;
use super::live_merge::{DeltaEntry, Layer, retire, start_merge};
use super::snapshot::finish;
use super::{FenceIndex, FenceMatch, IndexedFence, InvalidFence};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

/// Tuning for [`LiveIndex`].
#[derive(Debug, Clone, Copy)]
pub struct LiveConfig {
    /// Pending edits (distinct ids) that trigger a merge into a new base.
    /// Larger: fewer full rebuilds (~1 s of one core per million fences);
    /// smaller: cheaper `mid` rebuilds.
    pub max_delta: usize,
    /// Edits kept in the per-edit `recent` layer before it is folded into
    /// `mid` (an O(delta) rebuild). 64 keeps both steps small.
    pub recent_max: usize,
    /// Merge on a background thread (production). `false` merges inline in
    /// the editing call, which makes tests deterministic.
    pub background_merge: bool,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            max_delta: 4096,
            recent_max: 64,
            background_merge: true,
        }
    }
}

/// What readers see: one consistent generation.
pub(crate) struct View {
    base: Arc<FenceIndex>,
    mid: Arc<Layer>,
    recent: Layer,
    len: usize,
}

/// Writer-side state, behind a mutex (writers serialise; readers never lock).
pub(crate) struct Writer {
    pub(crate) base: Arc<FenceIndex>,
    /// Every edit since `base` was built, by id (authoritative for merges).
    pub(crate) delta: HashMap<Uuid, DeltaEntry>,
    /// Edits since `mid` was last rebuilt.
    recent: HashMap<Uuid, DeltaEntry>,
    mid: Arc<Layer>,
    /// Delta ids present in `base`, and delta entries that are upserts: the
    /// live count, kept incrementally (one binary search per edit).
    shadowed: usize,
    upserts: usize,
    pub(crate) seq: u64,
    /// Bumped by `replace_all` so an in-flight merge of the old data is dropped.
    pub(crate) generation: u64,
}

impl Writer {
    /// Rebuilds `mid` from the whole delta and empties `recent`.
    pub(crate) fn fold(&mut self) {
        self.mid = Arc::new(Layer::new(&self.delta));
        self.recent.clear();
    }

    /// Recomputes the live-count terms after the base or delta was replaced.
    pub(crate) fn recount(&mut self) {
        self.shadowed = self
            .delta
            .keys()
            .filter(|id| self.base.contains(**id))
            .count();
        self.upserts = self.delta.values().filter(|e| e.fence.is_some()).count();
    }

    fn record(&mut self, id: Uuid, entry: DeltaEntry) {
        self.upserts += entry.fence.is_some() as usize;
        self.recent.insert(id, entry.clone());
        match self.delta.insert(id, entry) {
            Some(old) => self.upserts -= old.fence.is_some() as usize,
            None => self.shadowed += self.base.contains(id) as usize,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) view: ArcSwap<View>,
    pub(crate) writer: Mutex<Writer>,
    pub(crate) config: LiveConfig,
    /// A merge of the current generation is running. Written only with the
    /// writer lock held; atomic so metrics can read it without locking.
    pub(crate) merging: AtomicBool,
    /// Merges installed so far (metrics).
    pub(crate) merges: AtomicU64,
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Writer> {
        // Writer mutations are plain inserts and assignments that can only fail
        // by aborting (allocation), so a poisoned lock holds consistent state.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the writer's state visible to the next query.
    pub(crate) fn publish(&self, w: &Writer) {
        let recent = Layer::new(&w.recent);
        let len = w.base.len() - w.shadowed + w.upserts;
        let view = View {
            base: w.base.clone(),
            mid: w.mid.clone(),
            recent,
            len,
        };
        // The replaced view is freed here or by its last reader; that is cheap,
        // bases are released through `retire`.
        drop(self.view.swap(Arc::new(view)));
    }
}

/// The live index: lock-free reads, cheap single edits (see module docs).
pub struct LiveIndex {
    inner: Arc<Inner>,
}

impl LiveIndex {
    /// Starts from `base` with the default [`LiveConfig`].
    pub fn new(base: FenceIndex) -> Self {
        Self::with_config(base, LiveConfig::default())
    }

    /// Starts from `base` with explicit tuning.
    pub fn with_config(base: FenceIndex, config: LiveConfig) -> Self {
        let base = Arc::new(base);
        let empty = Arc::new(Layer::new(&HashMap::new()));
        let view = View {
            base: base.clone(),
            mid: empty.clone(),
            recent: Layer::new(&HashMap::new()),
            len: base.len(),
        };
        let writer = Writer {
            base,
            delta: HashMap::new(),
            recent: HashMap::new(),
            mid: empty,
            shadowed: 0,
            upserts: 0,
            seq: 0,
            generation: 0,
        };
        let inner = Inner {
            view: ArcSwap::from_pointee(view),
            writer: Mutex::new(writer),
            config,
            merging: AtomicBool::new(false),
            merges: AtomicU64::new(0),
        };
        LiveIndex {
            inner: Arc::new(inner),
        }
    }

    /// Inserts or replaces a fence; visible to every query that starts after
    /// this returns. Invalid fences are ignored (use [`Self::try_upsert`]).
    pub fn upsert(&self, fence: IndexedFence) {
        let _ = self.try_upsert(fence);
    }

    /// Like [`Self::upsert`] but reports an invalid fence instead of ignoring it.
    pub fn try_upsert(&self, fence: IndexedFence) -> Result<(), InvalidFence> {
        // Validate and compile (prepare big polygons) before taking the writer lock.
        let compiled = Compiled::new(&fence)?;
        self.apply(fence.id, Some(compiled));
        Ok(())
    }

    /// Removes a fence (no-op when absent); visible to the next query.
    pub fn remove(&self, id: Uuid) {
        self.apply(id, None);
    }

    /// Swaps in a freshly built base, dropping all pending edits (and any
    /// merge in flight). Use after a full reload from the database.
    pub fn replace_all(&self, base: FenceIndex) {
        let mut w = self.inner.lock();
        let old = std::mem::replace(&mut w.base, Arc::new(base));
        w.delta.clear();
        w.fold();
        w.recount();
        w.generation += 1;
        self.inner.merging.store(false, Ordering::Relaxed);
        self.inner.publish(&w);
        drop(w);
        retire(old);
    }

    /// Same contract as [`FenceIndex::query`], over the base and pending edits.
    pub fn query(&self, lat: f64, lon: f64, accuracy_m: f64, out: &mut Vec<FenceMatch>) {
        out.clear();
        let v = self.inner.view.load();
        // Each layer hides older versions of the ids it edited.
        v.base.query_append(lat, lon, accuracy_m, out);
        v.mid.shadow(out);
        v.mid.index.query_append(lat, lon, accuracy_m, out);
        v.recent.shadow(out);
        v.recent.index.query_append(lat, lon, accuracy_m, out);
        finish(out);
    }

    /// Fences within `margin_m` of the point (or containing it), over the base and pending
    /// edits, sorted by id; no accuracy gate, `edge_distance_m` negative outside.
    pub fn near(&self, lat: f64, lon: f64, margin_m: f64, out: &mut Vec<FenceMatch>) {
        out.clear();
        let v = self.inner.view.load();
        v.base.near_append(lat, lon, margin_m, out);
        v.mid.shadow(out);
        v.mid.index.near_append(lat, lon, margin_m, out);
        v.recent.shadow(out);
        v.recent.index.near_append(lat, lon, margin_m, out);
        finish(out);
    }

    /// Number of live fences.
    pub fn len(&self) -> usize {
        self.inner.view.load().len
    }

    /// True when no fence is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Edited ids not yet merged into the base (for metrics and tests).
    pub fn pending_edits(&self) -> usize {
        self.inner.lock().delta.len()
    }

    /// Starts merging the pending edits into a new base now (in the background
    /// unless configured inline), e.g. after a burst of edits. No-op when
    /// nothing is pending or a merge is already running.
    pub fn merge_now(&self) {
        let w = self.inner.lock();
        if !w.delta.is_empty() && !self.inner.merging.load(Ordering::Relaxed) {
            start_merge(&self.inner, w);
        }
    }

    /// Whether a background merge is running (metrics; lock-free).
    pub fn is_merging(&self) -> bool {
        self.inner.merging.load(Ordering::Relaxed)
    }

    /// Merges of edits into a new base completed so far (metrics).
    pub fn merges_completed(&self) -> u64 {
        self.inner.merges.load(Ordering::Relaxed)
    }

    /// Heap bytes of the current generation (base + edit layers).
    pub fn heap_bytes(&self) -> usize {
        let v = self.inner.view.load();
        v.base.heap_bytes() + v.mid.heap_bytes() + v.recent.heap_bytes()
    }

    fn apply(&self, id: Uuid, fence: Option<Compiled>) {
        let mut w = self.inner.lock();
        w.seq += 1;
        let entry = DeltaEntry { seq: w.seq, fence };
        w.record(id, entry);
        if w.recent.len() >= self.inner.config.recent_max {
            w.fold();
        }
        self.inner.publish(&w);
        if w.delta.len() > self.inner.config.max_delta
            && !self.inner.merging.load(Ordering::Relaxed)
        {
            start_merge(&self.inner, w);
        }
    }
}

#[cfg(test)]
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<LiveIndex>();
};
