//! The load loops. Closed loop: `connections` tasks send back to back (maximum throughput).
//! Open loop: requests are scheduled at a fixed arrival rate and latency is measured from each
//! request's *intended* start, so a slow server cannot hide its queue (no coordinated omission).
//!
//! About 330 lines: the closed and the open loop with their shared request plumbing.

use crate::caps::Delivery;
use crate::people::Person;
use crate::report::histogram;
use crate::world::World;
use hdrhistogram::Histogram;
use rand::RngExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a phase sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `GET /healthz`: the HTTP ceiling.
    Healthz,
    /// The people's traffic: a check-in, or the events they queued since the last one.
    People,
    /// `PUT /v1/users/{u}/consent` once per person.
    Consent,
}

/// Everything the loops share.
pub struct Ctx {
    /// One client (and its connection pool) for every phase.
    pub client: reqwest::Client,
    /// `http://127.0.0.1:PORT` of each replica.
    pub bases: Vec<String>,
    /// Round-robin cursor over `bases`.
    pub next_base: AtomicU64,
    /// The app key.
    pub app_key: String,
    /// The world the people live in.
    pub world: World,
    /// The people, each behind its own lock (held only between awaits).
    pub people: Vec<Mutex<Person>>,
    /// Round-robin cursor over the people, shared by all phases.
    pub cursor: AtomicU64,
    /// Every offer the people received.
    pub deliveries: Mutex<Vec<Delivery>>,
    /// People with events queued, oldest first: their events go out before the next
    /// check-in of anyone, as an app reports an open shortly after showing the offer.
    pub with_events: Mutex<std::collections::VecDeque<usize>>,
}

impl Ctx {
    /// The replica the next request goes to (round robin).
    pub fn base(&self) -> &str {
        let i = self.next_base.fetch_add(1, Ordering::Relaxed) as usize;
        &self.bases[i % self.bases.len()]
    }
}

/// Counts and latencies of one phase (each task keeps its own and they are merged).
#[derive(Debug, Clone)]
pub struct Stats {
    /// Check-ins (or healthz / consent calls), ns from intended start in open loop.
    pub main: Histogram<u64>,
    /// Check-ins measured from the actual send (service time), for comparison.
    pub service: Histogram<u64>,
    /// `POST /v1/events` batches.
    pub events: Histogram<u64>,
    /// HTTP status counts (0 = transport error or timeout).
    pub statuses: BTreeMap<u16, u64>,
    /// Decisions by outcome: `offer` or the `none` reason.
    pub decisions: BTreeMap<String, u64>,
    /// Events sent, and events the service rejected.
    pub events_sent: u64,
    /// Events answered `rejected`.
    pub events_rejected: u64,
    /// Open loop: requests not sent because the phase's hard deadline passed.
    pub dropped: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            main: histogram(),
            service: histogram(),
            events: histogram(),
            statuses: BTreeMap::new(),
            decisions: BTreeMap::new(),
            events_sent: 0,
            events_rejected: 0,
            dropped: 0,
        }
    }
}

impl Stats {
    /// Adds another task's counts.
    pub fn merge(&mut self, o: &Stats) {
        self.main.add(&o.main).expect("same bounds");
        self.service.add(&o.service).expect("same bounds");
        self.events.add(&o.events).expect("same bounds");
        for (k, v) in &o.statuses {
            *self.statuses.entry(*k).or_default() += v;
        }
        for (k, v) in &o.decisions {
            *self.decisions.entry(k.clone()).or_default() += v;
        }
        self.events_sent += o.events_sent;
        self.events_rejected += o.events_rejected;
        self.dropped += o.dropped;
    }

    /// Requests answered other than 2xx, or not answered at all.
    pub fn errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }

    /// Every request sent.
    pub fn requests(&self) -> u64 {
        self.statuses.values().sum()
    }
}

fn ns(d: Duration) -> u64 {
    (d.as_nanos() as u64).clamp(1, 60_000_000_000)
}

async fn send(ctx: &Ctx, req: reqwest::RequestBuilder, stats: &mut Stats) -> Option<Value> {
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            *stats.statuses.entry(status).or_default() += 1;
            let body = resp.bytes().await.ok()?;
            let _ = ctx;
            if (200..300).contains(&status) {
                serde_json::from_slice(&body).ok().or(Some(Value::Null))
            } else {
                None
            }
        }
        Err(_) => {
            *stats.statuses.entry(0).or_default() += 1;
            None
        }
    }
}

/// One request of `kind`; `intended` is when it should have started.
pub async fn step(ctx: &Ctx, kind: Kind, intended: Instant, stats: &mut Stats) {
    let started = Instant::now();
    match kind {
        Kind::Healthz => {
            send(
                ctx,
                ctx.client.get(format!("{}/healthz", ctx.base())),
                stats,
            )
            .await;
            stats.main.saturating_record(ns(intended.elapsed()));
        }
        Kind::Consent => {
            let i = ctx.cursor.fetch_add(1, Ordering::Relaxed) as usize % ctx.people.len();
            let id = ctx.people[i].lock().expect("person lock").id.clone();
            let req = ctx
                .client
                .put(format!("{}/v1/users/{id}/consent", ctx.base()))
                .bearer_auth(&ctx.app_key)
                .json(&json!({ "location": true, "personalization": true }));
            send(ctx, req, stats).await;
            stats.main.saturating_record(ns(intended.elapsed()));
        }
        Kind::People => people_step(ctx, intended, started, stats).await,
    }
}

