//! The check-in engine without HTTP: 100,000 fences, 100,000 people, a realistic mix of
//! reports (most match no fence). Prints decisions/s and latency percentiles as markdown.
//!
//! `cargo run --release -p loadtest --bin engine_bench -- [--fences N] [--people N] [--decisions N] [--concurrency N] [--brands N] [--backtest] [--database-url postgres://…] [--redis-port N] [--no-visits]`
//!
//! With `--redis-port N`, habits and the visit state live in the Redis on 127.0.0.1:N (its
//! own key prefix per run) instead of the in-process twin, and the script's server-side µs
//! per call (`INFO commandstats`, `evalsha`) over the run is printed too. `--no-visits` turns
//! visit tracking off (`EngineConfig::visit_tracking`), for its cost beside today's.
//!
//! With `--backtest`, the recorded decisions are then replayed by a backtest of the first
//! brand's "Hot days" offer over the whole run (`services::backtest`), and the replayed
//! decisions per second are printed too.

use geoffer::auth::{Principal, Role};
use geoffer::catalog::Catalog;
use geoffer::checkins::input::CheckinInput;
use geoffer::checkins::writer::DecisionWriter;
use geoffer::checkins::{Engine, EngineConfig, EngineMetrics, EngineParts};
use geoffer::clock::SystemClock;
use geoffer::domain::{AccuracyM, BrandId, RadiusM, Timezone};
use geoffer::fences::{FenceDraft, FenceGeometry};
use geoffer::habits::{Habits, InProcessHabits, RedisHabits};
use geoffer::limits::InProcessLimiter;
use geoffer::offers::OfferSpec;
use geoffer::people::PersonId;
use geoffer::redis_conns::{self, PerThread, Target};
use geoffer::services::backtest::{BacktestInput, BacktestService};
use geoffer::store::postgres::{PgStore, PoolSettings};
use geoffer::store::sqlite::SqliteStore;
use geoffer::store::{Brand, Store};
use geoffer::weather::{Condition, Weather, WeatherLookup, WeatherProvider};
use loadtest::report::{histogram, percentiles_us};
use loadtest::{arg, procstat, redisstats};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Hot and clear everywhere: weather-gated offers can fire, and no network is involved.
struct Sunny;

#[async_trait::async_trait]
impl WeatherProvider for Sunny {
    async fn current(&self, _lat: f64, _lon: f64) -> WeatherLookup {
        WeatherLookup::Known(Weather {
            temp_c: 31.0,
            feels_like_c: 33.0,
            precipitation_mm: 0.0,
            condition: Condition::Clear,
            is_day: true,
            observed_at: None,
        })
    }
    fn name(&self) -> &'static str {
        "sunny"
    }
}

/// City centres the fences cluster around (lat, lon, IANA zone).
const CITIES: [(f64, f64, &str); 4] = [
    (40.7580, -73.9855, "America/New_York"),
    (51.5074, -0.1278, "Europe/London"),
    (35.6762, 139.6503, "Asia/Tokyo"),
    (-33.8688, 151.2093, "Australia/Sydney"),
];

