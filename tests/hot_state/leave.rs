//! The consent read in the round trip of the visits (docs/visits.md): outside every fence it
//! closes the person's open visits, inside a fence it observes visits and habits — one script
//! on the person's slot (Redis, and a Redis Cluster where the gate's entry and the person's
//! keys must share it); the twin, whose gate is read first, does the same. Every backend
//! answers the same consent and the same visits.

use crate::support::redis_cluster::RedisCluster;
use crate::support::redis_server::RedisServer;
use geoffer::habits::{
    Gated, Habits, InProcessHabits, Leaving, Left, Observed, Place, RedisHabits, Track, VisitEvent,
    VisitKind,
};
use geoffer::people::PersonId;
use geoffer::people::gate::{Allowed, ConsentGate, InProcessGate, Lookup, RedisGate};
use geoffer::redis_conns::{self, PerThread};
use std::sync::Arc;
use std::time::Duration;

const M: i64 = 60_000;
const T0: i64 = 1_772_442_000_000; // 2026-03-02T09:00:00Z
const LOCATION_ONLY: Allowed = Allowed {
    location: true,
    personalization: false,
};

/// One backend: habits and the consent gate over the same prefix (and, on Redis, the same
/// connections), as startup pairs them.
struct Slot {
    name: &'static str,
    habits: Box<dyn Habits>,
    gate: Box<dyn ConsentGate>,
}

async fn redis_slot(name: &'static str, url: &str) -> Slot {
    let target = redis_conns::Target::parse(url).expect("url");
    let timeout = Duration::from_secs(5);
    let conns = Arc::new(
        PerThread::connect(target, redis_conns::config(timeout), timeout)
            .await
            .expect("connect"),
    );
    let prefix = format!("leave-test-{}:", uuid::Uuid::new_v4().simple());
    Slot {
        name,
        habits: Box::new(RedisHabits::new(conns.clone(), &prefix, timeout)),
        gate: Box::new(RedisGate::new(conns, &prefix, timeout)),
    }
}

fn track(inside: &[&str], near: &[&str]) -> Track {
    Track {
        inside: inside
            .iter()
            .map(|f| (f.to_string(), "chillco".to_string()))
            .collect(),
        near: near.iter().map(|f| f.to_string()).collect(),
        dwell_ms: 10 * M,
        timeout_ms: 30 * M,
    }
}

/// What the check-in path does outside every fence (`checkins/consent.rs`): one call that
/// reads the gate; if the backend could not, the gate's own read, then the call again with
/// consent checked. Returns the consent and the visits closed, and how many calls it took.
async fn leave(
    s: &Slot,
    p: &PersonId,
    near: &[&str],
    key: &str,
    at: i64,
) -> (Allowed, Left, usize) {
    let t = track(&[], near);
    let first = s
        .habits
        .leave(p.as_str(), false, &t, key, at, at)
        .await
        .expect("leave");
    if let Leaving {
        gate: Some(consent),
        left,
    } = first
    {
        return (consent, left, 1);
    }
    assert_eq!(
        first.left,
        Left::default(),
        "{}: nothing moved unread",
        s.name
    );
    let Lookup::Known(consent) = s.gate.get(p).await else {
        panic!("{}: the test publishes consent first", s.name);
    };
    if !consent.location {
        return (consent, Left::default(), 2);
    }
    let again = s
        .habits
        .leave(p.as_str(), true, &t, key, at, at)
        .await
        .expect("leave");
    assert_eq!(again.gate, None, "{}: a checked call reads no gate", s.name);
    (consent, again.left, 3)
}

/// A report inside `fences` at `at`, with habits for `places`; its visit events.
async fn inside(
    s: &Slot,
    p: &PersonId,
    fences: &[&str],
    places: &[(Place, u8)],
    at: i64,
) -> Vec<VisitEvent> {
    let t = track(fences, &[]);
    let o = s.habits.observe(p.as_str(), places, None, &t, at, at).await;
    o.expect("observe").events
}

async fn slots() -> (Vec<Slot>, RedisServer, Arc<RedisCluster>) {
    let server = RedisServer::start();
    let cluster = RedisCluster::shared();
    let slots = vec![
        redis_slot("redis", &server.url()).await,
        redis_slot("redis-cluster", &cluster.url()).await,
        Slot {
            name: "twin",
            habits: Box::new(InProcessHabits::new()),
            gate: Box::new(InProcessGate::default()),
        },
    ];
    (slots, server, cluster)
}

