//! The load generator: uploads a generated world to a running geoffer, drives simulated
//! people against it (closed and open loop), measures the HTTP ceiling with the same client,
//! checks every cap from the deliveries received and writes a markdown report.
//! `loadtest/run.sh` starts Redis and geoffer and runs this; see docs/benchmarks.md.
//!
//! About 600 lines: one program (world upload, phases, report); the loops and the report live in the library.

use anyhow::Context;
use clap::Parser;
use loadtest::budget::{self, Usage};
use loadtest::caps;
use loadtest::driver::{self, Ctx, Kind, Stats};
use loadtest::people::Person;
use loadtest::procstat::{self, Sample};
use loadtest::redisstats::{self, Calls};
use loadtest::report::percentiles_ms_cells;
use loadtest::setup;
use loadtest::world::{self, World};
use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Load generator for geoffer (traffic goes only to the given loopback URL).
#[derive(Debug, Parser)]
#[command(args_override_self = true)]
struct Args {
    /// geoffer's base URL, or several replicas' comma-separated (requests go round robin);
    /// each must be on 127.0.0.1.
    #[arg(long, default_value = "http://127.0.0.1:8080", value_delimiter = ',')]
    base_url: Vec<String>,
    /// An admin key (creates brands, fences, offers and the app key).
    #[arg(long, env = "LOADGEN_ADMIN_KEY")]
    admin_key: String,
    /// Simulated people.
    #[arg(long, default_value_t = 100_000)]
    people: usize,
    /// Fences in the world.
    #[arg(long, default_value_t = 100_000)]
    fences: usize,
    /// Brands (fences are spread evenly over them).
    #[arg(long, default_value_t = 20)]
    brands: usize,
    /// World and people seed.
    #[arg(long, default_value_t = 8)]
    seed: u64,
    /// The fixtures folder (its Manhattan stores seed the main city).
    #[arg(long, default_value = "fixtures")]
    fixtures: std::path::PathBuf,
    /// Concurrent connections (one client, one pool, for every phase).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Client runtime worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Warm-up, seconds of closed-loop check-ins (not reported as results).
    #[arg(long, default_value_t = 10.0)]
    warmup_secs: f64,
    /// Seconds of `GET /healthz` for the HTTP ceiling.
    #[arg(long, default_value_t = 15.0)]
    ceiling_secs: f64,
    /// Seconds of closed-loop check-ins.
    #[arg(long, default_value_t = 60.0)]
    closed_secs: f64,
    /// Seconds of open-loop check-ins.
    #[arg(long, default_value_t = 60.0)]
    open_secs: f64,
    /// Open-loop arrival rate, requests/s (default: half the closed-loop rate).
    #[arg(long)]
    open_rate: Option<f64>,
    /// Seconds of open-loop soak at the open-loop rate (0: none), sampling RSS.
    #[arg(long, default_value_t = 0.0)]
    soak_secs: f64,
    /// geoffer's pid (or each replica's, comma-separated: added up), for CPU and RSS.
    #[arg(long, value_delimiter = ',')]
    geoffer_pid: Vec<u32>,
    /// redis-server's pid (or each cluster node's, comma-separated: added up), for CPU and RSS.
    #[arg(long, value_delimiter = ',')]
    redis_pid: Vec<u32>,
    /// The PostgreSQL server's postmaster pid: its CPU and RSS with every backend's.
    #[arg(long)]
    postgres_pid: Option<u32>,
    /// redis-server's port on 127.0.0.1, for its commands per request (`INFO commandstats`).
    #[arg(long)]
    redis_port: Option<u16>,
    /// Clock ticks per second (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
    /// People who then live one simulated day each as the SDK of docs/sdk.md (nearby sync,
    /// check-ins on crossings, offline batches); 0 skips the phase.
    #[arg(long, default_value_t = 0)]
    sdk_people: usize,
    /// Free text about the run (machine, quiet hours, load), copied into the report.
    #[arg(long, default_value = "")]
    notes: String,
    /// Where to write the markdown report.
    #[arg(long, default_value = "target/loadtest-report.md")]
    report: std::path::PathBuf,
}

