//! Stateless replicas over one PostgreSQL database: a catalog change made through any
//! replica reaches every replica's in-memory index through the database's change log.

use crate::helpers::*;
use crate::support::postgres::PgDatabase;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const INSIDE: (f64, f64) = (40.7484, -73.9857);

/// Check-ins on `app` until `done` says yes about the answer's reason; the time it took.
/// Fails past one second: the bound replicas promise for a change to reach them.
async fn until(app: &TestApp, key: &str, tag: &str, done: impl Fn(&str) -> bool) -> Duration {
    let started = Instant::now();
    for n in 0.. {
        let a = app
            .checkin(
                key,
                &format!("{tag}-{n}"),
                "u-1",
                INSIDE.0,
                INSIDE.1,
                json!({}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let reason = a.body["reason"].as_str().unwrap_or("offer");
        if done(reason) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{tag}: still `{reason}` after a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    unreachable!()
}

#[tokio::test]
async fn a_fence_made_through_one_replica_matches_on_another_and_a_deletion_through_a_third_reaches_the_first()
 {
    let db = PgDatabase::create().await;
    let opts = || Options {
        db_url: Some(db.url.clone()),
        ..Default::default()
    };
    let (a, b, c) = (
        spawn_app_with(opts()).await,
        spawn_app_with(opts()).await,
        spawn_app_with(opts()).await,
    );
    let brand_key = a.brand_with_key("chillco").await;
    let app_key = a.key("app", None).await;
    a.consent(&app_key, "u-1", true, false).await;
    until(&c, &app_key, "before", |r| r == "no-fence").await;

    let made = a
        .post("/v1/brands/chillco/geofences", &brand_key, &circle_fence())
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    until(&c, &app_key, "made", |r| r != "no-fence").await;
    until(&b, &app_key, "made-b", |r| r != "no-fence").await;

    let gone = b
        .delete(&format!("/v1/brands/chillco/geofences/{id}"), &brand_key)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    until(&a, &app_key, "deleted", |r| r == "no-fence").await;
    until(&c, &app_key, "deleted-c", |r| r == "no-fence").await;

    // Every replica follows the log and says how far behind it is.
    for app in [&a, &b, &c] {
        let r = app.get("/readyz", "").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["checks"]["catalog"], "ok");
        assert!(r.body["checks"]["catalog_lag_ms"].as_u64().unwrap() < 5_000);
        assert_eq!(r.body["checks"]["catalog_max_lag_ms"], 5_000);
    }
}

#[tokio::test]
async fn a_replica_started_after_changes_were_made_elsewhere_decides_on_them_from_its_first_checkin()
 {
    let db = PgDatabase::create().await;
    let opts = || Options {
        db_url: Some(db.url.clone()),
        ..Default::default()
    };
    let a = spawn_app_with(opts()).await;
    let brand_key = a.brand_with_key("chillco").await;
    let app_key = a.key("app", None).await;
    a.consent(&app_key, "u-1", true, false).await;
    let made = a
        .post("/v1/brands/chillco/geofences", &brand_key, &circle_fence())
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let later = spawn_app_with(opts()).await;
    let r = later.get("/readyz", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let first = later
        .checkin(&app_key, "first", "u-1", INSIDE.0, INSIDE.1, json!({}))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_ne!(
        first.body["reason"],
        Value::from("no-fence"),
        "{}",
        first.body
    );
    // The check-in's connections were counted, and reach /metrics (refreshed every second).
    let stats = later.state.store.pool_stats().expect("a pooled store");
    assert!(stats.acquires >= 1, "{stats:?}");
    let mut exposition = String::new();
    for _ in 0..50 {
        exposition = later.state.metrics.render();
        let acquired = exposition
            .lines()
            .find_map(|l| l.strip_prefix("geoffer_store_pool_acquires_total "))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if acquired >= 1.0 {
            assert!(
                exposition.contains("geoffer_store_pool_acquire_wait_seconds_total "),
                "{exposition}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no acquisitions in /metrics:\n{exposition}");
}

#[tokio::test]
async fn with_sqlite_there_is_no_change_log_to_lag_behind() {
    let app = spawn_app().await;
    let r = app.get("/readyz", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["checks"]["catalog"], "ok");
    assert_eq!(r.body["checks"]["catalog_lag_ms"], Value::Null);
}
