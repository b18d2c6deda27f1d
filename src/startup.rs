//! Builds the application from settings: store, state, listener, server.

use crate::api;
use crate::api::extract::BodyLimit;
use crate::changes::ChangeFeed;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::state::AppState;
use crate::store::Store;
use crate::store::sqlite::SqliteStore;
use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// A built, bound, not yet running application.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

/// Opens the store named by the settings.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url.expose();
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else {
        anyhow::bail!("unsupported database URL scheme (this build supports sqlite://PATH)")
    }
}

impl Application {
    /// Opens the store, binds the listener (port 0 picks a free port) and builds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = open_store(&settings).await?;
        let state = AppState {
            store,
            feed: ChangeFeed::default(),
            metrics: Arc::new(Metrics::new()),
            settings: Arc::new(settings),
        };
        let listener = TcpListener::bind(&state.settings.bind)
            .with_context(|| format!("binding {}", state.settings.bind))?;
        let port = listener.local_addr()?.port();
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
                .configure(|cfg| api::configure(cfg, import_limit))
        })
        .listen(listener)?
        // Signals are the caller's business: shutdown arrives as a future (see run_until_stopped).
        .disable_signals()
        .shutdown_timeout(state.settings.shutdown_timeout_s)
        .run();
        Ok(Self {
            port,
            server,
            state,
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

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// (up to the configured grace period) and flushes background writers.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let handle = self.server.handle();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            handle.stop(true).await;
        });
        self.server.await?;
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

/// Grace period helper for callers that want to bound their own waits.
pub fn grace(settings: &Settings) -> Duration {
    Duration::from_secs(settings.shutdown_timeout_s)
}