/// CPU and RSS of the processes, and Redis's command calls, over one phase.
struct Procs {
    pids: Vec<(&'static str, u32)>,
    start: Vec<Option<Sample>>,
    redis_port: Option<u16>,
    redis_start: Option<Calls>,
}

/// A process's sample; `postgres` is the postmaster with its backends.
fn sample(name: &str, pid: u32) -> Option<Sample> {
    if name == "postgres" {
        procstat::sample_tree(pid)
    } else {
        procstat::sample(pid)
    }
}

impl Procs {
    fn begin(pids: &[(&'static str, u32)], redis_port: Option<u16>) -> Self {
        Self {
            pids: pids.to_vec(),
            start: pids.iter().map(|(n, p)| sample(n, *p)).collect(),
            redis_port,
            redis_start: redis_port.and_then(redisstats::read),
        }
    }

    /// Redis's command calls since `begin` (`None` without a Redis or when unreadable).
    fn redis_calls(&self) -> Option<Calls> {
        let later = redisstats::read(self.redis_port?)?;
        Some(self.redis_start.as_ref()?.since(&later))
    }

    /// Each process's CPU and RSS since `begin`.
    fn end(&self, tck: u64) -> Usage {
        Usage(
            self.pids
                .iter()
                .zip(&self.start)
                .map(|((name, pid), a)| match (a, sample(name, *pid)) {
                    (Some(a), Some(b)) => Ok(procstat::between(name, a, &b, tck)),
                    _ => Err(*name),
                })
                .collect(),
        )
        .merged()
    }
}

struct Phase {
    name: String,
    stats: Stats,
    secs: f64,
    procs: Usage,
    redis_calls: Option<Calls>,
    round_trips: Option<Calls>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.stats.main.len() as f64 / self.secs
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for base in &args.base_url {
        let url: reqwest::Url = base.parse().context("--base-url")?;
        anyhow::ensure!(
            url.host_str() == Some("127.0.0.1"),
            "the load generator only sends traffic to 127.0.0.1"
        );
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(10))
        .build()?;
    let bases: Vec<String> = args
        .base_url
        .iter()
        .map(|b| b.trim_end_matches('/').to_string())
        .collect();
    let base = bases[0].clone();
    let t = Instant::now();
    let stores = world::fixture_stores(&args.fixtures).unwrap_or_default();
    let world = World::generate(args.seed, args.brands, args.fences, stores);
    let people: Vec<Mutex<Person>> = (0..args.people.max(1))
        .map(|i| Mutex::new(Person::generate(&world, args.seed, i)))
        .collect();
    let gen_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let created = setup::upload(&client, &base, &args.admin_key, &world).await?;
    let setup_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "world: {} fences, {} offers, {} people (generated in {gen_secs:.1} s, uploaded in {setup_secs:.1} s)",
        created.fences,
        created.offers,
        people.len()
    );
    let ctx = Arc::new(Ctx {
        client,
        bases,
        next_base: AtomicU64::new(0),
        app_key: created.app_key.clone(),
        world,
        people,
        cursor: AtomicU64::new(0),
        deliveries: Mutex::new(Vec::new()),
        with_events: Mutex::new(Default::default()),
    });
    let mut pids = vec![("loadgen", std::process::id())];
    pids.extend(args.geoffer_pid.iter().map(|&p| ("geoffer", p)));
    pids.extend(args.redis_pid.iter().map(|&p| ("redis", p)));
    pids.extend(args.postgres_pid.map(|p| ("postgres", p)));
    let run_start = Procs::begin(&pids, args.redis_port);
    let conns = args.connections.max(1);
    let mut phases = Vec::new();
    let phase = async |name: &str, kind: Kind, open_rate: Option<f64>, secs: f64, max: u64| {
        eprintln!("phase {name}: {secs:.0} s");
        let procs = Procs::begin(&pids, args.redis_port);
        let trips = redisstats::read_round_trips(&ctx.client, &ctx.bases).await;
        let (stats, secs) = match open_rate {
            Some(rate) => driver::open(&ctx, kind, conns, rate, secs).await,
            None => driver::closed(&ctx, kind, conns, secs, max).await,
        };
        let p = Phase {
            name: name.into(),
            stats,
            secs,
            procs: procs.end(args.clk_tck),
            redis_calls: procs.redis_calls(),
            round_trips: match (
                trips,
                redisstats::read_round_trips(&ctx.client, &ctx.bases).await,
            ) {
                (Some(a), Some(b)) => Some(a.since(&b)),
                _ => None,
            },
        };
        eprintln!(
            "  {} requests, {:.0}/s, errors {}; {}",
            p.stats.requests(),
            p.rate(),
            p.stats.errors(),
            p.procs
        );
        p
    };
    let n = ctx.people.len() as u64;
    // Consent once per person: bounded by count, and by time at ~50 consents/s at worst.
    phases.push(
        phase(
            "consent (once per person)",
            Kind::Consent,
            None,
            120.0 + n as f64 / 50.0,
            n,
        )
        .await,
    );
    phases.push(
        phase(
            "warm-up check-ins",
            Kind::People,
            None,
            args.warmup_secs,
            u64::MAX,
        )
        .await,
    );
    phases.push(
        phase(
            "HTTP ceiling: GET /healthz",
            Kind::Healthz,
            None,
            args.ceiling_secs,
            u64::MAX,
        )
        .await,
    );
    let closed = phase(
        "check-ins, closed loop",
        Kind::People,
        None,
        args.closed_secs,
        u64::MAX,
    )
    .await;
    let closed_people_rate = closed.stats.requests() as f64 / closed.secs;
    phases.push(closed);
    let rate = args
        .open_rate
        .unwrap_or((closed_people_rate / 2.0).max(1.0));
    phases.push(
        phase(
            &format!("check-ins, open loop at {rate:.0} req/s"),
            Kind::People,
            Some(rate),
            args.open_secs,
            0,
        )
        .await,
    );
    let mut soak_rss = Vec::new();
    if args.soak_secs > 0.0 {
        let sampler = {
            let gp = args.geoffer_pid.first().copied();
            let secs = args.soak_secs;
            tokio::spawn(async move {
                let start = Instant::now();
                let mut out = Vec::new();
                // Bounded: one sample every 30 s for the soak's length.
                for _ in 0..=(secs / 30.0).ceil() as usize {
                    if let Some(s) = gp.and_then(procstat::sample) {
                        out.push((start.elapsed().as_secs(), s.rss_kib));
                    }
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    if start.elapsed().as_secs_f64() > secs + 1.0 {
                        break;
                    }
                }
                out
            })
        };
        phases.push(
            phase(
                &format!("soak, open loop at {rate:.0} req/s"),
                Kind::People,
                Some(rate),
                args.soak_secs,
                0,
            )
            .await,
        );
        soak_rss = sampler.await.unwrap_or_default();
    }
    let sdk = if args.sdk_people > 0 {
        eprintln!("phase SDK-like people: {} simulated days", args.sdk_people);
        let t = loadtest::sdk::run(ctx.clone(), args.sdk_people, conns).await;
        eprintln!("  {} requests, errors {}", t.requests(), t.errors);
        Some(t)
    } else {
        None
    };
    let run_procs = run_start.end(args.clk_tck);
    let deliveries = ctx.deliveries.lock().expect("deliveries").clone();
    let violations = caps::check(&deliveries, &created.limits);
    let report = render(
        &args,
        &ctx,
        &created,
        &phases,
        &deliveries,
        &violations,
        &soak_rss,
        &run_procs,
        setup_secs,
    );
    let report = report + &sdk.as_ref().map(|t| t.markdown()).unwrap_or_default();
    if let Some(dir) = args.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.report, &report)?;
    println!("{report}");
    eprintln!("report written to {}", args.report.display());
    let errors: u64 = phases.iter().map(|p| p.stats.errors()).sum();
    anyhow::ensure!(violations.is_empty(), "{} cap violations", violations.len());
    let errors = errors + sdk.map_or(0, |t| t.errors);
    anyhow::ensure!(errors == 0, "{errors} failed requests");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn render(
    args: &Args,
    ctx: &Ctx,
    created: &setup::Created,
    phases: &[Phase],
    deliveries: &[caps::Delivery],
    violations: &[caps::Violation],
    soak_rss: &[(u64, u64)],
    run_procs: &Usage,
    setup_secs: f64,
) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "## Load test results\n");
    let _ = writeln!(
        r,
        "World: {} fences over {} brands in {} cities ({}), {} offers, {} people; uploaded in {setup_secs:.1} s. \
         Client: one reqwest client, {} connections, {} runtime thread(s), seed {}.\n",
        created.fences,
        ctx.world.brands.len(),
        ctx.world.cities.len(),
        ctx.world
            .cities
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", "),
        created.offers,
        ctx.people.len(),
        args.connections,
        args.threads,
        args.seed
    );
    if !args.notes.is_empty() {
        let _ = writeln!(r, "{}\n", args.notes);
    }
    let _ = writeln!(
        r,
        "| phase | s | requests | main req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | offers / check-ins | CPU and RSS |"
    );
    let _ = writeln!(
        r,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for p in phases {
        let offers = p.stats.decisions.get("offer").copied().unwrap_or(0);
        let decided: u64 = p.stats.decisions.values().sum();
        let offer_rate = match decided {
            0 => "-".to_string(),
            d => format!("{offers} / {d} ({:.2} %)", offers as f64 * 100.0 / d as f64),
        };
        let _ = writeln!(
            r,
            "| {} | {:.1} | {} | {:.0} | {} | {} ({:.3} %) | {} | {} |",
            p.name,
            p.secs,
            p.stats.requests(),
            p.rate(),
            percentiles_ms_cells(&p.stats.main),
            p.stats.errors(),
            p.stats.errors() as f64 * 100.0 / p.stats.requests().max(1) as f64,
            offer_rate,
            p.procs
        );
    }
    let ceiling = phases
        .iter()
        .find(|p| p.name.starts_with("HTTP ceiling"))
        .map(Phase::rate);
    let closed = phases
        .iter()
        .find(|p| p.name.contains("closed loop"))
        .map(Phase::rate);
    if let (Some(c), Some(k)) = (ceiling, closed) {
        let _ = writeln!(
            r,
            "\nClosed-loop check-ins: **{k:.0}/s = {:.1} % of the HTTP ceiling** ({c:.0} GET /healthz per s, same client and connections).",
            k * 100.0 / c
        );
    }
    cpu_budget(&mut r, phases);
    let _ = writeln!(
        r,
        "\nLatency of a people phase is the check-ins' (open loop: from the intended start). Also measured:\n"
    );
    let _ = writeln!(
        r,
        "| phase | what | count | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |"
    );
    let _ = writeln!(r, "| --- | --- | --- | --- | --- | --- | --- | --- |");
    for p in phases
        .iter()
        .filter(|p| !p.stats.events.is_empty() || !p.stats.service.is_empty())
    {
        let _ = writeln!(
            r,
            "| {} | check-in service time (from send) | {} | {} |",
            p.name,
            p.stats.service.len(),
            percentiles_ms_cells(&p.stats.service)
        );
        let _ = writeln!(
            r,
            "| {} | event batches ({} events, {} rejected) | {} | {} |",
            p.name,
            p.stats.events_sent,
            p.stats.events_rejected,
            p.stats.events.len(),
            percentiles_ms_cells(&p.stats.events)
        );
    }
    let mut statuses = std::collections::BTreeMap::new();
    let mut decisions = std::collections::BTreeMap::new();
    let mut dropped = 0;
    for p in phases {
        for (k, v) in &p.stats.statuses {
            *statuses.entry(*k).or_insert(0u64) += v;
        }
        for (k, v) in &p.stats.decisions {
            *decisions.entry(k.clone()).or_insert(0u64) += v;
        }
        dropped += p.stats.dropped;
    }
    let _ = writeln!(
        r,
        "\nStatus codes (0 = no answer): {statuses:?}; open-loop requests dropped at the deadline: {dropped}."
    );
    let _ = writeln!(r, "\nDecisions: {decisions:?}.");
    let mut per_person = std::collections::HashMap::<&str, usize>::new();
    for d in deliveries {
        *per_person.entry(d.person.as_str()).or_default() += 1;
    }
    let mut hist = std::collections::BTreeMap::<usize, usize>::new();
    for n in per_person.values() {
        *hist.entry(*n).or_default() += 1;
    }
    *hist.entry(0).or_default() += ctx.people.len() - per_person.len();
    let _ = writeln!(r, "\nOffers per person (offers → people): {hist:?}.");
    let _ = writeln!(
        r,
        "\nCap check over {} deliveries (person-day 1/24 h, person-week 3/7 d, person-brand 1/7 d, person-fence 1/24 h, person-offer per offer, duplicate delivery ids): **{} violations**.",
        deliveries.len(),
        violations.len()
    );
    for v in violations.iter().take(20) {
        let _ = writeln!(
            r,
            "- {} {} {}: {:?}",
            v.cap, v.person, v.scope, v.delivery_ids
        );
    }
    let _ = writeln!(r, "\nWhole run, CPU (% of one core) and RSS: {run_procs}.");
    if !soak_rss.is_empty() {
        let series: Vec<String> = soak_rss
            .iter()
            .map(|(s, kib)| format!("{s}s {:.0}", *kib as f64 / 1024.0))
            .collect();
        let _ = writeln!(
            r,
            "\ngeoffer RSS during the soak (MiB): {}.",
            series.join(", ")
        );
        if let Some(growth) = rss_growth_second_half(soak_rss) {
            let _ = writeln!(
                r,
                "RSS growth over the soak's second half: {:+.1} MiB (target for a 10-minute soak: at most +5 MiB between minutes 5 and 10).",
                growth
            );
        }
    }
    r
}

