//! Visit state conformance (enter, dwell, exit): the Redis script — on one server and on a
//! Redis Cluster, where its three keys must share the person's slot — and the in-process twin
//! move the same visits and answer the same events for the same reports.

use crate::habits::habits_at;
use crate::support::redis_cluster::RedisCluster;
use crate::support::redis_server::RedisServer;
use geoffer::habits::{Habits, InProcessHabits, Observed, Place, Track, VisitKind};

const M: i64 = 60_000;
const T0: i64 = 1_772_442_000_000; // 2026-03-02T09:00:00Z

/// One report: the fences it is inside and near, whether habits are kept (personalization),
/// its time and the clock's.
struct Report {
    inside: &'static [&'static str],
    near: &'static [&'static str],
    personal: bool,
    at: i64,
    now: i64,
}

fn at(inside: &'static [&'static str], near: &'static [&'static str], t: i64) -> Report {
    Report {
        inside,
        near,
        personal: true,
        at: t,
        now: t,
    }
}

fn track(r: &Report) -> Track {
    Track {
        inside: r
            .inside
            .iter()
            .map(|f| (f.to_string(), "chillco".to_string()))
            .collect(),
        near: r.near.iter().map(|f| f.to_string()).collect(),
        dwell_ms: 10 * M,
        timeout_ms: 30 * M,
    }
}

fn places(r: &Report) -> Vec<(Place, u8)> {
    if !r.personal {
        return Vec::new();
    }
    let mut out: Vec<(Place, u8)> = r
        .inside
        .iter()
        .map(|f| (Place::Fence(f.to_string()), 9))
        .collect();
    out.push((Place::Brand("chillco".into()), 9));
    out
}

/// Feeds the reports to Redis, a Redis Cluster and the twin; returns the answers once all agree.
async fn visits_agree(reports: &[Report]) -> Vec<Observed> {
    let server = RedisServer::start();
    let redis = habits_at(&server.url()).await;
    // Held to the end: the shared cluster stops when its last holder lets go.
    let nodes = RedisCluster::shared();
    let cluster = habits_at(&nodes.url()).await;
    let twin = InProcessHabits::new();
    let mut answers = Vec::new();
    for (i, r) in reports.iter().enumerate() {
        let (t, p) = (track(r), places(r));
        let a = redis
            .observe("p", &p, None, &t, r.at, r.now)
            .await
            .expect("redis");
        let b = twin
            .observe("p", &p, None, &t, r.at, r.now)
            .await
            .expect("twin");
        let c = cluster
            .observe("p", &p, None, &t, r.at, r.now)
            .await
            .expect("cluster");
        assert_eq!(a, b, "report {i} differs between Redis and the twin");
        assert_eq!(a, c, "report {i} differs on the cluster");
        answers.push(a);
    }
    answers
}

fn events(answers: &[Observed]) -> Vec<(usize, VisitKind, String)> {
    answers
        .iter()
        .enumerate()
        .flat_map(|(i, a)| a.events.iter().map(move |e| (i, e.kind, e.fence.clone())))
        .collect()
}

#[tokio::test]
async fn enter_then_dwell_then_exit_each_once_and_in_order() {
    let answers = visits_agree(&[
        at(&["shop"], &[], T0),
        at(&["shop"], &[], T0 + 4 * M),
        at(&["shop"], &[], T0 + 10 * M),
        at(&["shop"], &[], T0 + 15 * M),
        // Outside, in the block-away zone, farther from the shop than the margin.
        at(&["zone"], &[], T0 + 20 * M),
        at(&["zone"], &[], T0 + 22 * M),
    ])
    .await;
    let got: Vec<_> = events(&answers)
        .into_iter()
        .filter(|(_, _, f)| f == "shop")
        .collect();
    assert_eq!(
        got,
        vec![
            (0, VisitKind::Enter, "shop".into()),
            (2, VisitKind::Dwell, "shop".into()),
            (4, VisitKind::Exit, "shop".into()),
        ]
    );
    let shop_visit = &answers[5].visits["shop"];
    assert_eq!(shop_visit.enter_ms, T0);
    assert_eq!(shop_visit.exit_ms, Some(T0 + 20 * M));
}