fn kinds(l: &Left) -> Vec<(VisitKind, &str)> {
    l.events
        .iter()
        .map(|e| (e.kind, e.fence.as_str()))
        .collect()
}

#[tokio::test]
async fn outside_every_fence_open_visits_close_beyond_the_margin_in_one_call_on_redis() {
    let (slots, _server, _cluster) = slots().await;
    let p = PersonId::of("app", "walker");
    let mut answers: Vec<Vec<Left>> = Vec::new();
    for s in &slots {
        s.gate.publish(&p, Some(LOCATION_ONLY)).await;
        // In the shop and its block-away zone.
        let entered = inside(s, &p, &["shop", "zone"], &[], T0).await;
        assert_eq!(entered.len(), 2, "{}", s.name);
        let mut got = Vec::new();
        // Outside both, but within the margin of the zone: the shop closes, the zone stays.
        let (consent, left, calls) = leave(s, &p, &["zone"], "k1", T0 + 5 * M).await;
        assert_eq!(consent, LOCATION_ONLY, "{}", s.name);
        let expected_calls = if s.name == "twin" { 3 } else { 1 };
        assert_eq!(calls, expected_calls, "{}: one round trip on Redis", s.name);
        assert_eq!(kinds(&left), vec![(VisitKind::Exit, "shop")], "{}", s.name);
        assert_eq!(left.visits["shop"].exit_ms, Some(T0 + 5 * M), "{}", s.name);
        assert_eq!(left.visits["zone"].exit_ms, None, "{}", s.name);
        got.push(left);
        // The same report again (its fingerprint): a retry, which moves nothing.
        let (_, left, _) = leave(s, &p, &[], "k1", T0 + 5 * M).await;
        assert!(left.retry && left.events.is_empty(), "{}: {left:?}", s.name);
        got.push(left);
        // Beyond every margin: the zone closes too; then nothing is open, nothing moves.
        let (_, left, _) = leave(s, &p, &[], "k2", T0 + 7 * M).await;
        assert_eq!(kinds(&left), vec![(VisitKind::Exit, "zone")], "{}", s.name);
        got.push(left);
        let (_, left, _) = leave(s, &p, &[], "k3", T0 + 8 * M).await;
        assert_eq!(left, Left::default(), "{}", s.name);
        got.push(left);
        // Back inside the shop: a new visit, as after any exit.
        let entered = inside(s, &p, &["shop"], &[], T0 + 9 * M).await;
        let kinds: Vec<VisitKind> = entered.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![VisitKind::Enter], "{}", s.name);
        answers.push(got);
    }
    assert_eq!(answers[0], answers[1], "redis and the cluster differ");
    assert_eq!(answers[0], answers[2], "redis and the twin differ");
}

#[tokio::test]
async fn outside_every_fence_without_consent_or_with_a_late_report_nothing_closes() {
    let (slots, _server, _cluster) = slots().await;
    for s in &slots {
        let p = PersonId::of("app", "withdrawn");
        s.gate.publish(&p, Some(LOCATION_ONLY)).await;
        let places = [(Place::Fence("shop".into()), 9)];
        inside(s, &p, &["shop"], &places, T0).await;
        // A late report (older than the state) outside every fence closes nothing.
        let (_, left, _) = leave(s, &p, &[], "late", T0 - M).await;
        assert_eq!(left, Left::default(), "{}", s.name);
        // Location consent withdrawn: the script reads it and keeps its hands off the visits.
        s.gate.publish(&p, Some(Allowed::NOTHING)).await;
        let (consent, left, _) = leave(s, &p, &[], "k", T0 + M).await;
        assert_eq!(consent, Allowed::NOTHING, "{}", s.name);
        assert_eq!(left, Left::default(), "{}", s.name);
        // Given again: the visit is still open, and this report closes it.
        s.gate.publish(&p, Some(LOCATION_ONLY)).await;
        let (_, left, _) = leave(s, &p, &[], "k", T0 + 2 * M).await;
        assert_eq!(kinds(&left), vec![(VisitKind::Exit, "shop")], "{}", s.name);
    }
}