/// MiB that RSS grew from the sample nearest the soak's middle to its last sample.
fn rss_growth_second_half(samples: &[(u64, u64)]) -> Option<f64> {
    let (end_s, end_kib) = *samples.last()?;
    let (_, mid_kib) = *samples.iter().min_by_key(|(s, _)| s.abs_diff(end_s / 2))?;
    Some((end_kib as f64 - mid_kib as f64) / 1024.0)
}

/// The closed-loop target, as a share of the HTTP ceiling (issue 8).
const TARGET_SHARE: f64 = 0.5;

/// CPU per request of each process in the ceiling and closed-loop phases, and what the
/// other processes' share means for the closed-loop target.
fn cpu_budget(r: &mut String, phases: &[Phase]) {
    let find = |p: &str| phases.iter().find(|x| x.name.contains(p));
    let (Some(ceiling), Some(closed)) = (find("HTTP ceiling"), find("closed loop")) else {
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let _ = writeln!(
        r,
        "\nCPU per request, in microseconds of one core (a check-in's share of the event batches included); the machine has {cores:.0} cores, {:.0} µs of CPU per second:\n",
        cores * 1e6
    );
    let _ = writeln!(
        r,
        "| phase | per | geoffer µs | redis µs | loadgen µs | all µs | cores busy | Redis round trips per request (geoffer's calls) | Redis commands per request (scripts' own included) |"
    );
    let _ = writeln!(r, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let rows = std::iter::once((ceiling, "GET /healthz")).chain(
        phases
            .iter()
            .filter(|p| p.name.contains("closed loop") || p.name.contains("open loop"))
            .map(|p| (p, "check-in")),
    );
    for (p, per) in rows.clone() {
        let n = p.stats.main.len();
        let us = |name: &str| p.procs.get(name).map(|x| x.us_per(n));
        let cell = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.1}"));
        let all: f64 = p.procs.0.iter().flatten().map(|x| x.us_per(n)).sum();
        let busy: f64 = p.procs.0.iter().flatten().map(|x| x.percent()).sum();
        let per_request = |c: &Option<Calls>| c.as_ref().map_or("n/a".into(), |c| c.per_request(n));
        let (trips, commands) = (per_request(&p.round_trips), per_request(&p.redis_calls));
        let _ = writeln!(
            r,
            "| {} | {per} | {} | {} | {} | {all:.1} | {:.0} % | {trips} | {commands} |",
            p.name,
            cell(us("geoffer")),
            cell(us("redis")),
            cell(us("loadgen")),
            busy / cores
        );
    }
    // Issue 18 states its targets against geoffer's CPU per `GET /healthz` in the same run,
    // as this VM's speed drifts between runs.
    if let Some(healthz) = ceiling
        .procs
        .get("geoffer")
        .map(|g| g.us_per(ceiling.stats.main.len()))
    {
        let _ = writeln!(
            r,
            "\nCPU per check-in as a multiple of geoffer's CPU per `GET /healthz` in this run ({healthz:.1} µs):\n"
        );
        let _ = writeln!(r, "| phase | geoffer + redis | geoffer | redis | loadgen |");
        let _ = writeln!(r, "| --- | --- | --- | --- | --- |");
        for (p, _) in rows.skip(1) {
            let n = p.stats.main.len();
            let x = |name: &str| p.procs.get(name).map(|u| u.us_per(n) / healthz);
            let cell = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.2}×"));
            let both = x("geoffer").map(|g| g + x("redis").unwrap_or(0.0));
            let _ = writeln!(
                r,
                "| {} | **{}** | {} | {} | {} |",
                p.name,
                cell(both),
                cell(x("geoffer")),
                cell(x("redis")),
                cell(x("loadgen"))
            );
        }
    }
    let n = closed.stats.main.len();
    if let Some(pg) = closed.procs.get("postgres") {
        let _ = writeln!(
            r,
            "\nPostgreSQL (postmaster and backends, not in `all`'s columns above but in its sum): **{:.1} µs** per check-in in the closed loop, {:.0} % of a core.",
            pg.us_per(n),
            pg.percent()
        );
    }
    let (Some(redis), Some(client)) = (closed.procs.get("redis"), closed.procs.get("loadgen"))
    else {
        return;
    };
    let b = budget::bound(
        cores,
        ceiling.rate(),
        TARGET_SHARE,
        redis.us_per(n) + client.us_per(n),
    );
    let _ = writeln!(
        r,
        "\nAt {:.0} % of the ceiling ({:.0} check-ins/s) the cores allow **{:.1} µs of CPU per check-in** for geoffer, Redis and the client together. \
         In the closed loop Redis and the client alone spent **{:.1} µs** per check-in: even if geoffer cost nothing, the cores would carry at most \
         {:.0} check-ins/s, **{:.1} % of the ceiling**.",
        TARGET_SHARE * 100.0,
        b.target_rate,
        b.budget_us,
        b.others_us,
        b.free_server_rate,
        b.free_server_share * 100.0
    );
    let spent = closed
        .procs
        .get("geoffer")
        .map_or("n/a".into(), |g| format!("{:.1} µs", g.us_per(n)));
    let left = b.budget_us - b.others_us;
    if left <= 0.0 {
        let _ = writeln!(
            r,
            "That leaves geoffer nothing: Redis and the client alone are {:.1} µs per check-in over the budget (geoffer spent {spent}).",
            -left
        );
    } else if let Some(healthz) = ceiling.procs.get("geoffer") {
        let healthz_us = healthz.us_per(ceiling.stats.main.len());
        let _ = writeln!(
            r,
            "That leaves geoffer {left:.1} µs per check-in at the target, {:.2}× what it spent per `GET /healthz` ({healthz_us:.1} µs); it spent {spent}.",
            left / healthz_us
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_growth_is_measured_from_the_middle_sample_to_the_last() {
        let mib = |m: u64| m * 1024;
        let samples = [
            (0, mib(100)),
            (300, mib(140)),
            (330, mib(141)),
            (600, mib(143)),
        ];
        assert_eq!(rss_growth_second_half(&samples), Some(3.0));
        assert_eq!(rss_growth_second_half(&[]), None);
    }
}
