//! Fence index benchmark: bulk load, memory, single/two-thread lookups and a
//! live-edit test. Prints a markdown table.
//!
//! `cargo run --release --bin fence_bench -- [--fences 1000000] [--points 100000] [--seed 42]
//!     [--live-secs 3] [--readers 2] [--quick 1] [--near-m 2000]`
//!
//! The "nearby" rows time `LiveIndex::near` (the index walk behind `Catalog::nearby` and
//! `GET /v1/fences/nearby`) at `--near-m` metres, with the nearest-edge-first sort that
//! `Catalog::nearby` adds; not the HTTP call, its catalog maps or its limiter read.
//!
//! Written against the public `geoffer::fences::index` API only, as it will
//! live in the `loadtest` crate.
//!
//! About 420 lines: one benchmark program with its world generator and report.

#[path = "shared/world.rs"]
mod world;

use geoffer::fences::index::{FenceIndex, FenceMatch, IndexedFence, LiveIndex, Shape};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use world::{Probe, arg, generate};

struct Report(Vec<(String, String)>);

impl Report {
    fn add(&mut self, k: &str, v: impl Into<String>) {
        let v = v.into();
        eprintln!("  {k}: {v}");
        self.0.push((k.to_string(), v));
    }
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds")
}

fn pct(h: &Histogram<u64>) -> String {
    format!(
        "p50 {} / p90 {} / p99 {} / p99.9 {} / max {}",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    )
}

fn mps(n: u64, d: Duration) -> String {
    format!("{:.0} /s", n as f64 / d.as_secs_f64())
}

/// Runs lookups round-robin over `points` on `threads` threads for `secs`.
/// CPU seconds this thread has run (utime + stime from /proc, 10 ms ticks).
/// Lets the report separate the index's speed from time the OS gave to other
/// tenants of this shared machine.
fn thread_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after_comm = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after_comm
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // Fields 14 and 15 of stat(5); after the comm field they are at 11 and 12
    // (field 3, the state letter, does not parse as a number and is skipped).
    f.get(10)
        .zip(f.get(11))
        .map_or(0.0, |(u, s)| (u + s) / 100.0)
}

/// Runs lookups round-robin over `points` on `threads` threads for `secs`;
/// returns (lookups, wall time, CPU seconds used by the threads).
fn throughput(
    threads: usize,
    secs: f64,
    points: &[Probe],
    query: &(dyn Fn(&Probe, &mut Vec<FenceMatch>) + Sync),
) -> (u64, Duration, f64) {
    let stop = AtomicBool::new(false);
    let total = AtomicU64::new(0);
    let cpu_ms = AtomicU64::new(0);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (stop, total, cpu_ms) = (&stop, &total, &cpu_ms);
            s.spawn(move || {
                let cpu0 = thread_cpu_secs();
                let mut out = Vec::new();
                let mut n = 0u64;
                let mut i = t * points.len() / threads.max(1);
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..256 {
                        query(&points[i], &mut out);
                        i = (i + 1) % points.len();
                    }
                    n += 256;
                }
                total.fetch_add(n, Ordering::Relaxed);
                let used = thread_cpu_secs() - cpu0;
                cpu_ms.fetch_add((used * 1000.0) as u64, Ordering::Relaxed);
            });
        }
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let cpu = cpu_ms.load(Ordering::Relaxed) as f64 / 1000.0;
    (total.load(Ordering::Relaxed), t0.elapsed(), cpu)
}

/// "1.23 M/s (1.30 M per CPU-second, threads on CPU 95% of the time)".
fn rate(n: u64, wall: Duration, cpu: f64, threads: usize) -> String {
    let on_cpu = cpu / (wall.as_secs_f64() * threads as f64);
    format!(
        "{} ({:.0} per CPU-second; threads on CPU {:.0}% of the time)",
        mps(n, wall),
        n as f64 / cpu.max(1e-9),
        100.0 * on_cpu
    )
}