#[tokio::test]
async fn pacing_on_the_boundary_with_30_m_accuracy_is_one_visit() {
    // Twenty reports a minute apart, alternately inside and just outside (within the margin).
    let mut reports = Vec::new();
    for i in 0..20 {
        let (inside, near): (&'static [&'static str], &'static [&'static str]) = if i % 2 == 0 {
            (&["shop"], &[])
        } else {
            (&["zone"], &["shop"])
        };
        reports.push(at(inside, near, T0 + i * M));
    }
    let answers = visits_agree(&reports).await;
    let shop: Vec<_> = events(&answers)
        .into_iter()
        .filter(|(_, _, f)| f == "shop")
        .map(|(_, k, _)| k)
        .collect();
    assert_eq!(shop, vec![VisitKind::Enter, VisitKind::Dwell]);
    // Habits count that one visit, not twenty pings: the last report inside the shop (an
    // even one; the odd ones are inside the zone, whose places are the zone's).
    let fence = &answers[18].places[0];
    assert_eq!(fence.visits.len(), 1, "{:?}", fence.visits);
}

#[tokio::test]
async fn habits_count_two_visits_separated_by_an_exit_less_than_three_hours_apart() {
    let answers = visits_agree(&[
        at(&["shop"], &[], T0),
        at(&["zone"], &[], T0 + 20 * M),
        at(&["shop", "zone"], &[], T0 + 45 * M),
    ])
    .await;
    let fence = &answers[2].places[0];
    let starts: Vec<i64> = fence.visits.iter().map(|v| v.0).collect();
    assert_eq!(starts, vec![T0, T0 + 45 * M]);
    // The brand's visit went on: the person stayed in its zone the whole time.
    let brand = answers[2].places.last().expect("the brand");
    assert_eq!(brand.visits.len(), 1, "{:?}", brand.visits);
}

#[tokio::test]
async fn a_timeout_ends_the_visit_at_the_next_report_and_a_late_report_moves_nothing() {
    let answers = visits_agree(&[
        at(&["shop"], &[], T0),
        at(&["shop"], &[], T0 + 5 * M),
        // 45 minutes without a report: the visit ended at the last one, a new one begins.
        at(&["shop"], &[], T0 + 50 * M),
        // A late (batched) report from before: feeds nothing into the visit state.
        Report {
            now: T0 + 51 * M,
            ..at(&["zone"], &[], T0 + 20 * M)
        },
        at(&["shop"], &[], T0 + 52 * M),
    ])
    .await;
    assert_eq!(
        events(&answers),
        vec![
            (0, VisitKind::Enter, "shop".into()),
            (2, VisitKind::Exit, "shop".into()),
            (2, VisitKind::Enter, "shop".into()),
        ]
    );
    assert_eq!(
        answers[2].events[0].at_ms,
        T0 + 5 * M,
        "exit at the last report"
    );
    assert!(!answers[3].visits_moved && answers[3].events.is_empty());
    assert!(
        !answers[3].visits.contains_key("zone"),
        "the late report opened nothing"
    );
    assert!(answers[4].visits_moved);
}

#[tokio::test]
async fn without_personalization_only_the_visit_state_is_kept() {
    let answers = visits_agree(&[
        Report {
            personal: false,
            ..at(&["shop"], &[], T0)
        },
        Report {
            personal: false,
            ..at(&["shop"], &[], T0 + 10 * M)
        },
    ])
    .await;
    assert!(answers.iter().all(|a| a.places.is_empty()));
    assert_eq!(
        events(&answers),
        vec![
            (0, VisitKind::Enter, "shop".into()),
            (1, VisitKind::Dwell, "shop".into())
        ]
    );
}
