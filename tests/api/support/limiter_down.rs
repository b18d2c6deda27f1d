//! With Redis gone, the limiter cannot be asked: nothing is sent, and the decision says so.

use super::world::*;
use crate::helpers::*;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A redis-server child on a free port, killed when dropped (also when the test panics).
struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_redis() -> (Redis, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed (see .ci/test)");
    let redis = Redis(child);
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (redis, port);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("redis-server did not start on port {port}");
}

#[tokio::test]
async fn when_redis_goes_away_the_answer_is_limiter_unavailable_and_the_explanation_says_so() {
    let (redis, port) = start_redis().await;
    let w = world(
        Options {
            redis_url: Some(format!("redis://127.0.0.1:{port}")),
            ..Default::default()
        },
        &[place_offer("Two-for-one", 1.0)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    drop(redis);
    let answer = w.checkin("c-1", "u-1", json!({})).await;
    assert_eq!(answer["reason"], "limiter-unavailable", "{answer}");
    assert_eq!(w.app.count_rows("deliveries").await, 0);

    let d = w.decision("c-1").await;
    assert_eq!(
        d["summary"],
        "No offer: the rate limiter was unavailable, so nothing was sent (fail closed)."
    );
    assert_eq!(
        strings(&d["explanation"]).last().unwrap(),
        "limiter unavailable: the caps could not be checked, so nothing was sent (fail closed)"
    );
    let c = candidate(&d, "Two-for-one");
    assert_eq!(c["outcome"], "limiter-unavailable");
    let line = &lines(c)[0];
    assert!(
        line.starts_with("limiter unavailable: rate limiter unavailable")
            && line.ends_with("; nothing is sent unchecked"),
        "{line}"
    );
}