fn main() {
    let n_fences: usize = arg("--fences", 1_000_000);
    let n_points: usize = arg("--points", 100_000);
    let seed: u64 = arg("--seed", 42);
    let live_secs: f64 = arg("--live-secs", 3.0);
    // Reader threads in the live test (the editor is one more thread).
    let readers: usize = arg("--readers", 2);
    // `--quick 1`: lookups only (skips the memory breakdown and the live test).
    let quick: u8 = arg("--quick", 0);
    let mut r = Report(Vec::new());
    eprintln!("generating {n_fences} fences, {n_points} points (seed {seed})");
    let t = Instant::now();
    let w = generate(n_fences, n_points, seed);
    r.add(
        "fences / points",
        format!(
            "{} / {} (generated in {:.2} s)",
            w.fences.len(),
            w.points.len(),
            t.elapsed().as_secs_f64()
        ),
    );

    if quick == 0 {
        memory(&w, &mut r);
    }

    let kinds: String = arg("--kinds", "all".to_string());
    let input: Vec<IndexedFence> = w
        .fences
        .iter()
        .filter(|f| match kinds.as_str() {
            "circles" => matches!(f.shape, Shape::Circle { .. }),
            "areas" => matches!(f.shape, Shape::Area(_)),
            _ => true,
        })
        .cloned()
        .collect();
    let t = Instant::now();
    let index = FenceIndex::build(input);
    let load = t.elapsed();
    r.add(
        "bulk load",
        format!("{:.3} s for {} fences", load.as_secs_f64(), index.len()),
    );
    r.add(
        "heap total",
        format!(
            "{:.1} MiB ({:.1} B/fence)",
            index.heap_bytes() as f64 / 1048576.0,
            index.heap_bytes() as f64 / index.len() as f64
        ),
    );

    // Warm-up pass, hit rate.
    let mut out = Vec::new();
    let (mut hit, mut matches) = (0usize, 0usize);
    for p in &w.points {
        index.query(p.lat, p.lon, p.accuracy_m, &mut out);
        hit += !out.is_empty() as usize;
        matches += out.len();
    }
    r.add(
        "points with >= 1 match",
        format!(
            "{:.1}% ({} matches total)",
            100.0 * hit as f64 / w.points.len() as f64,
            matches
        ),
    );

    // Single-thread latency: timed one by one, 3 passes (timer overhead included).
    let mut h = hist();
    for _ in 0..3 {
        for p in &w.points {
            let t = Instant::now();
            index.query(p.lat, p.lon, p.accuracy_m, &mut out);
            h.record(t.elapsed().as_nanos() as u64).ok();
        }
    }
    r.add("1-thread lookup latency (ns)", pct(&h));
    let q = |p: &Probe, out: &mut Vec<FenceMatch>| index.query(p.lat, p.lon, p.accuracy_m, out);
    let (n, d, cpu) = throughput(1, 3.0, &w.points, &q);
    r.add("1-thread lookups/s", rate(n, d, cpu, 1));
    let (n, d, cpu) = throughput(2, 3.0, &w.points, &q);
    r.add("2-thread lookups/s", rate(n, d, cpu, 2));

    let live = LiveIndex::new(index);
    nearby(&live, &w, arg("--near-m", 2_000.0), &mut r);

    if quick == 0 {
        live_test(live, &w, live_secs, readers, &mut r);
    }

    println!("| metric | value |\n| --- | --- |");
    for (k, v) in &r.0 {
        println!("| {k} | {v} |");
    }
}

/// The nearby query: fences within `margin_m` of each point, nearest edge first, timed one
/// by one over every point, then flat out on 1 and 2 threads.
fn nearby(live: &LiveIndex, w: &world::World, margin_m: f64, r: &mut Report) {
    let q = |p: &Probe, out: &mut Vec<FenceMatch>| {
        live.near(p.lat, p.lon, margin_m, out);
        let gap = |m: &FenceMatch| (-m.edge_distance_m).max(0.0);
        out.sort_by(|a, b| gap(a).total_cmp(&gap(b)).then(a.id.cmp(&b.id)));
    };
    let mut out = Vec::new();
    let mut h = hist();
    let mut found = 0usize;
    for p in &w.points {
        let t = Instant::now();
        q(p, &mut out);
        h.record(t.elapsed().as_nanos() as u64).ok();
        found += out.len();
    }
    r.add(
        "nearby: fences within the margin per lookup",
        format!(
            "{:.1} on average within {margin_m} m ({} lookups)",
            found as f64 / w.points.len() as f64,
            w.points.len()
        ),
    );
    r.add("nearby: 1-thread latency (ns)", pct(&h));
    let (n, d, cpu) = throughput(1, 3.0, &w.points, &q);
    r.add("nearby: 1-thread lookups/s", rate(n, d, cpu, 1));
    let (n, d, cpu) = throughput(2, 3.0, &w.points, &q);
    r.add("nearby: 2-thread lookups/s", rate(n, d, cpu, 2));
}

/// Memory, measured on single-kind indexes so per-unit numbers are not mixed.
fn memory(w: &world::World, r: &mut Report) {
    let (circles, areas): (Vec<IndexedFence>, Vec<IndexedFence>) = w
        .fences
        .iter()
        .cloned()
        .partition(|f| matches!(f.shape, Shape::Circle { .. }));
    let ci = FenceIndex::build(circles);
    r.add(
        "heap per circle fence (incl. R-tree)",
        format!(
            "{:.1} B ({} circles)",
            ci.heap_bytes() as f64 / ci.len() as f64,
            ci.len()
        ),
    );
    drop(ci);
    let ai = FenceIndex::build(areas);
    let (n_areas, verts) = ai.area_stats();
    r.add(
        "heap per polygon vertex (incl. R-tree)",
        format!(
            "{:.1} B ({} polygons, {} vertices)",
            ai.heap_bytes() as f64 / verts as f64,
            n_areas,
            verts
        ),
    );
}