async fn people_step(ctx: &Ctx, intended: Instant, started: Instant, stats: &mut Stats) {
    let queued = ctx.with_events.lock().expect("queue lock").pop_front();
    let i = queued
        .unwrap_or_else(|| ctx.cursor.fetch_add(1, Ordering::Relaxed) as usize % ctx.people.len());
    let (id, events, pos) = {
        let mut p = ctx.people[i].lock().expect("person lock");
        if p.pending.is_empty() {
            let pos = p.next_position(&ctx.world);
            (p.id.clone(), Vec::new(), Some(pos))
        } else {
            let n = p.pending.len().min(500);
            (p.id.clone(), p.pending.drain(..n).collect(), None)
        }
    };
    let Some(pos) = pos else {
        let n = events.len() as u64;
        let req = ctx
            .client
            .post(format!("{}/v1/events", ctx.base()))
            .bearer_auth(&ctx.app_key)
            .json(&json!({ "events": events }));
        let answer = send(ctx, req, stats).await;
        stats.events.saturating_record(ns(intended.elapsed()));
        stats.events_sent += n;
        stats.events_rejected += answer
            .as_ref()
            .and_then(|a| a["rejected"].as_u64())
            .unwrap_or(0);
        return;
    };
    let body = json!({
        "checkin_id": uuid::Uuid::now_v7().to_string(),
        "user_id": id,
        "lat": pos.lat, "lon": pos.lon, "accuracy_m": pos.accuracy_m,
        "recorded_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "speed_mps": pos.speed_mps, "activity": pos.activity,
    });
    let req = ctx
        .client
        .post(format!("{}/v1/checkins", ctx.base()))
        .bearer_auth(&ctx.app_key)
        .json(&body);
    let answer = send(ctx, req, stats).await;
    stats.main.saturating_record(ns(intended.elapsed()));
    stats.service.saturating_record(ns(started.elapsed()));
    let Some(answer) = answer else { return };
    let outcome = match answer["decision"].as_str() {
        Some("offer") => "offer".to_string(),
        _ => answer["reason"].as_str().unwrap_or("unknown").to_string(),
    };
    *stats.decisions.entry(outcome).or_default() += 1;
    let mut rng = rand::rng();
    let mut p = ctx.people[i].lock().expect("person lock");
    let had_events = !p.pending.is_empty();
    if let Some(offer) = answer
        .get("offer")
        .filter(|_| answer["decision"] == "offer")
    {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let delivery = Delivery {
            person: id,
            delivery_id: s(&offer["delivery_id"]),
            brand: s(&offer["brand"]),
            offer: s(&offer["offer_id"]),
            fence: s(&offer["fence"]["id"]),
            at_ms: chrono::Utc::now().timestamp_millis(),
        };
        p.react_to_offer(
            &delivery.delivery_id,
            offer["redemption_code"].as_str(),
            [rng.random(), rng.random()],
        );
        ctx.deliveries
            .lock()
            .expect("deliveries lock")
            .push(delivery);
    }
    if let Some(s) = pos.at_store
        && rng.random_bool(1.0 / 6.0)
    {
        let brand = ctx.world.brands[ctx.world.fences[p.stores[s].fence].brand].clone();
        p.purchase(&brand, rng.random());
    }
    if !had_events && !p.pending.is_empty() {
        ctx.with_events.lock().expect("queue lock").push_back(i);
    }
}

/// Closed loop: `conns` tasks back to back for `secs`, or until `max` requests were sent.
pub async fn closed(
    ctx: &std::sync::Arc<Ctx>,
    kind: Kind,
    conns: usize,
    secs: f64,
    max: u64,
) -> (Stats, f64) {
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let sent = std::sync::Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let ctx = ctx.clone();
            let sent = sent.clone();
            tokio::spawn(async move {
                let mut stats = Stats::default();
                while Instant::now() < end && sent.fetch_add(1, Ordering::Relaxed) < max {
                    step(&ctx, kind, Instant::now(), &mut stats).await;
                }
                stats
            })
        })
        .collect();
    let stats = join(tasks).await;
    (stats, start.elapsed().as_secs_f64())
}

/// Open loop: `rate` requests per second for `secs`, spread over `conns` tasks, each request
/// measured from its intended start. Requests still unsent `grace` after the end are dropped.
pub async fn open(
    ctx: &std::sync::Arc<Ctx>,
    kind: Kind,
    conns: usize,
    rate: f64,
    secs: f64,
) -> (Stats, f64) {
    let total = (rate * secs).round() as u64;
    let start = Instant::now() + Duration::from_millis(50);
    let hard_end = start + Duration::from_secs_f64(secs + 30.0);
    let next = std::sync::Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let ctx = ctx.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut stats = Stats::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    if Instant::now() > hard_end {
                        stats.dropped += 1;
                        continue;
                    }
                    let intended = start + Duration::from_secs_f64(i as f64 / rate);
                    tokio::time::sleep_until(intended.into()).await;
                    step(&ctx, kind, intended, &mut stats).await;
                }
                stats
            })
        })
        .collect();
    let stats = join(tasks).await;
    (stats, start.elapsed().as_secs_f64())
}

async fn join(tasks: Vec<tokio::task::JoinHandle<Stats>>) -> Stats {
    let mut all = Stats::default();
    for t in tasks {
        if let Ok(s) = t.await {
            all.merge(&s);
        }
    }
    all
}
