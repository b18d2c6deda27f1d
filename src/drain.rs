//! Graceful shutdown that drops no request.
//!
//! actix-web's own graceful stop (4.18) marks every connection "draining" at once, and a
//! connection that is between two requests at that moment is closed, even when the
//! client's next request has already arrived and waits unread in the socket: the client
//! sees its request reset or the connection end without an answer (7 of 50 in flight in
//! one fault run, 17 of 50 in `sigterm_with_requests_in_flight_...`). Instead, on the
//! shutdown signal:
//!
//! 1. every answer from now on says `Connection: close` (and `/readyz` says not ready), so
//!    each keep-alive connection ends cleanly after the request it is serving, and its
//!    client sends the next one elsewhere;
//! 2. the listener stops listening, so a new connection is refused rather than accepted
//!    and left unanswered;
//! 3. once every connection has closed (idle ones at the keep-alive timeout, 5 s), or the
//!    grace period is over, the server stops (forcibly only after the grace period).
//!
//! Then the decision writer flushes (see `Application::run_until_stopped`).

use actix_web::dev::{Extensions, ServerHandle};
use std::net::{Shutdown, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The connections the server has open, counted through actix's per-connection data.
#[derive(Default)]
pub struct Connections {
    open: AtomicUsize,
}

/// Lives in a connection's data, so it is dropped when the connection ends.
struct Open(Arc<Connections>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connections {
    /// Counts one connection until `data` (its per-connection data) is dropped.
    pub fn track(self: &Arc<Self>, data: &mut Extensions) {
        self.open.fetch_add(1, Ordering::Relaxed);
        data.insert(Open(self.clone()));
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

/// What the drain needs: the flag answers read, the connection count and the listener.
pub struct Drain {
    /// Set at the start of the drain; the request middleware and /readyz read it.
    pub draining: Arc<AtomicBool>,
    /// Counted by the server's `on_connect`.
    pub connections: Arc<Connections>,
    /// The same listening socket the server accepts on (a duplicate descriptor).
    pub listener: TcpListener,
    /// The grace period for open connections.
    pub grace: Duration,
}

impl Drain {
    /// Runs the drain, then stops the server.
    pub async fn run(self, server: ServerHandle) {
        let started = Instant::now();
        self.draining.store(true, Ordering::Relaxed);
        server.pause().await;
        // shutdown(2) on a listening socket makes Linux stop listening: connections still
        // in the backlog and new ones are refused. Closing our descriptor would not do it
        // (the server holds another one).
        if let Err(e) = socket2::SockRef::from(&self.listener).shutdown(Shutdown::Read) {
            tracing::warn!(error = %e, "could not close the listener; new connections wait until the server stops");
        }
        tracing::info!(
            open = self.connections.open(),
            "shutting down: answering what arrived, closing each connection after its answer"
        );
        while self.connections.open() > 0 && started.elapsed() < self.grace {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left = self.connections.open();
        if left > 0 {
            tracing::warn!(
                open = left,
                "grace period over: closing the connections still open"
            );
        }
        // With nothing open this returns at once; with connections left the grace period is
        // already spent, so they are closed now rather than after a second one.
        server.stop(left == 0).await;
    }
}
