//! What every conformance test gets: a limiter, the clock it reads, and request helpers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use geoffer::clock::ManualClock;
use geoffer::limits::{
    Budget, Cap, Caps, ClaimOutcome, ClaimRequest, Denial, InProcessLimiter, Limiter, RedisLimiter,
    Window,
};

use crate::support::redis_cluster::RedisCluster;
use crate::support::redis_server::RedisServer;

/// Makes one test per implementation from each listed body.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::limits::harness::Harness::in_process().await).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::limits::harness::Harness::redis().await).await;
                }
            )*
        }
        mod redis_cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::limits::harness::Harness::redis_cluster().await).await;
                }
            )*
        }
    };
}

/// Generous per-call bound for tests: a debug build under a 1,000-claim burst is slow,
/// and these tests are about semantics (the failure tests use the real default).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(5);

pub const MINUTE: Duration = Duration::from_secs(60);
pub const HOUR: Duration = Duration::from_secs(3600);
pub const DAY: Duration = Duration::from_secs(24 * 3600);

/// Where every test's clock starts: a Monday, 09:00 UTC.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("valid start")
        .with_timezone(&Utc)
}

/// A Redis limiter's environment, kept alive for the test.
pub struct RedisEnv {
    pub url: String,
    pub prefix: String,
    /// Our own server, unless GEOFFER_TEST_REDIS_URL points at a shared one.
    pub server: Option<RedisServer>,
    /// The cluster this test shares with the others running now.
    pub _cluster: Option<Arc<RedisCluster>>,
}

/// One limiter under test and the clock it reads.
pub struct Harness {
    pub limiter: Arc<dyn Limiter>,
    pub clock: Arc<ManualClock>,
    pub redis: Option<RedisEnv>,
}

impl Harness {
    /// The in-process twin on a manual clock.
    pub async fn in_process() -> Harness {
        let clock = Arc::new(ManualClock::new(t0()));
        Harness {
            limiter: Arc::new(InProcessLimiter::new(clock.clone())),
            clock,
            redis: None,
        }
    }

    /// A Redis limiter on a manual clock, with its own server and key prefix.
    pub async fn redis() -> Harness {
        let (url, server) = match std::env::var("GEOFFER_TEST_REDIS_URL") {
            Ok(url) => (url, None),
            Err(_) => {
                let server = RedisServer::start();
                (server.url(), Some(server))
            }
        };
        let prefix = random_prefix();
        let clock = Arc::new(ManualClock::new(t0()));
        let limiter = RedisLimiter::connect(&url, &prefix, TEST_TIMEOUT)
            .await
            .expect("connect to the test redis")
            .with_test_clock(clock.clone());
        Harness {
            limiter: Arc::new(limiter),
            clock,
            redis: Some(RedisEnv {
                url,
                prefix,
                server,
                _cluster: None,
            }),
        }
    }

    /// A Redis limiter on a three-master Redis Cluster (shared by the tests running now; this
    /// test's keys carry its own prefix), on a manual clock.
    pub async fn redis_cluster() -> Harness {
        let cluster = RedisCluster::shared();
        let url = cluster.url();
        let prefix = random_prefix();
        let clock = Arc::new(ManualClock::new(t0()));
        let limiter = RedisLimiter::connect(&url, &prefix, TEST_TIMEOUT)
            .await
            .expect("connect to the test cluster")
            .with_test_clock(clock.clone());
        Harness {
            limiter: Arc::new(limiter),
            clock,
            redis: Some(RedisEnv {
                url,
                prefix,
                server: None,
                _cluster: Some(cluster),
            }),
        }
    }

    /// Moves the limiter's clock forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The limiter's current time.
    pub fn now(&self) -> DateTime<Utc> {
        geoffer::clock::Clock::now(&*self.clock)
    }

    /// Claims and expects an answer (not an error).
    pub async fn claim(&self, req: &ClaimRequest) -> ClaimOutcome {
        self.limiter.claim(req).await.expect("limiter answers")
    }

    /// Claims and expects a fresh grant.
    pub async fn grant(&self, req: &ClaimRequest) -> DateTime<Utc> {
        match self.claim(req).await {
            ClaimOutcome::Granted {
                at,
                replayed: false,
                ..
            } => at,
            other => panic!(
                "expected a fresh grant for {}, got {other:?}",
                req.checkin_id
            ),
        }
    }

    /// Claims and expects a refusal by `cap`.
    pub async fn deny(&self, req: &ClaimRequest, cap: Cap) -> Denial {
        match self.claim(req).await {
            ClaimOutcome::Denied(denial) if denial.cap == cap => denial,
            other => panic!("expected {cap} for {}, got {other:?}", req.checkin_id),
        }
    }
}

/// A fresh key prefix, so tests sharing one Redis never see each other's keys.
pub fn random_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("test:{:x}{n:x}:{}:", nanos, std::process::id())
}

/// A person token shaped like production ones (`[0-9a-f]{32}`).
pub fn person(n: u64) -> String {
    format!("{:032x}", u128::from(n) * 0x9e37_79b9 + 1)
}

/// A claim with the deployment's default caps and no budget.
pub fn req(person: &str, checkin: &str, brand: &str, offer: &str, fence: &str) -> ClaimRequest {
    ClaimRequest {
        checkin_id: checkin.to_owned(),
        person: person.to_owned(),
        brand: brand.to_owned(),
        offer_id: offer.to_owned(),
        fence_id: fence.to_owned(),
        caps: Caps::default(),
        budget: Budget::default(),
    }
}

/// A claim whose brand, offer and fence all differ with `n`, so only the
/// all-brands caps (day, week) can bind.
pub fn req_n(person: &str, n: usize) -> ClaimRequest {
    let n = n.to_string();
    req(
        person,
        &format!("ck-{n}"),
        &format!("brand-{n}"),
        &format!("offer-{n}"),
        &format!("fence-{n}"),
    )
}

/// Caps where nothing binds in a test's lifetime.
pub fn generous() -> Caps {
    let wide = Window::per_days(1_000_000, 7);
    Caps {
        person_day: wide,
        person_week: wide,
        person_brand: wide,
        person_offer: wide,
        person_fence: wide,
    }
}

/// Generous caps except `cap`, which gets `window`.
pub fn only(cap: Cap, window: Window) -> Caps {
    let mut caps = generous();
    match cap {
        Cap::PersonDay => caps.person_day = window,
        Cap::PersonWeek => caps.person_week = window,
        Cap::PersonBrand => caps.person_brand = window,
        Cap::PersonOffer => caps.person_offer = window,
        Cap::PersonFence => caps.person_fence = window,
        other => panic!("{other} is not a window cap"),
    }
    caps
}

/// Two answers to the same (check-in, offer) agree, ignoring which one was the replay.
pub fn same_answer(a: &ClaimOutcome, b: &ClaimOutcome) -> bool {
    match (a, b) {
        (ClaimOutcome::Granted { at: x, .. }, ClaimOutcome::Granted { at: y, .. }) => x == y,
        (ClaimOutcome::Denied(x), ClaimOutcome::Denied(y)) => x == y,
        _ => false,
    }
}
