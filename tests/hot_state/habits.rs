//! Habits conformance: the Redis script and the in-process twin record the same visits and
//! return the same histories for the same check-ins, including late and out-of-order ones.

use crate::support::redis_cluster::RedisCluster;
use crate::support::redis_server::RedisServer;
use geoffer::habits::{
    HORIZON_MS, Habits, InProcessHabits, MAX_VISITS, Observed, Place, PlaceHistory, RedisHabits,
    SIGHTING_TTL_MS, Sighting, Track, VISIT_GAP_MS,
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

pub(crate) async fn habits_at(url: &str) -> RedisHabits {
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
        let a = redis
            .observe("p1", &at, None, &Track::default(), *t, *now)
            .await
            .expect("redis");
        let b = twin
            .observe("p1", &at, None, &Track::default(), *t, *now)
            .await
            .expect("twin");
        assert_eq!(a, b, "report {i} at {t} (now {now}) differs");
        let c = on_cluster
            .observe("p1", &at, None, &Track::default(), *t, *now)
            .await
            .expect("cluster");
        assert_eq!(a, c, "report {i} at {t} (now {now}) differs on the cluster");
        answers.push(a.places);
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
        .observe("p2", &places(2), Some("fence-0"), &Track::default(), T0, T0)
        .await
        .expect("observe");
    redis.forget("p2").await.expect("forget");
    let again = redis
        .observe("p2", &places(2), None, &Track::default(), T0 + H, T0 + H)
        .await
        .expect("observe");
    assert!(
        again.places.iter().all(|h| h.visits.len() == 1),
        "{again:?}"
    );
    assert_eq!(again.previous, None, "the sighting went with the habits");
}

/// Feeds `reports` (places or none, sighting fence, check-in time, now) for one person to
/// Redis, a Redis Cluster and the twin, and returns the answers once they all agree.
async fn sightings_agree(reports: &[(bool, Option<&str>, i64, i64)]) -> Vec<Observed> {
    let server = RedisServer::start();
    let redis = redis_habits(&server).await;
    // Held to the end: the shared cluster stops when its last holder lets go.
    let nodes = RedisCluster::shared();
    let on_cluster = habits_at(&nodes.url()).await;
    let twin = InProcessHabits::new();
    let mut answers = Vec::new();
    for (i, (personal, fence, t, now)) in reports.iter().enumerate() {
        let at = if *personal { places(1) } else { Vec::new() };
        let a = redis
            .observe("p3", &at, *fence, &Track::default(), *t, *now)
            .await
            .expect("redis");
        let b = twin
            .observe("p3", &at, *fence, &Track::default(), *t, *now)
            .await
            .expect("twin");
        let c = on_cluster
            .observe("p3", &at, *fence, &Track::default(), *t, *now)
            .await;
        assert_eq!(a, b, "report {i} differs");
        assert_eq!(a, c.expect("cluster"), "report {i} differs on the cluster");
        answers.push(a);
    }
    answers
}

#[tokio::test]
async fn the_last_sighting_comes_back_with_or_without_habits_and_expires_after_six_hours() {
    let seen = |fence: &str, at_ms| {
        Some(Sighting {
            fence: fence.into(),
            at_ms,
        })
    };
    let ten_min = 10 * 60_000;
    let answers = sightings_agree(&[
        // Without personalization consent: no visits, only the sighting.
        (false, Some("a"), T0, T0),
        // With it (consent given since), the sighting moves in with the habits.
        (true, Some("b"), T0 + ten_min, T0 + ten_min),
        // A late report is compared with the newer sighting but does not replace it.
        (true, Some("c"), T0 + 5 * 60_000, T0 + ten_min),
        // Nothing to record: nothing is asked.
        (false, None, T0 + ten_min, T0 + ten_min),
        (true, Some("c"), T0 + 20 * 60_000, T0 + 20 * 60_000),
        // Six hours after it was written, the sighting is gone.
        (true, Some("d"), T0 + H, T0 + 20 * 60_000 + SIGHTING_TTL_MS),
    ])
    .await;
    let previous: Vec<_> = answers.iter().map(|a| a.previous.clone()).collect();
    assert_eq!(
        previous,
        vec![
            None,
            seen("a", T0),
            seen("b", T0 + ten_min),
            None,
            seen("b", T0 + ten_min),
            None
        ]
    );
    assert!(answers[0].places.is_empty(), "no habits without consent");
    assert_eq!(answers[1].places.len(), 2);
}

#[tokio::test]
async fn without_habits_the_sighting_is_one_key_that_redis_expires_after_six_hours() {
    let server = RedisServer::start();
    let redis = redis_habits(&server).await;
    redis
        .observe("p4", &[], Some("fence-0"), &Track::default(), T0, T0)
        .await
        .expect("observe");
    let client = ::redis::Client::open(server.url()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let keys: Vec<String> = ::redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].ends_with("{u:p4}:seen"), "{keys:?}");
    let value: String = ::redis::cmd("GET")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .expect("get");
    assert_eq!(value, format!("fence-0 {T0} {}", T0 + SIGHTING_TTL_MS));
    let ttl: i64 = ::redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .expect("pttl");
    assert!(ttl > 0 && ttl <= SIGHTING_TTL_MS, "{ttl}");
}
