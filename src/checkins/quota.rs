//! Per-app request limits of the device endpoints (check-ins, batches, nearby fences): a
//! token bucket per app, counted in this process (each replica counts its own, so N
//! replicas admit up to N times the setting; docs/rate-limits.md). Past it: 429 with
//! `Retry-After` and the problem type `app-request-limit`, before anything is read or
//! decided. A person's caps are a different thing: they answer 200 `none` with `capped`.

use crate::clock::Clock;
use crate::error::ApiError;
use prometheus::IntCounter;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// One app's bucket: tokens left and when they were counted.
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The request limits of every app, in this process.
pub struct AppQuota {
    per_minute: u32,
    clock: Arc<dyn Clock>,
    // Held for a few arithmetic operations per request, never across an await.
    buckets: Mutex<HashMap<String, Bucket>>,
    refused: IntCounter,
}

impl AppQuota {
    /// `per_minute` requests per app per rolling minute, bursts up to as many; 0 is no limit.
    pub fn new(per_minute: u32, clock: Arc<dyn Clock>, metrics: &crate::metrics::Metrics) -> Self {
        let refused = IntCounter::new(
            "app_requests_limited_total",
            "Device requests answered 429 because their app was past app_requests_per_minute",
        )
        .expect("valid metric");
        metrics.register(Box::new(refused.clone()));
        Self {
            per_minute,
            clock,
            buckets: Mutex::default(),
            refused,
        }
    }

    /// Takes one request of `app`'s allowance, or answers 429 naming the limit and when a
    /// request will fit again.
    pub fn take(&self, app: &str) -> Result<(), ApiError> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let now = self.clock.instant();
        let capacity = f64::from(self.per_minute);
        let per_s = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        // One entry per app key's app: a deployment has few apps, so the map stays small.
        let b = buckets.entry(app.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * per_s;
        b.tokens = (b.tokens + refill).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        self.refused.inc();
        let wait_s = ((1.0 - b.tokens) / per_s).ceil().max(1.0) as u64;
        Err(ApiError::RateLimited {
            detail: format!(
                "app `{app}` is past its limit of {} requests per minute (app_requests_per_minute); retry after {wait_s} s",
                self.per_minute
            ),
            retry_after_s: wait_s,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn the_fourth_request_of_three_per_minute_waits_twenty_seconds_and_other_apps_do_not() {
        let clock = Arc::new(ManualClock::starting_now());
        let quota = AppQuota::new(3, clock.clone(), &crate::metrics::Metrics::new());
        for _ in 0..3 {
            quota.take("a").unwrap();
        }
        match quota.take("a") {
            Err(ApiError::RateLimited { retry_after_s, .. }) => assert_eq!(retry_after_s, 20),
            other => panic!("{other:?}"),
        }
        quota.take("b").unwrap();
        clock.advance(std::time::Duration::from_secs(20));
        quota.take("a").unwrap();
    }
}
