//! `geoffer simulate`: the demo world through the real engine is deterministic for a seed,
//! and nobody gets more than their caps allow.

use geoffer::settings::Settings;
use geoffer::simulate::{Options, WorldKind, run};
use std::path::PathBuf;

fn options(people: usize, weeks: u32, seed: u64) -> Options {
    Options {
        world: WorldKind::Demo,
        fixtures: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        weeks,
        seed,
        people,
        start: chrono::NaiveDate::from_ymd_opt(2026, 7, 6).expect("a date"),
        settings: Settings::default(),
    }
}

#[tokio::test]
async fn the_demo_world_for_four_weeks_with_a_fixed_seed_gives_the_same_report_twice() {
    let first = run(&options(60, 4, 7)).await.expect("first run");
    let second = run(&options(60, 4, 7)).await.expect("second run");
    assert_eq!(
        serde_json::to_value(&first).expect("json"),
        serde_json::to_value(&second).expect("json")
    );
    assert_eq!(first.weeks, 4);
    assert!(first.offers > 0, "{}", first.to_text());
    assert!(first.errors.is_empty(), "{:?}", first.errors);
}

#[tokio::test]
async fn a_simulated_week_keeps_everyone_within_their_caps_and_another_seed_differs() {
    let a = run(&options(200, 1, 1)).await.expect("seed 1");
    assert!(a.checkins_in_fences > 0 && a.offers > 0, "{}", a.to_text());
    assert!(
        a.over_cap.values().all(|n| *n == 0),
        "over a cap: {:?}",
        a.over_cap
    );
    // Caps bind: someone was refused by one.
    assert!(a.cap_hits.values().sum::<u64>() > 0, "{:?}", a.cap_hits);
    assert!(
        a.offers_per_active_person_week.max <= 3,
        "person-week cap of 3"
    );
    let b = run(&options(200, 1, 2)).await.expect("seed 2");
    assert_ne!(
        serde_json::to_value(&a).expect("json"),
        serde_json::to_value(&b).expect("json")
    );
}

#[tokio::test]
async fn the_generated_world_is_deterministic_for_a_seed_and_keeps_the_caps() {
    let generated = || Options {
        world: WorldKind::Generated,
        ..options(100, 1, 3)
    };
    let a = run(&generated()).await.expect("first run");
    let b = run(&generated()).await.expect("second run");
    assert_eq!(a, b);
    assert_eq!(a.world, "generated");
    assert!(a.offers > 0, "{}", a.to_text());
    assert!(a.over_cap.values().all(|n| *n == 0), "{:?}", a.over_cap);
}
