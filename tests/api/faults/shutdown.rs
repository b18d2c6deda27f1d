//! Graceful shutdown with requests in flight on keep-alive connections: every request gets
//! a complete answer, or its connection is refused; none is reset or cut off mid-request.
//!
//! One race is TCP's, not the server's: a client that reconnects in the instant between the
//! accept loop pausing and the listener closing completes its handshake in the kernel's
//! backlog, and closing the listener resets it before the server ever sees it. Such a
//! connection (fresh, not one byte of answer) counts as refused, and the server's own count
//! of answered requests proves that no request it handled went unanswered.
//!
//! The server runs in-process (the same `Application` the binary runs); the shutdown
//! future stands in for SIGTERM (the binary's `shutdown_signal` completes on it and passes
//! control to the same code).

use geoffer::clock::ManualClock;
use geoffer::settings::{Overrides, Settings};
use geoffer::startup::Application;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 50;

#[derive(Default)]
struct Tally {
    answered: AtomicUsize,
    answered_after_stop: AtomicUsize,
    closed_by_server_after_an_answer: AtomicUsize,
    refused: AtomicUsize,
    /// Reset before a byte of answer on a connection that had had no answer yet: it sat in
    /// the kernel's accept backlog when the listener closed (the server never saw it).
    reset_in_backlog: AtomicUsize,
    /// Reset, or EOF before a complete answer, after the request was sent.
    cut_off: AtomicUsize,
}

/// One complete HTTP/1.1 response read from `conn`: whether the server said it closes the
/// connection after it. `None` when the connection ended before a complete response.
async fn read_response(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<bool> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                match conn.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            return Some(head.contains("connection: close"));
        }
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Sends requests back to back on a keep-alive connection (a new one when the server
/// closes it cleanly) until a connection is refused.
async fn client(port: u16, tally: Arc<Tally>, stopped: Arc<AtomicBool>) {
    let request = format!("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let mut buf = Vec::with_capacity(8192);
    loop {
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)).await else {
            tally.refused.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let mut fresh = true;
        loop {
            if conn.write_all(request.as_bytes()).await.is_err() {
                let bucket = if fresh {
                    &tally.reset_in_backlog
                } else {
                    &tally.cut_off
                };
                bucket.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let after_stop = stopped.load(Ordering::Relaxed);
            match read_response(&mut conn, &mut buf).await {
                Some(closes) => {
                    fresh = false;
                    tally.answered.fetch_add(1, Ordering::Relaxed);
                    if after_stop {
                        tally.answered_after_stop.fetch_add(1, Ordering::Relaxed);
                    }
                    if closes {
                        tally
                            .closed_by_server_after_an_answer
                            .fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                None => {
                    let bucket = if fresh && buf.is_empty() {
                        &tally.reset_in_backlog
                    } else {
                        &tally.cut_off
                    };
                    bucket.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_requests_in_flight_answers_every_one_or_refuses_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let overrides = Overrides {
        bind: Some("127.0.0.1:0".into()),
        database_url: Some(format!("sqlite://{}", dir.path().join("t.db").display())),
        weather_url: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    };
    let mut settings = Settings::load(None, overrides).unwrap();
    settings.shutdown_timeout_s = 10;
    let clock = Arc::new(ManualClock::new("2026-07-14T19:00:00Z".parse().unwrap()));
    let app = Application::build_with_clock(settings, clock)
        .await
        .unwrap();
    let port = app.port();
    let metrics = app.state().metrics.clone();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stop_rx.await;
    }));

    let tally = Arc::new(Tally::default());
    let stopped = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(client(port, tally.clone(), stopped.clone())))
        .collect();
    // Every connection is busy before the signal.
    while tally.answered.load(Ordering::Relaxed) < 10 * CONNECTIONS {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stopped.store(true, Ordering::Relaxed);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("shutdown finishes")
        .unwrap()
        .unwrap();
    for c in clients {
        tokio::time::timeout(Duration::from_secs(10), c)
            .await
            .expect("every client ends")
            .unwrap();
    }
    let n = |a: &AtomicUsize| a.load(Ordering::Relaxed);
    let handled = handled_readyz(&metrics.render());
    eprintln!(
        "answered {} ({} after the signal), handled by the server {handled}, closed cleanly {}, \
         refused {}, reset in the backlog {}, cut off {}",
        n(&tally.answered),
        n(&tally.answered_after_stop),
        n(&tally.closed_by_server_after_an_answer),
        n(&tally.refused),
        n(&tally.reset_in_backlog),
        n(&tally.cut_off)
    );
    assert_eq!(
        handled,
        n(&tally.answered),
        "every request the server handled reached its client whole"
    );
    assert_eq!(
        n(&tally.cut_off),
        0,
        "requests reset or cut off mid-request"
    );
    assert_eq!(
        n(&tally.closed_by_server_after_an_answer),
        CONNECTIONS,
        "each connection ends after an answer that says so"
    );
    assert_eq!(
        n(&tally.refused) + n(&tally.reset_in_backlog),
        CONNECTIONS,
        "every client ends refused"
    );
}

/// The `/readyz` requests the server answered, from its `http_requests_total`.
fn handled_readyz(exposition: &str) -> usize {
    exposition
        .lines()
        .filter(|l| l.starts_with("geoffer_http_requests_total{") && l.contains("\"/readyz\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as usize
}
