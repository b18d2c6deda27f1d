//! What only the Redis limiter can show: its keys, its scripts and its failure modes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use geoffer::clock::ManualClock;
use geoffer::limits::{Budget, DEFAULT_TIMEOUT, Limiter, LimiterError, RedisLimiter};
use redis::aio::MultiplexedConnection;

use super::harness::{HOUR, Harness, person, random_prefix, req, req_n, t0};
use crate::support::redis_server::RedisServer;

/// A plain connection to the harness's Redis, to look behind the limiter's back.
async fn raw(h: &Harness) -> MultiplexedConnection {
    let env = h.redis.as_ref().expect("a Redis harness");
    redis::Client::open(env.url.as_str())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection")
}

async fn keys(conn: &mut MultiplexedConnection, pattern: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .expect("scan");
        found.extend(batch);
        if next == 0 {
            return found;
        }
        cursor = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_person_leaves_no_key_with_the_persons_tag() {
    let h = Harness::redis().await;
    let prefix = h.redis.as_ref().expect("redis").prefix.clone();
    let (p, q) = (person(60), person(61));
    let budget = Budget {
        total: Some(10),
        daily: Some(5),
    };
    for n in 0..4 {
        let mut r = req_n(&p, n);
        r.budget = budget;
        h.claim(&r).await; // one grant, then refusals: both leave records
        h.advance(HOUR);
    }
    h.limiter
        .cool_down(&p, "brand-9", HOUR)
        .await
        .expect("cool-down");
    h.claim(&req_n(&q, 0)).await;

    let mut conn = raw(&h).await;
    let tag = format!("{prefix}{{u:{p}}}*");
    assert!(
        !keys(&mut conn, &tag).await.is_empty(),
        "the person has state to forget"
    );

    h.limiter.forget_person(&p).await.expect("forget");

    let everything = keys(&mut conn, &format!("{prefix}*")).await;
    let left: Vec<_> = everything.iter().filter(|k| k.contains(&p)).collect();
    assert!(
        left.is_empty(),
        "keys of the forgotten person remain: {left:?}"
    );
    assert!(
        everything.iter().any(|k| k.contains(&q)),
        "other people are untouched"
    );
    assert!(
        everything.iter().any(|k| k.contains("{o:offer-0}")),
        "budgets stay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_has_the_prefix_and_a_ttl_except_the_budget_counters() {
    let h = Harness::redis().await;
    let env = h.redis.as_ref().expect("redis");
    let mut r = req(&person(62), "ck-1", "chillco", "cola", "corner");
    r.budget = Budget {
        total: Some(10),
        daily: None,
    };
    h.claim(&r).await;
    h.claim(&req(&person(62), "ck-2", "lampco", "lamp", "park"))
        .await;
    h.limiter
        .cool_down(&person(62), "bagco", HOUR)
        .await
        .expect("cool-down");

    let mut conn = raw(&h).await;
    let ours = keys(&mut conn, &format!("{}*", env.prefix)).await;
    if env.server.is_some() {
        let all = keys(&mut conn, "*").await;
        assert_eq!(all.len(), ours.len(), "a key without the prefix: {all:?}");
    }
    for key in &ours {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("pttl");
        if key.ends_with("{o:cola}:budget") {
            assert_eq!(ttl, -1, "a total budget must never expire");
        } else {
            assert!(ttl > 0, "{key} would linger (PTTL {ttl})");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_state_drops_check_in_records_and_logs_whose_life_is_over() {
    let h = Harness::redis().await;
    let env = h.redis.as_ref().expect("redis");
    let p = person(64);
    // Two check-ins a day for 30 days: each leaves a record for IDEMPOTENCY_TTL (7 days).
    for n in 0..60 {
        h.claim(&req_n(&p, n)).await;
        h.advance(12 * HOUR);
    }
    let mut conn = raw(&h).await;
    let fields: Vec<String> = redis::cmd("HKEYS")
        .arg(format!("{}{{u:{p}}}:lim", env.prefix))
        .query_async(&mut conn)
        .await
        .expect("hkeys");
    let records = fields.iter().filter(|f| f.starts_with("c:")).count();
    // 14 live records (7 days at two a day); ended ones go at the daily sweep, so at most
    // two more linger. Without the sweep there would be 60.
    assert!(records <= 16, "stale check-in records: {records}");
    // Offer logs are "once ever" (ten years): one per grant. 3 a week at most, 1 a day:
    // days 0-2, 7-9, 14-16, 21-23, 28-29 -> 14.
    let offers = fields.iter().filter(|f| f.starts_with("o:")).count();
    assert_eq!(offers, 14, "offer logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_script_cache_is_reloaded_transparently() {
    let h = Harness::redis().await;
    let mut conn = raw(&h).await;
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .expect("flush");
    h.grant(&req_n(&person(63), 0)).await;
    h.limiter
        .cool_down(&person(63), "x", HOUR)
        .await
        .expect("cool-down after flush");
}

#[tokio::test]
async fn a_key_prefix_with_braces_is_refused() {
    let err = RedisLimiter::connect("redis://127.0.0.1:1/", "geo{x}:", DEFAULT_TIMEOUT).await;
    assert!(matches!(err, Err(LimiterError::InvalidConfig(_))));
}

/// Claims on a limiter with the production timeout; returns the error and how long it took.
async fn timed_claim(limiter: &RedisLimiter, n: usize) -> (Result<(), LimiterError>, Duration) {
    let started = Instant::now();
    let result = limiter.claim(&req_n(&person(70), n)).await.map(drop);
    (result, started.elapsed())
}

/// Slack for a loaded 2-core machine on top of the limiter's own timeout.
const GRACE: Duration = Duration::from_millis(150);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_fail_closed_within_the_timeout_when_redis_dies_and_recover_after_restart() {
    // Always our own server: this test kills it.
    let mut server = RedisServer::start();
    let limiter = RedisLimiter::connect(&server.url(), &random_prefix(), DEFAULT_TIMEOUT)
        .await
        .expect("connect")
        .with_test_clock(Arc::new(ManualClock::new(t0())));
    let (ok, _) = timed_claim(&limiter, 0).await;
    ok.expect("claims work while Redis is up");

    server.kill();
    for n in 1..=5 {
        let (result, took) = timed_claim(&limiter, n).await;
        assert!(
            matches!(result, Err(LimiterError::Unavailable(_))),
            "{result:?}"
        );
        assert!(took <= DEFAULT_TIMEOUT + GRACE, "took {took:?}");
    }
    assert!(matches!(
        limiter.ping().await,
        Err(LimiterError::Unavailable(_))
    ));

    server.restart();
    let restarted = Instant::now();
    let mut n = 100;
    loop {
        n += 1;
        if timed_claim(&limiter, n).await.0.is_ok() {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(2),
            "not back within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    limiter.ping().await.expect("ping after restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_fail_closed_within_the_timeout_when_redis_stalls() {
    let h = Harness::redis().await;
    let env = h.redis.as_ref().expect("redis");
    let limiter = RedisLimiter::connect(&env.url, &env.prefix, DEFAULT_TIMEOUT)
        .await
        .expect("connect");
    let mut conn = raw(&h).await;
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(400)
        .arg("ALL")
        .query_async(&mut conn)
        .await
        .expect("pause");
    let (result, took) = timed_claim(&limiter, 0).await;
    assert!(
        matches!(result, Err(LimiterError::Unavailable(_))),
        "{result:?}"
    );
    assert!(took <= DEFAULT_TIMEOUT + GRACE, "took {took:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    timed_claim(&limiter, 1)
        .await
        .0
        .expect("works once Redis answers again");
}
