//! Habits conformance: the Redis script and the in-process twin record the same visits and
//! return the same histories for the same check-ins, including late and out-of-order ones.

use crate::support::redis_cluster::RedisCluster;
use crate::support::redis_server::RedisServer;
use geoffer::habits::{
    HORIZON_MS, Habits, InProcessHabits, MAX_VISITS, Place, PlaceHistory, RedisHabits, VISIT_GAP_MS,
};
use geoffer::redis_conns::{self, PerThread};
use std::sync::Arc;
use std::time::Duration;

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;
const T0: i64 = 1_772_442_000_000; // 2026-03-02T09:00:00Z

async fn redis_habits(server: &RedisServer) -> RedisHabits {
    habits_at(&server.url()).await
}

async fn habits_at(url: &str) -> RedisHabits {
    let target = redis_conns::Target::parse(url).expect("url");
    let timeout = Duration::from_secs(5);
    let conns = PerThread::connect(target, redis_conns::config(timeout), timeout)
        .await
        .expect("connect");
    let prefix = format!("habits-test-{}:", uuid::Uuid::new_v4().simple());
    RedisHabits::new(Arc::new(conns), &prefix, timeout)
}

fn places(n: usize) -> Vec<(Place, u8)> {
    let mut out = vec![(Place::Brand("chillco".into()), 9)];
    out.extend((0..n).map(|i| (Place::Fence(format!("fence-{i}")), 9 + i as u8)));
    out
}

/// Feeds `reports` (check-in time, now) to every implementation (Redis, a Redis Cluster, the
/// twin) and compares every answer.
async fn both_agree(reports: &[(i64, i64)], n_places: usize) -> Vec<Vec<PlaceHistory>> {
    let server = RedisServer::start();
    let redis = redis_habits(&server).await;
    let cluster = RedisCluster::shared();
    let on_cluster = habits_at(&cluster.url()).await;
    let twin = InProcessHabits::new();
    let at = places(n_places);
    let mut answers = Vec::new();
    for (i, (t, now)) in reports.iter().enumerate() {
        let a = redis.observe("p1", &at, *t, *now).await.expect("redis");
        let b = twin.observe("p1", &at, *t, *now).await.expect("twin");
        assert_eq!(a, b, "report {i} at {t} (now {now}) differs");
        let c = on_cluster
            .observe("p1", &at, *t, *now)
            .await
            .expect("cluster");
        assert_eq!(a, c, "report {i} at {t} (now {now}) differs on the cluster");
        answers.push(a);
    }
    answers
}

#[tokio::test]
async fn visits_start_after_three_quiet_hours_in_redis_and_in_the_twin() {
    let reports = [
        (T0, T0),
        (T0 + H, T0 + H),                        // same visit
        (T0 + 2 * H, T0 + 2 * H),                // same visit
        (T0 + 2 * H + VISIT_GAP_MS, T0 + 6 * H), // a new visit
        (T0 + 2 * DAY, T0 + 2 * DAY),            // another
    ];
    let answers = both_agree(&reports, 2).await;
    let last = &answers.last().expect("answers")[1];
    assert_eq!(last.visits.len(), 3);
    assert_eq!(last.current_start, T0 + 2 * DAY);
    assert_eq!(
        last.visits[0],
        (T0, 9),
        "visit start with the local hour at the place"
    );
}

#[tokio::test]
async fn late_and_old_reports_agree_in_redis_and_in_the_twin() {
    let reports = [
        (T0 + 10 * H, T0 + 10 * H),
        (T0 + 9 * H, T0 + 10 * H), // late, inside the visit: moves its start earlier
        (T0 + 9 * H, T0 + 10 * H), // the same report again: changes nothing
        (T0 - 3 * DAY, T0 + 10 * H), // much older: a past visit of its own
        (T0 + 11 * H, T0 + 11 * H),
    ];
    let answers = both_agree(&reports, 1).await;
    let fence = &answers.last().expect("answers")[1];
    assert_eq!(fence.current_start, T0 + 9 * H);
    let starts: Vec<i64> = fence.visits.iter().map(|v| v.0).collect();
    assert_eq!(starts, vec![T0 - 3 * DAY, T0 + 9 * H]);
}

#[tokio::test]
async fn old_visits_fade_past_the_horizon_in_redis_and_in_the_twin() {
    // A visit every other day for 80 days: only those inside the horizon remain.
    let reports: Vec<(i64, i64)> = (0..40)
        .map(|i| (T0 + 2 * i * DAY, T0 + 2 * i * DAY))
        .collect();
    let answers = both_agree(&reports, 1).await;
    let fence = &answers.last().expect("answers")[1];
    let now = T0 + 78 * DAY;
    assert!(fence.visits.iter().all(|v| v.0 > now - HORIZON_MS));
    assert_eq!(fence.visits.len(), 28);
    assert!(fence.visits.len() <= MAX_VISITS);
}

#[tokio::test]
async fn forgetting_a_person_erases_their_habits_in_redis() {
    let server = RedisServer::start();
    let redis = redis_habits(&server).await;
    redis
        .observe("p2", &places(2), T0, T0)
        .await
        .expect("observe");
    redis.forget("p2").await.expect("forget");
    let again = redis
        .observe("p2", &places(2), T0 + DAY, T0 + DAY)
        .await
        .expect("observe");
    assert!(again.iter().all(|h| h.visits.len() == 1), "{again:?}");
}
