//! Strict caps through HTTP: replicas sharing one Redis (or one Redis Cluster), and Redis
//! failing under load.

use crate::helpers::*;
use crate::support::postgres::PgDatabase;
use crate::support::redis_cluster::RedisCluster;
use crate::support::redis_server::RedisServer;
use futures_util::future::join_all;
use serde_json::json;
use std::collections::HashMap;

const NEAR: (f64, f64) = (40.7490, -73.9860);

fn always_eligible() -> serde_json::Value {
    json!({"name": "Always", "title": "Hello", "body": "At {{ fence.name }}", "value": 1.0})
}

/// Four geoffer instances over one database and one Redis, the way replicas run. The limiter
/// budget is generous: a debug build answering 1,000 requests at once on two cores is slow,
/// and a claim that times out after Redis granted it fails closed (an under-delivery), which
/// would hide what this test is about: never more than the cap.
async fn replicas(redis_url: &str, count: usize, db_url: Option<&str>) -> (Vec<TestApp>, String) {
    let prefix = format!("replicas-{}", uuid::Uuid::new_v4().simple());
    let opts = || Options {
        redis_url: Some(redis_url.to_owned()),
        redis_key_prefix: Some(prefix.clone()),
        limiter_timeout_ms: 10_000,
        db_url: db_url.map(str::to_owned),
        // A debug build taking 1,000 requests at once on two shared cores is slow: no
        // request waits out its turn (503) or its head's timeout (408) here.
        tweak: |s| {
            s.checkin_queue_wait_ms = 120_000;
            s.client_request_timeout_ms = 120_000;
        },
        ..Default::default()
    };
    let first = spawn_app_with(opts()).await;
    let brand_key = first.brand_with_key("chillco").await;
    assert_eq!(
        first
            .post("/v1/brands/chillco/geofences", &brand_key, &circle_fence())
            .await
            .status,
        201
    );
    assert_eq!(
        first
            .post("/v1/brands/chillco/offers", &brand_key, &always_eligible())
            .await
            .status,
        201
    );
    let app_key = first.key("app", None).await;
    first.consent(&app_key, "u-1", true, true).await;
    let mut apps = vec![first];
    for _ in 1..count {
        let o = Options {
            db_url: Some(apps[0].db_url.clone()),
            ..opts()
        };
        apps.push(spawn_app_with(o).await);
    }
    (apps, app_key)
}

#[tokio::test]
async fn a_thousand_concurrent_checkins_across_four_replicas_deliver_exactly_the_cap() {
    let redis = RedisServer::start();
    let (apps, key) = replicas(&redis.url(), 4, None).await;
    let answers = join_all((0..1000).map(|i| {
        let app = &apps[i % apps.len()];
        let key = key.clone();
        async move {
            app.checkin(&key, &format!("c-{i}"), "u-1", NEAR.0, NEAR.1, json!({}))
                .await
        }
    }))
    .await;
    let mut by: HashMap<String, usize> = HashMap::new();
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.body);
        let k = a.body["reason"].as_str().unwrap_or("offer").to_string();
        *by.entry(k).or_default() += 1;
    }
    assert_eq!(by.get("offer"), Some(&1), "{by:?}");
    assert_eq!(by.get("capped"), Some(&999), "{by:?}");
    assert_eq!(apps[0].count_rows("deliveries").await, 1);
}

#[tokio::test]
async fn a_thousand_concurrent_checkins_across_three_replicas_on_postgres_and_a_redis_cluster_deliver_exactly_the_cap()
 {
    let cluster = RedisCluster::shared();
    // As replicas run: one PostgreSQL database, one Redis Cluster.
    let db = PgDatabase::create().await;
    let (apps, key) = replicas(&cluster.url(), 3, Some(&db.url)).await;
    let send = |round: &'static str| {
        join_all((0..1000).map(|i| {
            let app = &apps[(i + usize::from(round == "retry")) % apps.len()];
            let key = key.clone();
            async move {
                app.checkin(&key, &format!("c-{i}"), "u-1", NEAR.0, NEAR.1, json!({}))
                    .await
            }
        }))
    };
    let first = send("first").await;
    let mut by: HashMap<String, usize> = HashMap::new();
    for a in &first {
        assert_eq!(a.status, 200, "{}", a.body);
        let k = a.body["reason"].as_str().unwrap_or("offer").to_string();
        *by.entry(k).or_default() += 1;
    }
    assert_eq!(by.get("offer"), Some(&1), "{by:?}");
    assert_eq!(by.get("capped"), Some(&999), "{by:?}");
    assert_eq!(apps[0].count_rows("deliveries").await, 1);
    // Every retry, sent to another replica, answers what was answered first.
    let retries = send("retry").await;
    for (i, (a, b)) in first.iter().zip(&retries).enumerate() {
        assert_eq!(b.status, 200, "{}", b.body);
        assert_eq!(a.body, b.body, "retry of c-{i} answered differently");
    }
    assert_eq!(apps[0].count_rows("deliveries").await, 1);
    assert!(
        cluster.command_calls("evalsha") + cluster.command_calls("eval") > 0,
        "the claims ran as scripts on the cluster's nodes"
    );
}

