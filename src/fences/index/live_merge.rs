//! Edit layers and background merging for [`super::LiveIndex`].

use super::compiled::Compiled;
use super::live::{Inner, Writer};
use super::{FenceIndex, FenceMatch};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use uuid::Uuid;

/// One edit over the base: `fence: None` is a tombstone. `seq` orders edits
/// so a merge knows which ones arrived after it started.
#[derive(Clone)]
pub(crate) struct DeltaEntry {
    pub(crate) seq: u64,
    pub(crate) fence: Option<Compiled>,
}

/// A set of edits as readers use them: an index of the upserted fences and
/// the ids whose older versions (in lower layers) are hidden.
pub(crate) struct Layer {
    pub(crate) index: FenceIndex,
    hides: HashSet<Uuid>,
}

impl Layer {
    /// O(edits): compiled fences are shared (`Arc`), never re-prepared.
    pub(crate) fn new(edits: &HashMap<Uuid, DeltaEntry>) -> Self {
        let upserts: Vec<Compiled> = edits.values().filter_map(|e| e.fence.clone()).collect();
        Layer {
            index: FenceIndex::from_compiled(upserts),
            hides: edits.keys().copied().collect(),
        }
    }

    /// Drops matches from lower layers that this layer edited.
    pub(crate) fn shadow(&self, out: &mut Vec<FenceMatch>) {
        if !self.hides.is_empty() && !out.is_empty() {
            out.retain(|m| !self.hides.contains(&m.id));
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        // hashbrown: one control byte per bucket next to each 16-byte slot.
        self.index.heap_bytes() + self.hides.capacity() * (std::mem::size_of::<Uuid>() + 1)
    }
}

/// What a merge works on: the writer state at the moment it started.
struct MergeJob {
    base: Arc<FenceIndex>,
    delta: HashMap<Uuid, DeltaEntry>,
    seq: u64,
    generation: u64,
}

impl MergeJob {
    fn snapshot(w: &Writer) -> Self {
        MergeJob {
            base: w.base.clone(),
            delta: w.delta.clone(),
            seq: w.seq,
            generation: w.generation,
        }
    }

    fn run(&self) -> FenceIndex {
        let mut all: Vec<Compiled> = Vec::with_capacity(self.base.len() + self.delta.len());
        all.extend(
            self.base
                .compiled()
                .filter(|c| !self.delta.contains_key(&c.id())),
        );
        all.extend(self.delta.values().filter_map(|e| e.fence.clone()));
        FenceIndex::from_compiled(all)
    }
}

/// Merges base + delta into a new base, on a background thread or inline.
pub(crate) fn start_merge(inner: &Arc<Inner>, mut w: MutexGuard<'_, Writer>) {
    inner.merging.store(true, Ordering::Relaxed);
    let job = MergeJob::snapshot(&w);
    if !inner.config.background_merge {
        let merged = job.run();
        finish_merge(inner, &mut w, merged, &job);
        return;
    }
    drop(w);
    let shared = inner.clone();
    let spawned = std::thread::Builder::new()
        .name("fence-merge".into())
        .spawn(move || {
            let mut job = job;
            loop {
                let merged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()));
                let mut w = shared.lock();
                if w.generation != job.generation {
                    return; // replace_all superseded this merge (and reset `merging`).
                }
                let Ok(merged) = merged else {
                    // Keep serving base + delta; the next edit retries the merge.
                    shared.merging.store(false, Ordering::Relaxed);
                    return;
                };
                finish_merge(&shared, &mut w, merged, &job);
                // Edits that arrived during a long merge may exceed the threshold
                // again, with no further edit coming to trigger another merge.
                if w.delta.len() <= shared.config.max_delta {
                    return;
                }
                shared.merging.store(true, Ordering::Relaxed);
                job = MergeJob::snapshot(&w);
            }
        });
    if spawned.is_err() {
        let _w = inner.lock();
        inner.merging.store(false, Ordering::Relaxed);
    }
}

/// Installs a merged base, keeping the edits that arrived after the merge
/// started (higher `seq`) as the new delta.
fn finish_merge(inner: &Inner, w: &mut Writer, merged: FenceIndex, job: &MergeJob) {
    if w.generation != job.generation {
        return;
    }
    inner.merging.store(false, Ordering::Relaxed);
    inner.merges.fetch_add(1, Ordering::Relaxed);
    let old = std::mem::replace(&mut w.base, Arc::new(merged));
    w.delta.retain(|_, e| e.seq > job.seq);
    w.fold();
    w.recount();
    inner.publish(w);
    retire(old);
}

/// Drops a replaced base off the read path. A reader still holding the old
/// view would otherwise free the million-entry tree itself (tens of ms), so a
/// helper thread waits until it holds the last reference and frees it.
pub(crate) fn retire(base: Arc<FenceIndex>) {
    if Arc::strong_count(&base) == 1 {
        return; // freed right here, on the writer's thread
    }
    // If the thread cannot be spawned the base is freed by its last holder.
    let _ = std::thread::Builder::new()
        .name("fence-retire".into())
        .spawn(move || {
            // Readers hold a view for one query; 10 s is far beyond any of them.
            for _ in 0..10_000 {
                if Arc::strong_count(&base) == 1 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            drop(base);
        });
}
