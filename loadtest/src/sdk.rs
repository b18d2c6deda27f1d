//! The SDK-like device of docs/sdk.md, driven over one simulated day per person: it syncs
//! nearby fences, "registers" them (as the OS would: crossings are computed here), checks in
//! only on entering one, queues crossings while offline and sends them as one batch when the
//! network returns. The same day's fixes, posted one by one, are what "posting every fix"
//! would send: they are counted, not sent.
//!
//! A day's fixes: the person's eight stops (`Person::next_position`), a fix every
//! `STILL_FIX_S` while at a stop (three hours each) and one every `MOVING_FIX_M` metres on
//! the straight way between stops. One offline stretch of `OFFLINE_STOPS` stops per day.

use crate::driver::Ctx;
use crate::people::{Position, STOPS_PER_DAY};
use crate::world::distance_m;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// While still, a phone's background location yields a fix this often (seconds).
pub const STILL_FIX_S: u32 = 300;
/// While moving, one fix per this many metres.
pub const MOVING_FIX_M: f64 = 100.0;
/// Regions an iOS app may watch, one of them the refresh circle.
pub const IOS_REGIONS: usize = 20;
/// Consecutive stops of the day without network (then one batch).
pub const OFFLINE_STOPS: u32 = 2;

/// What a run of SDK-like people sent.
#[derive(Debug, Default, Clone)]
pub struct SdkTotals {
    /// People simulated (one day each).
    pub people: u64,
    /// Fixes their phones had (= requests if every fix were posted).
    pub fixes: u64,
    /// `GET /v1/fences/nearby` sent.
    pub nearby: u64,
    /// `POST /v1/checkins` sent (crossings while online).
    pub checkins: u64,
    /// `POST /v1/checkins/batch` sent, and the reports they carried.
    pub batches: u64,
    /// Reports inside the batches.
    pub batched_reports: u64,
    /// Offers received.
    pub offers: u64,
    /// Answers other than 200, or none.
    pub errors: u64,
    /// Wall time of the run, seconds.
    pub secs: f64,
}

impl SdkTotals {
    /// Requests the SDK-like people sent.
    pub fn requests(&self) -> u64 {
        self.nearby + self.checkins + self.batches
    }

    /// The markdown section of the load report.
    pub fn markdown(&self) -> String {
        let per = |n: u64| n as f64 / self.people.max(1) as f64;
        format!(
            "\n## Device protocol: SDK-like people vs posting every fix\n\n\
             {} people, one simulated day each ({:.1} s; fixes: one per {STILL_FIX_S} s still, \
             one per {MOVING_FIX_M} m moving; {OFFLINE_STOPS} of {STOPS_PER_DAY} stops offline).\n\n\
             | mode | requests per person per day |\n| --- | ---: |\n\
             | posting every fix (counted) | {:.1} |\n\
             | SDK-like (sent): nearby {:.1} + check-ins {:.1} + batches {:.1} ({:.1} reports) | {:.1} |\n\n\
             Ratio {:.0}×; offers received {}, non-200 answers {}.\n",
            self.people,
            self.secs,
            per(self.fixes),
            per(self.nearby),
            per(self.checkins),
            per(self.batches),
            per(self.batched_reports),
            per(self.requests()),
            self.fixes as f64 / self.requests().max(1) as f64,
            self.offers,
            self.errors
        )
    }
}

/// One region the OS watches for the app.
struct Region {
    lat: f64,
    lon: f64,
    radius_m: f64,
}

/// A device's state: what it registered, where it synced, what waits for the network.
struct Device {
    user: String,
    regions: Vec<(String, Region)>,
    inside: HashSet<String>,
    /// Where the last nearby sync was asked from, and how far the person may go from it.
    anchor: Option<((f64, f64), f64)>,
    queued: Vec<Value>,
    seq: u64,
}

/// A day's fixes: each stop's still fixes, then the way to the next stop.
fn day_fixes(stops: &[Position]) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    let still = (3 * 3600 / STILL_FIX_S) as usize;
    for (i, s) in stops.iter().enumerate() {
        out.extend(std::iter::repeat_n((s.lat, s.lon, s.accuracy_m), still));
        if let Some(n) = stops.get(i + 1) {
            let d = distance_m((s.lat, s.lon), (n.lat, n.lon));
            let steps = (d / MOVING_FIX_M).floor() as usize;
            for k in 1..steps {
                let t = k as f64 / steps as f64;
                out.push((
                    s.lat + (n.lat - s.lat) * t,
                    s.lon + (n.lon - s.lon) * t,
                    20.0,
                ));
            }
        }
    }
    out
}

async fn send(ctx: &Ctx, t: &mut SdkTotals, req: reqwest::RequestBuilder) -> Option<Value> {
    match req.bearer_auth(&ctx.app_key).send().await {
        Ok(r) if r.status() == 200 => r.json().await.ok(),
        _ => {
            t.errors += 1;
            None
        }
    }
}

fn count_offer(t: &mut SdkTotals, answer: &Value) {
    if answer["decision"] == "offer" {
        t.offers += 1;
    }
}

