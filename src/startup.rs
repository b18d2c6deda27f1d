//! Builds the application from settings: store, catalog, limiter, habits, weather, engine,
//! listener, server.
//!
//! About 440 lines: the composition root wires every part (store, catalog and its change-log
//! follower, hot state, weather, engine, services, server, background tasks and their
//! metrics) in one place on purpose.

use crate::api;
use crate::api::extract::BodyLimit;
use crate::catalog::Catalog;
use crate::changes::ChangeFeed;
use crate::checkins::admission::Admission;
use crate::checkins::writer::DecisionWriter;
use crate::checkins::{Engine, EngineConfig, EngineMetrics, EngineParts, Subjects};
use crate::clock::{Clock, SystemClock};
use crate::drain::{Connections, Drain};
use crate::habits::{Habits, InProcessHabits, RedisHabits};
use crate::limits::{InProcessLimiter, Limiter, RedisLimiter};
use crate::metrics::Metrics;
use crate::people::gate::{ConsentGate, InProcessGate, RedisGate};
use crate::redis_conns::{self, Calls, PerThread, Target};
use crate::services::events::EventDeps;
use crate::services::people::PeopleDeps;
use crate::services::webhook_sender::SenderConfig;
use crate::services::{
    AccessService, CatalogService, EventService, HealthService, PeopleService, Services,
    SessionService, SupportService, TrialService,
};
use crate::services::{WebhookSender, WebhookService};
use crate::settings::Settings;
use crate::state::AppState;
use crate::store::Store;
use crate::store::postgres::{PgStore, PoolSettings};
use crate::store::sqlite::SqliteStore;
use crate::store::webhooks::FailurePolicy;
use crate::weather::{
    LoggedWeather, OpenMeteo, OpenMeteoConfig, RecordedWeather, WeatherLog, WeatherProvider,
};
use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A built, bound, not yet running application.
pub struct Application {
    port: u16,
    server: Server,
    /// How shutdown drains the connections (see `drain`).
    drain: Drain,
    state: AppState,
    background: Vec<JoinHandle<()>>,
    // Tasks that would otherwise run forever (the trace purge) end when this is dropped.
    stop: tokio::sync::watch::Sender<bool>,
}

/// Opens the store named by the settings.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url.expose();
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = PoolSettings {
            max_connections: settings.pg_pool_max.max(1),
            min_connections: settings.pg_pool_min.min(settings.pg_pool_max),
            acquire_timeout: Duration::from_millis(settings.pg_acquire_timeout_ms),
        };
        Ok(Arc::new(PgStore::connect(url, pool).await?))
    } else {
        anyhow::bail!(
            "unsupported database URL scheme (this build supports sqlite://PATH and postgres://…)"
        )
    }
}

/// With a pooled store (PostgreSQL): gauges of its connections in use, idle and the most it
/// opens, and counters of the check-in and event paths' acquisitions and their wait,
/// refreshed every second until `stop` fires. In use at the most with none idle means
/// callers are waiting for a connection; the wait counter says for how long.
fn pool_metrics(
    store: Arc<dyn Store>,
    metrics: &Metrics,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    if store.pool_stats().is_none() {
        return Ok(None);
    }
    let gauge = prometheus::IntGaugeVec::new(
        prometheus::Opts::new(
            "store_pool_connections",
            "Database connections by state (in_use, idle) and the pool's maximum (max)",
        ),
        &["state"],
    )?;
    metrics.register(Box::new(gauge.clone()));
    let acquires = prometheus::IntCounter::new(
        "store_pool_acquires_total",
        "Connections the check-in and event paths took from the pool",
    )?;
    let waited = prometheus::Counter::new(
        "store_pool_acquire_wait_seconds_total",
        "Time the check-in and event paths spent waiting for a pooled connection",
    )?;
    metrics.register(Box::new(acquires.clone()));
    metrics.register(Box::new(waited.clone()));
    Ok(Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let (mut seen, mut seen_us) = (0u64, 0u64);
        loop {
            if let Some(p) = store.pool_stats() {
                gauge
                    .with_label_values(&["in_use"])
                    .set(i64::from(p.open.saturating_sub(p.idle)));
                gauge.with_label_values(&["idle"]).set(i64::from(p.idle));
                gauge.with_label_values(&["max"]).set(i64::from(p.max));
                // The store counts since start; the counters move by what is new.
                acquires.inc_by(p.acquires.saturating_sub(seen));
                waited.inc_by(p.acquire_wait_us.saturating_sub(seen_us) as f64 / 1e6);
                (seen, seen_us) = (p.acquires, p.acquire_wait_us);
            }
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
        }
    })))
}

