//! The consent gate in Redis, shared by every replica.

use super::{Allowed, CHANGING, CHANGING_TTL, ConsentGate, KEEP, Lookup, Ticket};
use crate::people::PersonId;
use crate::redis_conns::{CallError, Calls, PerThread};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// Sets the entry to the filled state only if it still holds the reader's ticket.
static FILL: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
           return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end return false",
    )
});

/// The gate in Redis, under the person's hash tag: `<prefix>{u:<person>}:consent`.
pub struct RedisGate {
    conns: Arc<PerThread>,
    prefix: String,
    calls: Calls,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RedisGate {
    /// Uses connections shared with habits; every call is bounded by `timeout`.
    pub fn new(conns: Arc<PerThread>, prefix: &str, timeout: Duration) -> Self {
        Self {
            conns,
            prefix: prefix.to_string(),
            calls: Calls::new(timeout),
        }
    }

    /// Bounds and counts calls with `calls` (shared, so their metrics are exported once).
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = calls;
        self
    }

    fn key(&self, person: &PersonId) -> String {
        format!("{}{{u:{}}}:consent", self.prefix, person.as_str())
    }

    /// Runs one command within the gate's time budget (the connection is taken first).
    async fn run<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T, String> {
        let mut conn = self.conns.get().await;
        self.calls
            .bounded(op, cmd.query_async::<T>(&mut conn))
            .await
            .map_err(|e| match e {
                CallError::Failed(e) => e.to_string(),
                CallError::Timeout(after) => format!("no answer within {after:?}"),
            })
    }
}

#[async_trait]
impl ConsentGate for RedisGate {
    async fn get(&self, person: &PersonId) -> Lookup {
        let key = self.key(person);
        match self
            .run::<Option<String>>("consent_get", redis::cmd("GET").arg(&key))
            .await
        {
            Ok(Some(v)) => Allowed::decode(&v).map_or(Lookup::Ask(None), Lookup::Known),
            Ok(None) => {
                let ticket = Ticket::new();
                let mut set = redis::cmd("SET");
                set.arg(&key)
                    .arg(&ticket.0)
                    .arg("PX")
                    .arg(ms(CHANGING_TTL))
                    .arg("NX");
                match self.run::<Option<String>>("consent_ticket", &set).await {
                    Ok(Some(_)) => Lookup::Ask(Some(ticket)),
                    _ => Lookup::Ask(None),
                }
            }
            // A mark, or Redis unavailable: the store decides.
            Err(_) => Lookup::Ask(None),
        }
    }

    async fn fill(&self, person: &PersonId, ticket: Ticket, allowed: Allowed) {
        let mut conn = self.conns.get().await;
        let mut fill = FILL.prepare_invoke();
        fill.key(self.key(person))
            .arg(&ticket.0)
            .arg(allowed.encode())
            .arg(ms(KEEP));
        let call = fill.invoke_async::<Option<String>>(&mut conn);
        if let Err(e) = self.calls.bounded("consent_fill", call).await {
            tracing::debug!(error = %e, "consent gate: fill failed (the store keeps answering)");
        }
    }

    async fn begin_change(&self, person: &PersonId) -> Result<(), String> {
        let mut set = redis::cmd("SET");
        set.arg(self.key(person))
            .arg(CHANGING)
            .arg("PX")
            .arg(ms(CHANGING_TTL));
        self.run::<Option<String>>("consent_begin_change", &set)
            .await
            .map(drop)
    }

    async fn publish(&self, person: &PersonId, allowed: Option<Allowed>) {
        let key = self.key(person);
        let result = match allowed {
            Some(a) => {
                let mut set = redis::cmd("SET");
                set.arg(&key).arg(a.encode()).arg("PX").arg(ms(KEEP));
                self.run::<Option<String>>("consent_publish", &set)
                    .await
                    .map(drop)
            }
            None => self
                .run::<i64>("consent_publish", redis::cmd("DEL").arg(&key))
                .await
                .map(drop),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "consent gate: publishing a change failed; readers ask the store until the mark expires");
        }
    }
}