/// `readers` threads query flat out while this thread upserts/removes single
/// fences (~1 per ms), in two phases: (A) edits only, served by the delta layers;
/// (B) the same while a background merge rebuilds the base (`merge_now`).
fn live_test(live: LiveIndex, w: &world::World, secs: f64, readers: usize, r: &mut Report) {
    let mut k = 0usize;
    let (edits, h) = live_phase(&live, w, readers, &mut k, |_, elapsed| elapsed >= secs);
    r.add(
        "live A: edits, no merge (upsert until visible / remove)",
        format!(
            "{edits} in {secs:.1} s, {} merges, {readers} reader threads",
            live.merges_completed()
        ),
    );
    r.add("live A: edit call until visible (ns)", pct(&h[0]));
    r.add("live A: readers during edits (ns)", pct(&h[1]));
    r.add(
        "live A: reader lookups/s",
        mps(h[1].len(), Duration::from_secs_f64(secs)),
    );

    let pending = live.pending_edits();
    let t = Instant::now();
    let mut merge_secs = 0.0;
    let (edits, h) = live_phase(&live, w, readers, &mut k, |live, elapsed| {
        if elapsed == 0.0 {
            live.merge_now();
        } else if merge_secs == 0.0 && !live.is_merging() {
            merge_secs = t.elapsed().as_secs_f64();
        }
        merge_secs > 0.0 && elapsed >= merge_secs + 0.5
    });
    r.add(
        "live B: edits during a background merge",
        format!("{edits}; merge of {pending} pending edits took {merge_secs:.2} s"),
    );
    r.add("live B: edit call until visible (ns)", pct(&h[0]));
    r.add("live B: readers during merge (ns)", pct(&h[1]));
    r.add(
        "live: fences at end",
        format!("{} ({} pending edits)", live.len(), live.pending_edits()),
    );
}

/// Runs readers + editor until `done(live, elapsed_secs)`; returns edit count
/// and [edit-until-visible, reader] latency histograms.
fn live_phase(
    live: &LiveIndex,
    w: &world::World,
    readers: usize,
    k: &mut usize,
    mut done: impl FnMut(&LiveIndex, f64) -> bool,
) -> (u64, [Histogram<u64>; 2]) {
    let stop = AtomicBool::new(false);
    let mut edit_h = hist();
    let mut edits = 0u64;
    let reader_h = std::thread::scope(|s| {
        let readers: Vec<_> = (0..readers)
            .map(|t| {
                let (stop, pts) = (&stop, &w.points);
                s.spawn(move || {
                    let mut h = hist();
                    let mut out = Vec::new();
                    let mut i = t * pts.len() / 2;
                    while !stop.load(Ordering::Relaxed) {
                        let p = &pts[i];
                        let t0 = Instant::now();
                        live.query(p.lat, p.lon, p.accuracy_m, &mut out);
                        h.record(t0.elapsed().as_nanos() as u64).ok();
                        i = (i + 1) % pts.len();
                    }
                    h
                })
            })
            .collect();
        // Editor: alternately add a new 100 m circle at a query point and wait
        // until a query sees it, or remove an existing fence.
        let start = Instant::now();
        let mut out = Vec::new();
        while !done(
            live,
            if edits == 0 {
                0.0
            } else {
                start.elapsed().as_secs_f64()
            },
        ) {
            let p = w.points[(*k * 7919) % w.points.len()];
            let id = uuid::Uuid::from_u128(0xfeed_0000_0000 + *k as u128);
            let t0 = Instant::now();
            if k.is_multiple_of(2) {
                let shape = Shape::Circle {
                    lon: p.lon,
                    lat: p.lat,
                    radius_m: 100.0,
                };
                live.upsert(IndexedFence {
                    id,
                    max_accuracy_m: 10_000.0,
                    shape,
                });
                loop {
                    live.query(p.lat, p.lon, 1.0, &mut out);
                    if out.iter().any(|m| m.id == id) {
                        break;
                    }
                }
            } else {
                live.remove(w.fences[(*k * 104_729) % w.fences.len()].id);
            }
            edit_h.record(t0.elapsed().as_nanos() as u64).ok();
            edits += 1;
            *k += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, Ordering::Relaxed);
        let mut h = hist();
        for rd in readers {
            h.add(rd.join().expect("reader")).ok();
        }
        h
    });
    (edits, [edit_h, reader_h])
}