/// The person's hot state beside the durable store: caps, habits and the consent gate.
type HotState = (Arc<dyn Limiter>, Arc<dyn Habits>, Arc<dyn ConsentGate>);

/// The limiter, the habit state and the consent gate, from the same backend: Redis when
/// configured, else the in-process twins (strict within this process only).
async fn limits(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    metrics: &Metrics,
) -> anyhow::Result<HotState> {
    let timeout = Duration::from_millis(settings.limiter_timeout_ms);
    match &settings.redis_url {
        Some(url) => {
            // One set of per-operation counters for every Redis user.
            let calls = Calls::new(timeout);
            calls.register(metrics);
            let limiter = RedisLimiter::connect(url.expose(), &settings.redis_key_prefix, timeout)
                .await
                .context("connecting the rate limiter to Redis")?
                .with_calls(calls.clone());
            let target = Target::parse(url.expose())?;
            let conns = Arc::new(
                PerThread::connect(target, redis_conns::config(timeout), timeout)
                    .await
                    .context("connecting habit state to Redis")?,
            );
            tracing::info!("rate limiter: Redis (strict across replicas)");
            let prefix = &settings.redis_key_prefix;
            Ok((
                Arc::new(limiter),
                Arc::new(
                    RedisHabits::new(conns.clone(), prefix, timeout).with_calls(calls.clone()),
                ),
                Arc::new(RedisGate::new(conns, prefix, timeout).with_calls(calls)),
            ))
        }
        None => {
            tracing::warn!(
                "rate limiter: in-process twin; caps hold within this process only (set GEOFFER_REDIS_URL for replicas)"
            );
            Ok((
                Arc::new(InProcessLimiter::new(clock)),
                Arc::new(InProcessHabits::new()),
                Arc::new(InProcessGate::default()),
            ))
        }
    }
}

fn weather(settings: &Settings) -> anyhow::Result<Arc<dyn WeatherProvider>> {
    if let Some(dir) = &settings.weather_dir {
        let recorded = RecordedWeather::from_dir(dir)
            .with_context(|| format!("loading recorded weather from {}", dir.display()))?;
        tracing::info!(recordings = recorded.len(), "weather: recorded (offline)");
        return Ok(Arc::new(recorded));
    }
    let config = OpenMeteoConfig {
        base_url: settings.weather_url.clone(),
        budget: Duration::from_millis(settings.weather_budget_ms),
        ..OpenMeteoConfig::default()
    };
    Ok(Arc::new(OpenMeteo::with_config(
        config,
        Arc::new(SystemClock),
    )?))
}

