//! The production limiter: Lua scripts on Redis (standalone or cluster).
//!
//! A claim is two steps on two hash slots:
//! 1. `claim.lua` on the person's keys checks and records every personal cap at once;
//! 2. if granted and the offer has a budget, `budget.lua` reserves it on the offer's keys;
//!    when the budget refuses, `release.lua` undoes step 1 exactly (compensation).
//!
//! A crash (or timeout) between the steps leaves step 1 recorded without a delivery: the
//! person may get fewer offers than allowed, never more. A retry of the same check-in
//! replays step 1 and completes step 2, because both steps are idempotent.
//!
//! About 370 lines: the one client of the limiter's scripts (loading, claim in two slots,
//! release, refund, forget, peek); key names are in `keys.rs`, reply decoding in `wire.rs`.

mod keys;
mod peek;
mod wire;

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use ::redis::{RedisError, Script};

use self::keys::{OfferKeys, PersonKeys};
use super::{
    Ask, Cap, ClaimOutcome, ClaimRequest, IDEMPOTENCY_TTL, Limiter, LimiterError, validate_id,
    validate_person,
};
use crate::clock::Clock;
use crate::redis_conns::{self, CallError, Calls, Conn, MIN_CONNECT_TIMEOUT, PerThread, Target};

/// A UTC day in ms (budgets count per UTC day).
const DAY_MS: i64 = 86_400_000;

/// The scripts, hashed once; `invoke_async` sends EVALSHA and, on NOSCRIPT (after a
/// Redis restart or failover), loads the script and retries once.
struct Scripts {
    claim: Script,
    release: Script,
    budget: Script,
    refund: Script,
    cool_down: Script,
    peek: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    claim: Script::new(include_str!("claim.lua")),
    release: Script::new(include_str!("release.lua")),
    budget: Script::new(include_str!("budget.lua")),
    refund: Script::new(include_str!("refund.lua")),
    cool_down: Script::new(include_str!("cool_down.lua")),
    peek: Script::new(include_str!("peek.lua")),
});

/// Rate limiter backed by Redis (standalone or Cluster); share it as `Arc<dyn Limiter>`.
pub struct RedisLimiter {
    // One multiplexed connection per thread (see redis_conns); each reconnects by itself
    // after errors, so the limiter survives a Redis restart without rebuilding.
    conns: PerThread,
    prefix: String,
    /// Bounds every call and counts its time and failures per operation.
    calls: Calls,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for RedisLimiter {
    // Hand-written: the connection's Debug would print the URL, which may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("prefix", &self.prefix)
            .field("timeout", &self.calls.timeout())
            .field("test_clock", &self.clock.is_some())
            .finish()
    }
}

impl RedisLimiter {
    /// Connects to `url`; every key starts with `key_prefix`; every call is bounded by `timeout`.
    pub async fn connect(
        url: &str,
        key_prefix: &str,
        timeout: Duration,
    ) -> Result<Self, LimiterError> {
        keys::validate_prefix(key_prefix)?;
        // The URL may carry a password: never echo it.
        let target = Target::parse(url).map_err(|e| LimiterError::InvalidConfig(e.to_string()))?;
        let connect = async {
            let conns = PerThread::connect(target, redis_conns::config(timeout), timeout)
                .await
                .map_err(unavailable)?;
            // Loading up front spares the first claims a NOSCRIPT round trip.
            let mut conn = conns.get().await;
            for script in [
                &SCRIPTS.claim,
                &SCRIPTS.release,
                &SCRIPTS.budget,
                &SCRIPTS.cool_down,
                &SCRIPTS.peek,
            ] {
                script.load_async(&mut conn).await.map_err(unavailable)?;
            }
            Ok::<_, LimiterError>(conns)
        };
        let conns = tokio::time::timeout(timeout.max(MIN_CONNECT_TIMEOUT), connect)
            .await
            .map_err(|_| LimiterError::Unavailable("connecting to Redis timed out".into()))??;
        Ok(Self {
            conns,
            prefix: key_prefix.to_owned(),
            calls: Calls::new(timeout),
            clock: None,
        })
    }

    /// Bounds and counts calls with `calls` (shared with the other Redis users, so their
    /// metrics are exported once) instead of a private, unexported set.
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    /// Tests only: scripts use this clock instead of Redis `TIME`, so window edges can be
    /// tested without sleeping. Never use in production: replicas' clocks drift.
    pub fn with_test_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The "now" argument of every script: empty means "use Redis TIME".
    fn now_arg(&self) -> String {
        self.clock
            .as_ref()
            .map(|clock| clock.now_ms().to_string())
            .unwrap_or_default()
    }

    /// Bounds one whole limiter call, so a slow or dead Redis turns into a prompt refusal.
    /// The connection is taken first: making it is not part of the call's budget.
    async fn bounded<T>(
        &self,
        what: &'static str,
        call: impl AsyncFnOnce(&mut Conn) -> Result<T, LimiterError>,
    ) -> Result<T, LimiterError> {
        let mut conn = self.conns.get().await;
        match self.calls.bounded(what, call(&mut conn)).await {
            Ok(v) => Ok(v),
            Err(CallError::Failed(e)) => Err(e),
            Err(CallError::Timeout(after)) => Err(LimiterError::Unavailable(format!(
                "{what} timed out after {after:?}"
            ))),
        }
    }

