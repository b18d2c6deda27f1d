//! Benchmark of the Redis limiter against the ceiling of the same Redis.
//!
//! Starts a throw-away redis-server on a free loopback port (or uses `--port P` of a
//! running one). Each of `--rounds` rounds measures the ceiling with
//! `redis-benchmark -p P -n 200000 -c 50 -P 1 EVALSHA <sha of 'return 1'> 0`
//! and then drives `--claims` claims from `--concurrency` tasks over `--people` people
//! (fresh people every round). Rounds alternate so that load from other tenants of a
//! shared machine hits both sides alike; the table reports every round and the median.
//! Bounded in count and time; loopback only.
//!
//! `cargo run --release --bin limiter_bench -- [--claims N] [--concurrency C]
//!  [--people P] [--rounds R] [--threads T] [--ceiling-requests R] [--port P]`

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use geoffer::limits::{
    Budget, Caps, ClaimOutcome, ClaimRequest, DEFAULT_TIMEOUT, Limiter, RedisLimiter,
};
use hdrhistogram::Histogram;

struct Options {
    claims: u64,
    concurrency: u64,
    people: u64,
    rounds: u64,
    threads: usize,
    ceiling_requests: u64,
    port: Option<u16>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        claims: 200_000,
        concurrency: 64,
        people: 100_000,
        rounds: 3,
        threads: 1,
        ceiling_requests: 200_000,
        port: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).ok_or(format!("{} needs a value", pair[0]))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("{}: {e}", pair[0]))
        };
        match pair[0].as_str() {
            "--claims" => o.claims = number()?,
            "--concurrency" => o.concurrency = number()?.max(1),
            "--people" => o.people = number()?.max(1),
            "--rounds" => o.rounds = number()?.max(1),
            "--threads" => o.threads = usize::try_from(number()?.max(1)).unwrap_or(1),
            "--ceiling-requests" => o.ceiling_requests = number()?,
            "--port" => o.port = Some(value.parse().map_err(|e| format!("--port: {e}"))?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// The redis-server this run started; killed on drop.
struct OwnServer(Child);

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> Result<(u16, OwnServer), String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("free port: {e}"))?
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("redis-server: {e}"))?;
    let server = OwnServer(child);
    for _ in 0..500 {
        if redis_cli(port, &["PING"]).is_ok_and(|out| out == "PONG") {
            return Ok((port, server));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err("redis-server did not answer".into())
}

fn redis_cli(port: u16, args: &[&str]) -> Result<String, String> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .map_err(|e| format!("redis-cli: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// requests/s of a trivial EVALSHA: what this Redis can do at all with 50 clients.
fn ceiling(port: u16, requests: u64) -> Result<f64, String> {
    let sha = redis_cli(port, &["SCRIPT", "LOAD", "return 1"])?;
    let out = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-n", &requests.to_string()])
        .args(["-c", "50", "-P", "1", "--csv", "EVALSHA", &sha, "0"])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("redis-benchmark: {e}"))?;
    let csv = String::from_utf8_lossy(&out.stdout);
    // "test","rps",...  then  "EVALSHA <sha> 0","44444.45",...
    csv.lines()
        .find(|line| line.starts_with("\"EVALSHA"))
        .and_then(|line| line.split("\",\"").nth(1))
        .and_then(|rps| rps.trim_matches('"').parse().ok())
        .ok_or_else(|| format!("unreadable redis-benchmark output: {csv}"))
}

/// xorshift64*: enough randomness to spread claims, no dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn request(round: u64, i: u64, rng: &mut u64, people: u64) -> ClaimRequest {
    let offer = next(rng) % 200;
    ClaimRequest {
        checkin_id: format!("ck-{round}-{i}"),
        // Fresh people every round, so every round sees the same mix of grants.
        person: format!("{:016x}{:016x}", round, next(rng) % people),
        brand: format!("brand-{}", offer % 20),
        offer_id: format!("offer-{offer}"),
        fence_id: format!("fence-{}", next(rng) % 500),
        caps: Caps::default(),
        // Half the offers carry a budget, so grants of those take the two-step path.
        budget: if offer.is_multiple_of(2) {
            Budget {
                total: Some(u64::from(u32::MAX)),
                daily: Some(u64::from(u32::MAX)),
            }
        } else {
            Budget::default()
        },
    }
}

#[derive(Default)]
struct Tally {
    granted: AtomicU64,
    denied: AtomicU64,
    failed: AtomicU64,
}

/// One round's claims: latency histogram (µs), wall time, answers.
struct Round {
    hist: Histogram<u64>,
    took: Duration,
    tally: Arc<Tally>,
    ceiling: f64,
}

impl Round {
    fn rate(&self, claims: u64) -> f64 {
        claims as f64 / self.took.as_secs_f64()
    }
}

async fn drive(
    limiter: Arc<dyn Limiter>,
    o: &Options,
    round: u64,
) -> (Histogram<u64>, Duration, Arc<Tally>) {
    let issued = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let tasks: Vec<_> = (0..o.concurrency)
        .map(|task| {
            let (limiter, issued, tally) = (limiter.clone(), issued.clone(), tally.clone());
            let (claims, people) = (o.claims, o.people);
            tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
                let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (task + 1);
                loop {
                    let i = issued.fetch_add(1, Ordering::Relaxed);
                    if i >= claims {
                        return hist;
                    }
                    let req = request(round, i, &mut rng, people);
                    let t = Instant::now();
                    let answer = limiter.claim(&req).await;
                    let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                    hist.saturating_record(micros.max(1));
                    let counter = match answer {
                        Ok(ClaimOutcome::Granted { .. }) => &tally.granted,
                        Ok(ClaimOutcome::Denied(_)) => &tally.denied,
                        Err(_) => &tally.failed,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    for task in tasks {
        if let Ok(hist) = task.await {
            let _ = all.add(&hist);
        }
    }
    (all, started.elapsed(), tally)
}

fn ms(hist: &Histogram<u64>, quantile: f64) -> String {
    format!("{:.2}", hist.value_at_quantile(quantile) as f64 / 1000.0)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("limiter_bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    let (port, _server) = match o.port {
        Some(port) => (port, None),
        None => start_server().map(|(port, server)| (port, Some(server)))?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.threads)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let url = format!("redis://127.0.0.1:{port}/");
    let limiter: Arc<dyn Limiter> = Arc::new(
        runtime
            .block_on(RedisLimiter::connect(&url, "bench:", DEFAULT_TIMEOUT))
            .map_err(|e| e.to_string())?,
    );
    let mut rounds = Vec::new();
    for round in 0..o.rounds {
        let ceiling = ceiling(port, o.ceiling_requests)?;
        let (hist, took, tally) = runtime.block_on(drive(limiter.clone(), &o, round));
        rounds.push(Round {
            hist,
            took,
            tally,
            ceiling,
        });
    }

    println!(
        "{} claims per round, {} tasks, {} people per round, {} client thread(s), timeout {:?}\n",
        o.claims, o.concurrency, o.people, o.threads, DEFAULT_TIMEOUT
    );
    println!(
        "| round | claims/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | granted | denied | failed | ceiling req/s | ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (i, r) in rounds.iter().enumerate() {
        let rate = r.rate(o.claims);
        println!(
            "| {} | {rate:.0} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {:.0} | {:.0}% |",
            i + 1,
            ms(&r.hist, 0.5),
            ms(&r.hist, 0.9),
            ms(&r.hist, 0.99),
            ms(&r.hist, 0.999),
            r.hist.max() as f64 / 1000.0,
            r.tally.granted.load(Ordering::Relaxed),
            r.tally.denied.load(Ordering::Relaxed),
            r.tally.failed.load(Ordering::Relaxed),
            r.ceiling,
            100.0 * rate / r.ceiling,
        );
    }
    let mut ratios: Vec<f64> = rounds
        .iter()
        .map(|r| r.rate(o.claims) / r.ceiling)
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "\nmedian claims/s vs ceiling: {:.0}% (target >= 50%)",
        100.0 * ratios[ratios.len() / 2]
    );
    Ok(())
}