/// The use cases, over the same store, feed, hot state and clock as the engine (built
/// from the engine's parts before they go into it).
fn services(
    engine: &EngineParts,
    feed: &ChangeFeed,
    admission: &Arc<Admission>,
    keys: &Arc<crate::auth::KeyCache>,
    session_ttl: chrono::Duration,
    settings: &Settings,
    metrics: &Metrics,
    weather_log: &Arc<WeatherLog>,
) -> anyhow::Result<Services> {
    let webhook_attempts = prometheus::IntCounterVec::new(
        prometheus::Opts::new(
            "webhook_attempts_total",
            "Webhook delivery attempts by outcome: delivered, failed (retried later), gave-up",
        ),
        &["outcome"],
    )?;
    metrics.register(Box::new(webhook_attempts.clone()));
    let (store, clock) = (&engine.store, &engine.clock);
    let access = Arc::new(AccessService::new(store.clone(), keys.clone()));
    let people = Arc::new(PeopleService::new(PeopleDeps {
        store: store.clone(),
        gate: engine.consents.clone(),
        limiter: engine.limiter.clone(),
        habits: engine.habits.clone(),
        admission: admission.clone(),
        clock: clock.clone(),
    }));
    let webhook_sender = Arc::new(
        WebhookSender::new(
            store.clone(),
            clock.clone(),
            SenderConfig {
                timeout: Duration::from_millis(settings.webhook_timeout_ms),
                batch: i64::from(settings.webhook_batch.max(1)),
                policy: FailurePolicy {
                    max_consecutive: i64::from(settings.webhook_disable_after_failures.max(1)),
                    max_failing_for: chrono::Duration::hours(i64::from(
                        settings.webhook_disable_after_hours.max(1),
                    )),
                },
                allow_loopback_http: settings.webhook_allow_loopback_http,
            },
        )?
        .counting(webhook_attempts),
    );
    Ok(Services {
        webhooks: Arc::new(WebhookService::new(
            store.clone(),
            clock.clone(),
            settings.webhook_allow_loopback_http,
        )),
        webhook_sender,
        sessions: Arc::new(SessionService::new(
            store.clone(),
            access.clone(),
            clock.clone(),
            session_ttl,
        )),
        access,
        catalog: Arc::new(CatalogService::new(
            store.clone(),
            feed.clone(),
            clock.clone(),
        )),
        events: Arc::new(EventService::new(EventDeps {
            store: store.clone(),
            people: people.clone(),
            catalog: engine.catalog.clone(),
            limiter: engine.limiter.clone(),
            clock: clock.clone(),
            dismissal_cooldown_days: engine.config.dismissal_cooldown_days,
        })),
        support: Arc::new(SupportService::new(
            store.clone(),
            engine.catalog.clone(),
            clock.clone(),
            engine.config.attribution_days,
        )),
        trial: Arc::new(TrialService::new(
            store.clone(),
            engine.catalog.clone(),
            engine.config.clone(),
            clock.clone(),
        )),
        backtest: Arc::new(
            crate::services::backtest::BacktestService::new(
                store.clone(),
                engine.catalog.clone(),
                engine.config.clone(),
                clock.clone(),
                settings.trace_retention()?,
            )
            .with_weather_log(weather_log.clone()),
        ),
        health: Arc::new(HealthService::new(
            store.clone(),
            engine.limiter.clone(),
            engine.catalog.clone(),
        )),
        people,
    })
}