impl Device {
    async fn sync(&mut self, ctx: &Ctx, t: &mut SdkTotals, at: (f64, f64)) {
        t.nearby += 1;
        let url = format!(
            "{}/v1/fences/nearby?user_id={}&lat={}&lon={}&limit={}",
            ctx.base(),
            self.user,
            at.0,
            at.1,
            IOS_REGIONS - 1
        );
        let Some(body) = send(ctx, t, ctx.client.get(url)).await else {
            return;
        };
        self.regions = body["fences"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let region = Region {
                    lat: f["lat"].as_f64()?,
                    lon: f["lon"].as_f64()?,
                    radius_m: f["radius_m"].as_f64()?,
                };
                Some((f["id"].as_str()?.to_string(), region))
            })
            .collect();
        let refresh = body["refresh_after_m"].as_f64().unwrap_or(1000.0);
        self.anchor = Some((at, refresh));
    }

    fn report(&mut self, fix: (f64, f64, f64)) -> Value {
        self.seq += 1;
        json!({"checkin_id": format!("sdk-{}-{}", self.user, self.seq), "user_id": self.user,
               "lat": fix.0, "lon": fix.1, "accuracy_m": fix.2,
               "recorded_at": chrono::Utc::now().to_rfc3339()})
    }

    async fn flush(&mut self, ctx: &Ctx, t: &mut SdkTotals) {
        if self.queued.is_empty() {
            return;
        }
        let reports = std::mem::take(&mut self.queued);
        t.batches += 1;
        t.batched_reports += reports.len() as u64;
        let url = format!("{}/v1/checkins/batch", ctx.base());
        let req = ctx.client.post(url).json(&json!({ "checkins": reports }));
        if let Some(body) = send(ctx, t, req).await {
            for r in body["results"].as_array().into_iter().flatten() {
                count_offer(t, &r["answer"]);
            }
        }
    }

    /// One fix: what the OS would wake the app for, and what the app then sends.
    async fn on_fix(&mut self, ctx: &Ctx, t: &mut SdkTotals, fix: (f64, f64, f64), online: bool) {
        let at = (fix.0, fix.1);
        if online {
            self.flush(ctx, t).await;
            let left = self
                .anchor
                .is_none_or(|(a, r)| distance_m(a, at) > r.max(MOVING_FIX_M));
            if left {
                self.sync(ctx, t, at).await;
            }
        }
        let now_inside: HashSet<String> = self
            .regions
            .iter()
            .filter(|(_, r)| distance_m((r.lat, r.lon), at) <= r.radius_m)
            .map(|(id, _)| id.clone())
            .collect();
        let entered = now_inside.difference(&self.inside).next().is_some();
        self.inside = now_inside;
        if !entered {
            return;
        }
        let report = self.report(fix);
        if online {
            t.checkins += 1;
            let req = ctx
                .client
                .post(format!("{}/v1/checkins", ctx.base()))
                .json(&report);
            if let Some(answer) = send(ctx, t, req).await {
                count_offer(t, &answer);
            }
        } else {
            self.queued.push(report);
        }
    }
}

/// One person's simulated day.
async fn day(ctx: &Ctx, i: usize) -> SdkTotals {
    let (user, stops) = {
        let mut p = ctx.people[i].lock().expect("person");
        let stops: Vec<Position> = (0..STOPS_PER_DAY)
            .map(|_| p.next_position(&ctx.world))
            .collect();
        (p.id.clone(), stops)
    };
    let offline_from = (i as u32 * 3) % (STOPS_PER_DAY - OFFLINE_STOPS);
    let fixes = day_fixes(&stops);
    let per_stop = fixes.len() / STOPS_PER_DAY as usize;
    let mut t = SdkTotals {
        people: 1,
        fixes: fixes.len() as u64,
        ..SdkTotals::default()
    };
    let mut d = Device {
        user,
        regions: Vec::new(),
        inside: HashSet::new(),
        anchor: None,
        queued: Vec::new(),
        seq: 0,
    };
    for (k, fix) in fixes.into_iter().enumerate() {
        let stop = (k / per_stop.max(1)) as u32;
        let online = !(offline_from..offline_from + OFFLINE_STOPS).contains(&stop);
        d.on_fix(ctx, &mut t, fix, online).await;
    }
    d.flush(ctx, &mut t).await;
    t
}

/// Runs people `0..n` of `ctx` through one simulated day each, `concurrency` at a time.
pub async fn run(ctx: Arc<Ctx>, n: usize, concurrency: usize) -> SdkTotals {
    let started = Instant::now();
    let n = n.min(ctx.people.len());
    let mut totals = SdkTotals::default();
    let mut next = 0;
    let mut running = tokio::task::JoinSet::new();
    loop {
        while next < n && running.len() < concurrency.max(1) {
            let ctx = ctx.clone();
            running.spawn(async move { day(&ctx, next).await });
            next += 1;
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let Ok(t) = done else {
            totals.errors += 1;
            continue;
        };
        totals.people += t.people;
        totals.fixes += t.fixes;
        totals.nearby += t.nearby;
        totals.checkins += t.checkins;
        totals.batches += t.batches;
        totals.batched_reports += t.batched_reports;
        totals.offers += t.offers;
        totals.errors += t.errors;
    }
    totals.secs = started.elapsed().as_secs_f64();
    totals
}