    async fn claim_unbounded(
        &self,
        conn: &mut Conn,
        req: &ClaimRequest,
    ) -> Result<ClaimOutcome, LimiterError> {
        let person = PersonKeys::new(&self.prefix, &req.person).limits();
        let now = self.now_arg();
        let caps = &req.caps;

        let mut claim = SCRIPTS.claim.prepare_invoke();
        claim
            .key(&person)
            .arg(&req.checkin_id)
            .arg(&req.offer_id)
            .arg(&req.brand)
            .arg(&req.fence_id)
            .arg(&now);
        for window in [
            caps.person_day,
            caps.person_week,
            caps.person_brand,
            caps.person_offer,
            caps.person_fence,
        ] {
            claim.arg(window.count).arg(window.period_ms());
        }
        claim.arg(millis(IDEMPOTENCY_TTL));
        let (answer, replayed): (String, i64) =
            claim.invoke_async(conn).await.map_err(unavailable)?;
        let outcome = wire::parse_answer(&answer, replayed == 1)?;
        if !outcome.is_granted() || req.budget.is_unlimited() {
            return Ok(outcome);
        }

        let ClaimOutcome::Granted { at, .. } = &outcome else {
            return Ok(outcome);
        };
        let offer = OfferKeys::new(&self.prefix, &req.offer_id);
        let limit = |l: Option<u64>| l.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let budget: String = SCRIPTS
            .budget
            .key(offer.counters())
            .key(offer.reservations(at.timestamp_millis().div_euclid(DAY_MS)))
            .arg(&req.checkin_id)
            .arg(limit(req.budget.total))
            .arg(limit(req.budget.daily))
            .arg(at.timestamp_millis())
            .arg(millis(IDEMPOTENCY_TTL))
            .invoke_async(conn)
            .await
            .map_err(unavailable)?;
        if let Some(used_up) = budget.strip_prefix("OK") {
            return wire::with_exhausted(outcome, used_up);
        }

        let refusal = wire::parse_answer(&budget, false)?;
        let released: Result<i64, RedisError> = SCRIPTS
            .release
            .key(&person)
            .arg(&req.checkin_id)
            .arg(&req.offer_id)
            .arg(&budget)
            .invoke_async(conn)
            .await;
        if let Err(e) = released {
            // The answer stays a refusal; the person's slot stays taken until its window
            // ends (under-delivery). A retry of this check-in replays and releases again.
            tracing::warn!(error = %e, "could not release a claim refused by the offer budget");
        }
        Ok(refusal)
    }
}

#[async_trait::async_trait]
impl Limiter for RedisLimiter {
    async fn claim(&self, req: &ClaimRequest) -> Result<ClaimOutcome, LimiterError> {
        req.validate()?;
        self.bounded("claim", async |conn| self.claim_unbounded(conn, req).await)
            .await
    }

    async fn cool_down(
        &self,
        person: &str,
        brand: &str,
        duration: Duration,
    ) -> Result<(), LimiterError> {
        validate_person(person)?;
        validate_id("brand", brand)?;
        let duration_ms = millis(duration);
        if duration_ms <= 0 {
            return Ok(());
        }
        let key = PersonKeys::new(&self.prefix, person).limits();
        let now = self.now_arg();
        self.bounded("cool_down", async |conn| {
            SCRIPTS
                .cool_down
                .key(key)
                .arg(brand)
                .arg(duration_ms)
                .arg(now)
                .invoke_async::<i64>(conn)
                .await
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn release(
        &self,
        req: &ClaimRequest,
        granted_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), LimiterError> {
        req.validate()?;
        let person = PersonKeys::new(&self.prefix, &req.person).limits();
        self.bounded("release", async |conn| {
            SCRIPTS
                .release
                .key(&person)
                .arg(&req.checkin_id)
                .arg(&req.offer_id)
                .arg("D checkin-id-reused 0 -1 -1 -1 - -")
                .invoke_async::<i64>(&mut *conn)
                .await
                .map_err(unavailable)?;
            if req.budget.is_unlimited() {
                return Ok(());
            }
            let at = granted_at.timestamp_millis();
            let offer = OfferKeys::new(&self.prefix, &req.offer_id);
            SCRIPTS
                .refund
                .key(offer.counters())
                .key(offer.reservations(at.div_euclid(DAY_MS)))
                .arg(&req.checkin_id)
                .arg(at)
                .invoke_async::<i64>(conn)
                .await
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn peek(&self, person: &str, asks: &[Ask]) -> Result<Vec<Option<Cap>>, LimiterError> {
        validate_person(person)?;
        for ask in asks {
            ask.validate()?;
        }
        if asks.is_empty() {
            return Ok(Vec::new());
        }
        let key = PersonKeys::new(&self.prefix, person).limits();
        let names = peek::fields(asks);
        let now = self.now_arg();
        let (now, values): (i64, Vec<Option<String>>) = self
            .bounded("peek", async |conn| {
                let mut call = SCRIPTS.peek.prepare_invoke();
                call.key(&key).arg(&now);
                for n in &names {
                    call.arg(n);
                }
                call.invoke_async(conn).await.map_err(unavailable)
            })
            .await?;
        Ok(peek::judge(asks, &names, &values, now))
    }

    async fn forget_person(&self, person: &str) -> Result<(), LimiterError> {
        validate_person(person)?;
        let key = PersonKeys::new(&self.prefix, person).limits();
        self.bounded("forget_person", async |conn| {
            ::redis::cmd("DEL")
                .arg(key)
                .query_async::<i64>(conn)
                .await
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn ping(&self) -> Result<(), LimiterError> {
        self.bounded("ping", async |conn| {
            ::redis::cmd("PING")
                .query_async::<String>(conn)
                .await
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn idempotency_ttl(&self) -> Duration {
        IDEMPOTENCY_TTL
    }
}

fn unavailable(e: RedisError) -> LimiterError {
    LimiterError::Unavailable(e.to_string())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