impl Application {
    /// Builds with the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Opens the store, loads the catalog, connects the limiter, binds the listener (port 0
    /// picks a free port) and builds the server. Tests pass a clock they can move.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let store = open_store(&settings).await?;
        let metrics = Arc::new(Metrics::new());
        let feed = ChangeFeed::default();
        let catalog = Arc::new(
            Catalog::load(store.as_ref())
                .await
                .context("loading fences and offers")?,
        );
        let follower = catalog.clone().follow(&feed, store.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let log_lag = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new(
                "catalog_change_lag_seconds",
                "From a change's commit to this replica's catalog applying it (shared change log)",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
        )?;
        metrics.register(Box::new(log_lag.clone()));
        let log_follower = catalog
            .clone()
            .follow_log(
                store.clone(),
                Duration::from_millis(settings.catalog_max_lag_ms),
                log_lag,
                stopped.clone(),
            )
            .await
            .context("following the catalog's change log")?;
        let (limiter, habits, consents) = limits(&settings, clock.clone(), &metrics).await?;
        let (writer, writer_task) =
            DecisionWriter::start(store.clone(), &metrics, settings.decision_queue_capacity);
        let config = EngineConfig {
            quiet_hours: settings.quiet_hours_minutes()?,
            min_relevance: settings.min_relevance,
            max_plausible_speed_kmh: settings.max_plausible_speed()?,
            caps: settings.caps(),
            visit_dwell_ms: settings.visit_times_ms()?.0,
            visit_timeout_ms: settings.visit_times_ms()?.1,
            ..EngineConfig::default()
        };
        let pool_gauges = pool_metrics(store.clone(), &metrics, stopped.clone())?;
        let stopped_for_webhooks = stopped.clone();
        // The weather provider notes each cell-hour's conditions in memory; this writes them.
        let weather_log = Arc::new(WeatherLog::new());
        let weather_log_task = crate::services::weather_log::spawn(
            store.clone(),
            weather_log.clone(),
            stopped.clone(),
        );
        let purge = crate::services::retention::spawn(
            store.clone(),
            clock.clone(),
            settings.trace_retention()?,
            stopped,
        );
        let quota = Arc::new(crate::checkins::quota::AppQuota::new(
            settings.app_requests_per_minute,
            clock.clone(),
            &metrics,
        ));
        let parts = EngineParts {
            catalog,
            store: store.clone(),
            limiter,
            consents,
            habits,
            weather: Arc::new(LoggedWeather::new(
                weather(&settings)?,
                weather_log.clone(),
                clock.clone(),
            )),
            writer,
            clock,
            config,
            metrics: EngineMetrics::new(&metrics),
            subjects: Subjects::People,
        };
        let admission = Arc::new(Admission::new(
            settings.max_concurrent_checkins,
            Duration::from_millis(settings.checkin_queue_wait_ms),
            &metrics,
        ));
        let keys: Arc<crate::auth::KeyCache> = Arc::default();
        let session_ttl = settings.console_session_ttl()?;
        let services = services(
            &parts,
            &feed,
            &admission,
            &keys,
            session_ttl,
            &settings,
            &metrics,
            &weather_log,
        )?;
        // The webhook sender polls the outbox in real time; the times it records and
        // schedules come from the engine's clock. `webhook_poll_ms = 0` starts none.
        let webhook_task = (settings.webhook_poll_ms > 0).then(|| {
            crate::services::webhook_sender::spawn(
                services.webhook_sender.clone(),
                Duration::from_millis(settings.webhook_poll_ms),
                stopped_for_webhooks.clone(),
            )
        });
        let engine = Arc::new(Engine::new(parts));
        let draining = Arc::new(AtomicBool::new(false));
        let state = AppState {
            services,
            admission,
            quota,
            draining: draining.clone(),
            store,
            feed,
            metrics,
            settings: Arc::new(settings),
            engine,
            keys,
        };
        let listener = TcpListener::bind(&state.settings.bind)
            .with_context(|| format!("binding {}", state.settings.bind))?;
        let port = listener.local_addr()?.port();
        let connections = Arc::new(Connections::default());
        let drain = Drain {
            draining,
            connections: connections.clone(),
            listener: listener.try_clone().context("duplicating the listener")?,
            grace: Duration::from_secs(state.settings.shutdown_timeout_s),
        };
        let data = web::Data::new(state.clone());
        let (body_limit, import_limit) = (
            state.settings.body_limit_bytes,
            state.settings.import_limit_bytes,
        );
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(BodyLimit(body_limit))
                .wrap(ErrorHandlers::new().default_handler(api::middleware::problemize))
                .wrap(from_fn(api::middleware::observe))
                .configure(crate::console::configure)
                .configure(|cfg| api::configure(cfg, import_limit))
        })
        .on_connect(move |_, data| connections.track(data))
        .listen(listener)?
        // Signals are the caller's business: shutdown arrives as a future (see run_until_stopped).
        .disable_signals()
        .shutdown_timeout(state.settings.shutdown_timeout_s)
        .client_request_timeout(Duration::from_millis(
            state.settings.client_request_timeout_ms,
        ))
        .run();
        Ok(Self {
            port,
            server,
            drain,
            state,
            background: [follower, writer_task, purge, weather_log_task]
                .into_iter()
                .chain(log_follower)
                .chain(pool_gauges)
                .chain(webhook_task)
                .collect(),
            stop,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shared state (for embedding and tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting (new connections are
    /// refused), answers every request that arrived, closing each connection after its
    /// answer (up to the configured grace period; see `drain`), and flushes the decision
    /// writer.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            server,
            drain,
            state,
            background,
            stop,
            ..
        } = self;
        let handle = server.handle();
        tokio::spawn(async move {
            shutdown.await;
            drain.run(handle).await;
        });
        server.await?;
        // Dropping the last state handle closes the writer's queue; it flushes and ends.
        drop(state);
        drop(stop);
        // With every handle gone the writer drains its queue and ends; so does the catalog's
        // feed follower. Bound the wait so a wedged store cannot hang shutdown forever.
        for task in background {
            if tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .is_err()
            {
                tracing::warn!("a background task did not finish within 10 s of shutdown");
            }
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
