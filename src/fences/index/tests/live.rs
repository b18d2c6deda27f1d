//! LiveIndex: edits are visible immediately, merges keep every edit.

use super::super::{FenceIndex, LiveConfig, LiveIndex};
use super::{circle, id, ids};
use std::time::{Duration, Instant};

fn inline(max_delta: usize) -> LiveConfig {
    LiveConfig {
        max_delta,
        recent_max: 2,
        background_merge: false,
    }
}

fn at(live: &LiveIndex, lat: f64, lon: f64) -> Vec<uuid::Uuid> {
    let mut out = Vec::new();
    live.query(lat, lon, 1.0, &mut out);
    ids(&out)
}

#[test]
fn upsert_is_visible_to_the_next_query_and_replaces_by_id() {
    let live = LiveIndex::new(FenceIndex::build(vec![circle(1, 0.0, 0.0, 100.0)]));
    assert_eq!(live.len(), 1);
    live.upsert(circle(2, 0.0, 0.0, 100.0));
    assert_eq!(at(&live, 0.0, 0.0), vec![id(1), id(2)]);
    assert_eq!(live.len(), 2);
    // Moving base fence 1 hides its old shape.
    live.upsert(circle(1, 10.0, 10.0, 100.0));
    assert_eq!(at(&live, 0.0, 0.0), vec![id(2)]);
    assert_eq!(at(&live, 10.0, 10.0), vec![id(1)]);
    assert_eq!(live.len(), 2);
}

#[test]
fn remove_hides_base_and_overlay_fences() {
    let live = LiveIndex::new(FenceIndex::build(vec![circle(1, 0.0, 0.0, 100.0)]));
    live.upsert(circle(2, 0.0, 0.0, 100.0));
    live.remove(id(1));
    assert_eq!(at(&live, 0.0, 0.0), vec![id(2)]);
    live.remove(id(2));
    assert!(at(&live, 0.0, 0.0).is_empty());
    live.remove(id(99)); // absent: no-op
    assert_eq!(live.len(), 0);
    assert!(live.is_empty());
}

#[test]
fn replace_all_swaps_the_base_and_drops_pending_edits() {
    let live = LiveIndex::new(FenceIndex::build(vec![circle(1, 0.0, 0.0, 100.0)]));
    live.upsert(circle(2, 0.0, 0.0, 100.0));
    live.replace_all(FenceIndex::build(vec![circle(3, 0.0, 0.0, 100.0)]));
    assert_eq!(at(&live, 0.0, 0.0), vec![id(3)]);
    assert_eq!(live.pending_edits(), 0);
    assert_eq!(live.len(), 1);
}

#[test]
fn inline_merge_folds_the_delta_into_the_base_and_keeps_every_edit() {
    let live = LiveIndex::with_config(FenceIndex::build(vec![]), inline(3));
    for i in 0..10 {
        live.upsert(circle(i, 0.0, 0.0, 100.0));
    }
    live.remove(id(4));
    assert!(
        live.pending_edits() <= 3,
        "merged, {} pending",
        live.pending_edits()
    );
    let want: Vec<_> = (0..10).filter(|i| *i != 4).map(id).collect();
    assert_eq!(at(&live, 0.0, 0.0), want);
    assert_eq!(live.len(), 9);
}

#[test]
fn background_merge_completes_while_queries_continue() {
    let base = FenceIndex::build(
        (0..5_000)
            .map(|i| circle(i, (i % 70) as f64 * 0.01, 0.0, 200.0))
            .collect(),
    );
    let live = LiveIndex::with_config(
        base,
        LiveConfig {
            max_delta: 8,
            ..LiveConfig::default()
        },
    );
    for i in 0..20 {
        live.upsert(circle(100_000 + i, 50.0, 50.0, 100.0));
        assert_eq!(
            at(&live, 50.0, 50.0).len(),
            i as usize + 1,
            "edit {i} visible at once"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while live.pending_edits() > 8 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(live.pending_edits() <= 8, "background merge ran");
    assert_eq!(live.len(), 5_020);
    assert_eq!(at(&live, 50.0, 50.0).len(), 20);
}

#[test]
fn readers_on_other_threads_see_edits_without_blocking() {
    let live = std::sync::Arc::new(LiveIndex::new(FenceIndex::build(vec![])));
    let reader = {
        let live = live.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            while at(&live, 1.0, 1.0).is_empty() {
                assert!(Instant::now() < deadline, "edit never became visible");
                std::thread::yield_now();
            }
        })
    };
    live.upsert(circle(1, 1.0, 1.0, 50.0));
    reader.join().unwrap();
}

#[test]
fn edits_folded_into_the_mid_layer_are_still_shadowed_by_newer_edits() {
    // recent_max 2: every second edit folds `recent` into `mid`.
    let base = FenceIndex::build(vec![circle(1, 0.0, 0.0, 100.0)]);
    let live = LiveIndex::with_config(base, inline(1_000));
    live.upsert(circle(1, 5.0, 5.0, 100.0)); // moved
    live.remove(id(1)); // folded with the move
    assert!(at(&live, 0.0, 0.0).is_empty());
    assert!(at(&live, 5.0, 5.0).is_empty());
    live.upsert(circle(1, 6.0, 6.0, 100.0)); // back, in `recent` over a tombstone in `mid`
    assert_eq!(at(&live, 6.0, 6.0), vec![id(1)]);
    live.remove(id(1)); // tombstone in `recent` over an upsert folded into `mid`
    live.upsert(circle(2, 6.0, 6.0, 100.0));
    assert_eq!(at(&live, 6.0, 6.0), vec![id(2)]);
    assert_eq!(live.len(), 1);
}

#[test]
fn merge_now_folds_pending_edits_into_a_new_base() {
    let live = LiveIndex::with_config(FenceIndex::build(vec![]), inline(1_000));
    for i in 0..5 {
        live.upsert(circle(i, 0.0, 0.0, 100.0));
    }
    assert_eq!(live.pending_edits(), 5);
    live.merge_now();
    assert_eq!(live.pending_edits(), 0);
    assert_eq!(live.merges_completed(), 1);
    assert!(!live.is_merging());
    assert_eq!(at(&live, 0.0, 0.0).len(), 5);
}

#[test]
fn invalid_upsert_is_reported_and_leaves_the_index_unchanged() {
    let live = LiveIndex::new(FenceIndex::build(vec![circle(1, 0.0, 0.0, 100.0)]));
    let bad = circle(1, 0.0, 0.0, -5.0);
    assert!(live.try_upsert(bad.clone()).is_err());
    live.upsert(bad);
    assert_eq!(at(&live, 0.0, 0.0), vec![id(1)]);
    assert_eq!(live.pending_edits(), 0);
}