#[tokio::test]
async fn on_redis_an_entry_that_is_not_a_consent_state_is_left_to_the_gate_and_nothing_moves() {
    let server = RedisServer::start();
    let s = redis_slot("redis", &server.url()).await;
    let p = PersonId::of("app", "new");
    inside(&s, &p, &["shop"], &[], T0).await;
    // Never read (absent), then a change in progress: the gate's protocol decides.
    for step in ["absent", "changing"] {
        if step == "changing" {
            s.gate.begin_change(&p).await.expect("mark");
        }
        let first = s
            .habits
            .leave(p.as_str(), false, &track(&[], &[]), "k", T0 + M, T0 + M)
            .await
            .expect("leave");
        assert_eq!(first, Leaving::default(), "{step}");
    }
    // The store said yes: the caller asks again with consent checked, and the visit closes.
    let again = s
        .habits
        .leave(p.as_str(), true, &track(&[], &[]), "k", T0 + M, T0 + M)
        .await
        .expect("leave");
    assert_eq!(kinds(&again.left), vec![(VisitKind::Exit, "shop")]);
}

/// What the check-in path does inside a fence (`checkins/visits.rs`): one call that reads the
/// gate and observes; if the backend could not read it, the gate's own read, then `observe`
/// (places only with personalization). Returns the consent, the observation and the calls.
async fn observe(s: &Slot, p: &PersonId, fences: &[&str], at: i64) -> (Allowed, Observed, usize) {
    let t = track(fences, &[]);
    let places: Vec<(Place, u8)> = fences
        .iter()
        .map(|f| (Place::Fence(f.to_string()), 9))
        .collect();
    let first = s
        .habits
        .observe_gated(p.as_str(), &places, fences.first().copied(), &t, at, at)
        .await
        .expect("observe_gated");
    if let Gated {
        gate: Some(consent),
        observed,
    } = first
    {
        return (consent, observed, 1);
    }
    assert_eq!(first.observed, Observed::default(), "{}", s.name);
    let Lookup::Known(consent) = s.gate.get(p).await else {
        panic!("{}: the test publishes consent first", s.name);
    };
    if !consent.location {
        return (consent, Observed::default(), 2);
    }
    let places = if consent.personalization {
        &places[..]
    } else {
        &[]
    };
    let first_fence = fences.first().copied();
    let o = s
        .habits
        .observe(p.as_str(), places, first_fence, &t, at, at);
    (consent, o.await.expect("observe"), 3)
}

#[tokio::test]
async fn inside_a_fence_consent_and_visits_take_one_call_on_redis_and_agree_everywhere() {
    let (slots, _server, _cluster) = slots().await;
    let both = Allowed {
        location: true,
        personalization: true,
    };
    let mut answers = Vec::new();
    for s in &slots {
        let p = PersonId::of("app", "shopper");
        let on_redis = s.name != "twin";
        // Without location consent nothing is observed: no visit opens.
        s.gate.publish(&p, Some(Allowed::NOTHING)).await;
        let (consent, o, calls) = observe(s, &p, &["shop"], T0).await;
        assert_eq!((consent, &o), (Allowed::NOTHING, &Observed::default()));
        assert_eq!(calls, if on_redis { 1 } else { 2 }, "{}", s.name);
        // Location only: the visit opens, no habit place is kept.
        s.gate.publish(&p, Some(LOCATION_ONLY)).await;
        let (consent, o, calls) = observe(s, &p, &["shop"], T0 + M).await;
        assert_eq!(consent, LOCATION_ONLY, "{}", s.name);
        assert_eq!(calls, if on_redis { 1 } else { 3 }, "{}", s.name);
        assert!(o.places.is_empty(), "{}: {o:?}", s.name);
        assert_eq!(o.events.len(), 1, "{}: the enter, the first one", s.name);
        answers.push(o);
        // With personalization: the habits come back in the same call.
        s.gate.publish(&p, Some(both)).await;
        let (_, o, _) = observe(s, &p, &["shop"], T0 + 2 * M).await;
        assert_eq!(o.places.len(), 1, "{}: {o:?}", s.name);
        assert_eq!(o.previous.as_ref().map(|p| p.at_ms), Some(T0 + M));
        answers.push(o);
    }
    assert_eq!(answers[0..2], answers[2..4], "redis and the cluster differ");
    assert_eq!(answers[0..2], answers[4..6], "redis and the twin differ");
}