#[tokio::test]
async fn people_spread_over_every_node_of_a_redis_cluster() {
    let cluster = RedisCluster::start();
    let (apps, key) = replicas(&cluster.url(), 1, None).await;
    let app = &apps[0];
    for u in 0..60 {
        app.consent(&key, &format!("p-{u}"), true, true).await;
        let a = app
            .checkin(
                &key,
                &format!("s-{u}"),
                &format!("p-{u}"),
                NEAR.0,
                NEAR.1,
                json!({}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["decision"], "offer", "{}", a.body);
    }
    let per_node = cluster.keys_per_node();
    assert!(
        per_node.iter().all(|n| *n > 0),
        "every master holds some people's state: {per_node:?}"
    );
}

#[tokio::test]
async fn with_redis_down_nothing_is_delivered_and_service_returns_when_it_is_back() {
    let mut redis = RedisServer::start();
    let app = spawn_app_with(Options {
        redis_url: Some(redis.url()),
        ..Default::default()
    })
    .await;
    let brand_key = app.brand_with_key("chillco").await;
    app.post("/v1/brands/chillco/geofences", &brand_key, &circle_fence())
        .await;
    app.post("/v1/brands/chillco/offers", &brand_key, &always_eligible())
        .await;
    let key = app.key("app", None).await;
    for u in 0..40 {
        app.consent(&key, &format!("u-{u}"), true, false).await;
    }
    redis.kill();
    let down = join_all((0..40).map(|u| {
        let (app, key) = (&app, &key);
        async move {
            app.checkin(
                key,
                &format!("down-{u}"),
                &format!("u-{u}"),
                NEAR.0,
                NEAR.1,
                json!({}),
            )
            .await
        }
    }))
    .await;
    for a in &down {
        assert_eq!(a.status, 200, "no 5xx while Redis is down: {}", a.body);
        assert_eq!(a.body["reason"], "limiter-unavailable", "{}", a.body);
    }
    assert_eq!(app.count_rows("deliveries").await, 0);
    redis.restart();
    let back = std::time::Instant::now();
    let served = loop {
        let a = app
            .checkin(
                &key,
                &format!("back-{}", back.elapsed().as_millis()),
                "u-0",
                NEAR.0,
                NEAR.1,
                json!({}),
            )
            .await;
        if a.body["decision"] == "offer" || back.elapsed() > std::time::Duration::from_secs(5) {
            break a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(served.body["decision"], "offer", "{}", served.body);
    assert!(
        back.elapsed() < std::time::Duration::from_secs(2),
        "took {:?} to recover",
        back.elapsed()
    );
}

#[tokio::test]
async fn a_consent_withdrawn_at_one_replica_stops_check_ins_at_every_replica_at_once() {
    let redis = RedisServer::start();
    let (apps, key) = replicas(&redis.url(), 4, None).await;
    let (a, b) = (&apps[0], &apps[1]);
    // u-1 consented through the first replica; the second one learns it on first use.
    let before = b
        .checkin(&key, "w-1", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(before.status, 200, "{}", before.body);
    a.consent(&key, "u-1", false, false).await;
    let after = b
        .checkin(&key, "w-2", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_problem(&after, 403);
    // Consent given again, then the person erased: refused everywhere again.
    a.consent(&key, "u-1", true, true).await;
    let again = b
        .checkin(&key, "w-3", "u-1", NEAR.0, NEAR.1, json!({}))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(a.delete("/v1/users/u-1", &key).await.status, 202);
    for app in &apps {
        let gone = app
            .checkin(&key, "w-4", "u-1", NEAR.0, NEAR.1, json!({}))
            .await;
        assert_problem(&gone, 403);
    }
}