fn offers() -> Vec<OfferSpec> {
    let docs = [
        serde_json::json!({"name": "Place only", "title": "Hi", "body": "At {{ fence.name }}", "value": 0.5}),
        serde_json::json!({"name": "Hot days", "title": "Cold drink", "body": "It's {{ weather.temp_c | round }}°C at {{ fence.name }}", "value": 1.0,
            "targeting": {"weather": {"min_temp_c": 25}}}),
        serde_json::json!({"name": "Regulars", "title": "The usual", "body": "{{ habit.usual_item }} at {{ fence.name }}", "value": 2.0,
            "targeting": {"habit": {"min_visits_per_week": 1}}, "holdout_pct": 10}),
    ];
    docs.into_iter()
        .map(|d| serde_json::from_value(d).expect("valid offer"))
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let (n_fences, n_people, n_decisions, concurrency) = (
        arg("--fences", 100_000),
        arg("--people", 100_000),
        arg("--decisions", 200_000),
        arg("--concurrency", 16),
    );
    let dir = tempfile_dir()?;
    // `--database-url postgres://…` (an empty database) puts PostgreSQL behind the engine.
    let args: Vec<String> = std::env::args().collect();
    let db = args
        .iter()
        .position(|a| a == "--database-url")
        .and_then(|i| args.get(i + 1));
    let (store, pg, sqlite): (Arc<dyn Store>, Option<PgStore>, Option<SqliteStore>) = match db {
        Some(url) => {
            let pg = PgStore::connect(url, PoolSettings::default()).await?;
            (Arc::new(pg.clone()), Some(pg), None)
        }
        None => {
            let s = SqliteStore::connect(&format!("sqlite://{}/bench.db", dir.display())).await?;
            (Arc::new(s.clone()), None, Some(s))
        }
    };
    eprintln!(
        "store: {}",
        if db.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    let actor = Principal {
        key_id: "bench".into(),
        role: Role::Admin,
        brand: None,
        app: None,
    };
    let mut rng = StdRng::seed_from_u64(42);
    let setup = Instant::now();
    let brands: Vec<BrandId> = (0..arg("--brands", 50))
        .map(|i| BrandId::parse(&format!("brand-{i:02}")).expect("valid id"))
        .collect();
    let mut centres = Vec::with_capacity(n_fences);
    for (b, brand) in brands.iter().enumerate() {
        store
            .create_brand(
                &actor,
                &Brand {
                    id: brand.clone(),
                    name: format!("Brand {b}"),
                    created_at: chrono::Utc::now(),
                },
            )
            .await?;
        for spec in offers() {
            store
                .create_offer(&actor, brand, spec, chrono::Utc::now())
                .await?;
        }
        let per_brand = n_fences / brands.len();
        let mut drafts = Vec::with_capacity(per_brand);
        for i in 0..per_brand {
            let (clat, clon, tz) = CITIES[rng.random_range(0..CITIES.len())];
            // Gaussian-ish spread of ~5 km around the centre, like stores in a city.
            let (dlat, dlon): (f64, f64) = (
                (rng.random::<f64>() + rng.random::<f64>() - 1.0) * 0.05,
                (rng.random::<f64>() + rng.random::<f64>() - 1.0) * 0.06,
            );
            let (lat, lon) = (clat + dlat, clon + dlon);
            centres.push((lat, lon));
            drafts.push(FenceDraft {
                name: format!("Store {b}-{i}"),
                geometry: FenceGeometry::Point([lon, lat]),
                radius: Some(RadiusM::parse(rng.random_range(30.0..200.0)).expect("valid radius")),
                timezone: Timezone::parse(tz).expect("valid zone"),
                tags: vec!["store".into()],
                external_id: Some(format!("s-{i}")),
                max_accuracy: AccuracyM::default(),
            });
        }
        store
            .put_fences(&actor, brand, drafts, false, chrono::Utc::now())
            .await?;
    }
    let people: Vec<String> = (0..n_people).map(|i| format!("user-{i}")).collect();
    if let Some(pg) = &pg {
        // The same consents in one statement.
        sqlx::query(
            "INSERT INTO consents (app_id, user_id, person, location, personalization, updated_at)
             SELECT 'default', u, p, true, k, 0 FROM UNNEST($1::text[], $2::text[], $3::bool[]) AS t(u, p, k)",
        )
        .bind(&people)
        .bind(people.iter().map(|u| PersonId::of("default", u).as_str().to_string()).collect::<Vec<_>>())
        .bind((0..people.len()).map(|i| i % 5 != 0).collect::<Vec<_>>())
        .execute(pg.pool())
        .await?;
    } else if let Some(sqlite) = &sqlite {
        let mut tx = sqlite.pool().begin().await?;
        for (i, u) in people.iter().enumerate() {
            sqlx::query("INSERT INTO consents (app_id, user_id, person, location, personalization, updated_at) VALUES ('default', ?, ?, 1, ?, 0)")
                .bind(u)
                .bind(PersonId::of("default", u).as_str())
                .bind(i % 5 != 0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    let dyn_store: Arc<dyn Store> = store;
    let bench_start = chrono::Utc::now();
    let catalog = Arc::new(Catalog::load(dyn_store.as_ref()).await?);
    let metrics = geoffer::metrics::Metrics::new();
    let (writer, writer_task) = DecisionWriter::start(
        dyn_store.clone(),
        &metrics,
        geoffer::checkins::writer::DEFAULT_QUEUE_CAPACITY,
    );
    let bench_store = dyn_store.clone();
    let visit_tracking = !args.iter().any(|a| a == "--no-visits");
    let redis_port = args
        .iter()
        .position(|a| a == "--redis-port")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.parse::<u16>())
        .transpose()?;
    let habits: Arc<dyn Habits> = match redis_port {
        Some(port) => {
            let timeout = std::time::Duration::from_secs(2);
            let target = Target::parse(&format!("redis://127.0.0.1:{port}"))?;
            let conns = PerThread::connect(target, redis_conns::config(timeout), timeout).await?;
            // A prefix of its own: every run starts with no habits and no visits.
            let prefix = format!("bench-{}:", uuid::Uuid::new_v4().simple());
            Arc::new(RedisHabits::new(Arc::new(conns), &prefix, timeout))
        }
        None => Arc::new(InProcessHabits::new()),
    };
    eprintln!(
        "habits: {}; visit tracking {}",
        redis_port.map_or("in-process twin".to_string(), |p| format!(
            "Redis on 127.0.0.1:{p}"
        )),
        if visit_tracking { "on" } else { "off" }
    );
    let engine = Arc::new(Engine::new(EngineParts {
        catalog,
        store: dyn_store,
        limiter: Arc::new(InProcessLimiter::new(Arc::new(SystemClock))),
        consents: Arc::new(geoffer::people::gate::InProcessGate::default()),
        habits,
        weather: Arc::new(Sunny),
        writer,
        clock: Arc::new(SystemClock),
        config: EngineConfig {
            quiet_hours: None,
            // Reports come from random people at random places at once: every jump would be
            // implausible. The check still runs (and costs what it costs); it never says no.
            max_plausible_speed_kmh: f64::MAX,
            visit_tracking,
            ..EngineConfig::default()
        },
        metrics: EngineMetrics::new(&metrics),
        subjects: Default::default(),
    }));
    let setup_s = setup.elapsed().as_secs_f64();
    // 30% of reports come from inside a store (people shop), 70% from anywhere in the city.
    let reports: Vec<CheckinInput> = (0..n_decisions)
        .map(|i| {
            let (lat, lon) = if rng.random_bool(0.3) {
                let (lat, lon) = centres[rng.random_range(0..centres.len())];
                (lat + rng.random_range(-0.0002..0.0002), lon + rng.random_range(-0.0002..0.0002))
            } else {
                let (clat, clon, _) = CITIES[rng.random_range(0..CITIES.len())];
                (clat + rng.random_range(-0.06..0.06), clon + rng.random_range(-0.07..0.07))
            };
            serde_json::from_value(serde_json::json!({"checkin_id": format!("c-{i}"), "user_id": people[rng.random_range(0..people.len())],
                "lat": lat, "lon": lon, "accuracy_m": 20, "recorded_at": chrono::Utc::now().to_rfc3339(), "speed_mps": 1.0}))
            .expect("valid report")
        })
        .collect();
    let reports = Arc::new(std::sync::Mutex::new(reports));
    let redis_before = redis_port.and_then(redisstats::read_times);
    // This process's CPU over the decisions, the writer's drain included: the engine, the
    // group commit and SQLite all run in it (PostgreSQL's share is not).
    let cpu_before = procstat::sample(std::process::id());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (engine, reports) = (engine.clone(), reports.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let Some(mut report) = reports.lock().expect("not poisoned").pop() else {
                    break;
                };
                // Stamped when sent, as a phone would: a long run must not age its reports.
                report.recorded_at = chrono::Utc::now();
                let t = Instant::now();
                let answer = engine.decide("default", report).await;
                h.record(t.elapsed().as_nanos() as u64).expect("in range");
                let key = match answer {
                    Ok(a) => a.reason().unwrap_or("offer").to_string(),
                    Err(e) => format!("error: {e}"),
                };
                *reasons.entry(key).or_default() += 1;
            }
            (h, reasons)
        }));
    }
    let mut all = histogram();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for t in tasks {
        let (h, r) = t.await?;
        all.add(&h)?;
        for (k, v) in r {
            *reasons.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let redis_after = redis_port.and_then(redisstats::read_times);
    let catalog = engine.catalog().clone();
    let config = engine.config().clone();
    drop(engine);
    writer_task.await?;
    let cpu_after = procstat::sample(std::process::id());
    println!(
        "| fences | people | decisions | concurrency | setup s | decisions/s | p50 / p90 / p99 / p99.9 / max µs |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {n_fences} | {n_people} | {n_decisions} | {concurrency} | {setup_s:.1} | {:.0} | {} |",
        n_decisions as f64 / elapsed,
        percentiles_us(&all)
    );
    println!(
        "\noutcomes: {}",
        reasons
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let (Some(a), Some(b)) = (&cpu_before, &cpu_after) {
        let cpu = procstat::between("engine_bench", a, b, procstat::ticks_per_second()).cpu_secs;
        println!(
            "\nCPU of this process (engine, decision writer, SQLite) until the writer drained: {cpu:.2} s, **{:.0} decisions per CPU-second** ({:.0} µs per decision)",
            n_decisions as f64 / cpu.max(1e-9),
            cpu * 1e6 / n_decisions.max(1) as f64
        );
    }
    if let (Some(before), Some(after)) = (&redis_before, &redis_after) {
        let (calls, usec) = before.per_call(after, "evalsha");
        println!(
            "\nRedis (server side, `INFO commandstats`): evalsha {calls} calls, {usec:.1} µs per call, {:.1} µs per decision",
            usec * calls as f64 / n_decisions.max(1) as f64
        );
    }
    if args.iter().any(|a| a == "--backtest") {
        backtest(
            bench_store,
            catalog,
            config,
            &brands[0],
            &actor,
            bench_start,
        )
        .await?;
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// Backtests `brand`'s "Hot days" offer, unchanged, over every decision the run recorded,
/// and prints the replayed decisions per second.
async fn backtest(
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    config: EngineConfig,
    brand: &BrandId,
    actor: &Principal,
    from: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let offer = catalog
        .offers_of(brand)
        .into_iter()
        .find(|o| o.spec.name == "Hot days")
        .ok_or_else(|| anyhow::anyhow!("no Hot days offer"))?;
    let service = BacktestService::new(
        store,
        catalog,
        config,
        Arc::new(SystemClock),
        chrono::Duration::days(90),
    );
    let input = BacktestInput {
        offer: offer.spec.clone(),
        offer_id: Some(offer.id),
        from: from - chrono::Duration::minutes(1),
        to: chrono::Utc::now() + chrono::Duration::minutes(1),
    };
    let started = Instant::now();
    let view = service
        .backtest(actor, brand.as_str(), input)
        .await
        .map_err(|e| anyhow::anyhow!("backtest: {e}"))?;
    let s = started.elapsed().as_secs_f64();
    let replayed = view.checkins_considered + view.not_replayable;
    println!("\n| backtest of | decisions replayed | seconds | decisions/s | deliveries (live) |");
    println!("|---|---|---|---|---|");
    println!(
        "| {brand} / Hot days | {replayed} | {s:.2} | {:.0} | {} ({}) |",
        replayed as f64 / s,
        view.deliveries,
        view.live_deliveries.unwrap_or(0)
    );
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "geoffer-engine-bench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
