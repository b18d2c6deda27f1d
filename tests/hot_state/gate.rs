//! Consent gate conformance: the Redis gate and the in-process gate follow the same change
//! protocol (mark, commit, publish; fill only with a ticket nothing replaced).

use crate::support::redis_cluster::RedisCluster;
use crate::support::redis_server::RedisServer;
use geoffer::people::PersonId;
use geoffer::people::gate::{Allowed, ConsentGate, InProcessGate, Lookup, RedisGate, Ticket};
use geoffer::redis_conns::{self, PerThread};
use std::sync::Arc;
use std::time::Duration;

const BOTH: Allowed = Allowed {
    location: true,
    personalization: true,
};
const LOCATION_ONLY: Allowed = Allowed {
    location: true,
    personalization: false,
};

/// A gate under test, with the server it needs kept alive.
struct Subject {
    gate: Box<dyn ConsentGate>,
    _server: Option<RedisServer>,
    _cluster: Option<Arc<RedisCluster>>,
}

async fn redis_gate(url: &str, timeout: Duration) -> RedisGate {
    let target = redis_conns::Target::parse(url).expect("url");
    let conns = PerThread::connect(target, redis_conns::config(timeout), timeout)
        .await
        .expect("connect");
    let prefix = format!("gate-test-{}:", uuid::Uuid::new_v4().simple());
    RedisGate::new(Arc::new(conns), &prefix, timeout)
}

async fn subjects() -> Vec<(&'static str, Subject)> {
    let server = RedisServer::start();
    let redis = redis_gate(&server.url(), Duration::from_secs(5)).await;
    let cluster = RedisCluster::shared();
    let on_cluster = redis_gate(&cluster.url(), Duration::from_secs(5)).await;
    vec![
        (
            "in-process",
            Subject {
                gate: Box::new(InProcessGate::default()),
                _server: None,
                _cluster: None,
            },
        ),
        (
            "redis",
            Subject {
                gate: Box::new(redis),
                _server: Some(server),
                _cluster: None,
            },
        ),
        (
            "redis-cluster",
            Subject {
                gate: Box::new(on_cluster),
                _server: None,
                _cluster: Some(cluster),
            },
        ),
    ]
}

fn person(user: &str) -> PersonId {
    PersonId::of("app", user)
}

async fn ticket(gate: &dyn ConsentGate, p: &PersonId, which: &str) -> Ticket {
    match gate.get(p).await {
        Lookup::Ask(Some(t)) => t,
        other => panic!("{which}: an unknown person hands out a fill ticket, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_person_is_asked_of_the_store_and_filled_once() {
    for (which, s) in subjects().await {
        let g = &*s.gate;
        let p = person("u1");
        let t = ticket(g, &p, which).await;
        // A second reader while the first fills asks the store without a ticket.
        assert_eq!(g.get(&p).await, Lookup::Ask(None), "{which}");
        g.fill(&p, t, LOCATION_ONLY).await;
        assert_eq!(g.get(&p).await, Lookup::Known(LOCATION_ONLY), "{which}");
    }
}

#[tokio::test]
async fn a_fill_that_raced_with_a_change_never_lands() {
    for (which, s) in subjects().await {
        let g = &*s.gate;
        let p = person("u2");
        let t = ticket(g, &p, which).await;
        g.begin_change(&p).await.expect("begin");
        g.fill(&p, t, BOTH).await;
        assert_eq!(
            g.get(&p).await,
            Lookup::Ask(None),
            "{which}: still changing"
        );
        g.publish(&p, Some(Allowed::NOTHING)).await;
        assert_eq!(g.get(&p).await, Lookup::Known(Allowed::NOTHING), "{which}");
    }
}

#[tokio::test]
async fn a_change_hides_the_known_state_until_it_publishes() {
    for (which, s) in subjects().await {
        let g = &*s.gate;
        let p = person("u3");
        g.publish(&p, Some(BOTH)).await;
        assert_eq!(g.get(&p).await, Lookup::Known(BOTH), "{which}");
        g.begin_change(&p).await.expect("begin");
        assert_eq!(g.get(&p).await, Lookup::Ask(None), "{which}: marked");
        g.publish(&p, Some(LOCATION_ONLY)).await;
        assert_eq!(g.get(&p).await, Lookup::Known(LOCATION_ONLY), "{which}");
    }
}

#[tokio::test]
async fn an_erasure_forgets_the_entry_and_the_next_reader_refills_it() {
    for (which, s) in subjects().await {
        let g = &*s.gate;
        let p = person("u4");
        g.publish(&p, Some(BOTH)).await;
        g.begin_change(&p).await.expect("begin");
        g.publish(&p, None).await;
        let t = ticket(g, &p, which).await;
        g.fill(&p, t, Allowed::NOTHING).await;
        assert_eq!(g.get(&p).await, Lookup::Known(Allowed::NOTHING), "{which}");
    }
}

#[tokio::test]
async fn a_stale_ticket_does_not_fill_and_people_are_independent() {
    for (which, s) in subjects().await {
        let g = &*s.gate;
        let (a, b) = (person("u5"), person("u6"));
        let first = ticket(g, &a, which).await;
        // The change completes, then the entry is erased and another reader takes a ticket:
        // the first reader's answer is older than both and must not land.
        g.begin_change(&a).await.expect("begin");
        g.publish(&a, None).await;
        let second = ticket(g, &a, which).await;
        g.fill(&a, first, BOTH).await;
        assert_eq!(g.get(&a).await, Lookup::Ask(None), "{which}: stale fill");
        g.fill(&a, second, LOCATION_ONLY).await;
        assert_eq!(g.get(&a).await, Lookup::Known(LOCATION_ONLY), "{which}");
        // Another person was never touched.
        assert!(matches!(g.get(&b).await, Lookup::Ask(Some(_))), "{which}");
    }
}

#[tokio::test]
async fn with_redis_down_readers_ask_the_store_and_changes_are_refused() {
    // A port nothing listens on: connecting is lazy in PerThread, so build against a live
    // server, then stop it.
    let server = RedisServer::start();
    let gate = redis_gate(&server.url(), Duration::from_millis(300)).await;
    drop(server);
    let p = person("u7");
    assert_eq!(gate.get(&p).await, Lookup::Ask(None));
    assert!(
        gate.begin_change(&p).await.is_err(),
        "a change that cannot mark the gate is refused"
    );
}
