//! Webhook outbox throughput: N `delivery.created` messages written by the decision batch
//! (SQLite file), then drained by the real sender (claim, sign, POST, record the attempt)
//! to a receiver on 127.0.0.1 that answers 204 at once. Prints events/s as markdown.
//!
//! `cargo run --release -p loadtest --bin outbox_bench -- [--messages N] [--batch N]`

use chrono::Utc;
use geoffer::auth::{Principal, Role};
use geoffer::clock::SystemClock;
use geoffer::decisions::{DecisionRecord, DeliveryRecord};
use geoffer::domain::BrandId;
use geoffer::services::WebhookSender;
use geoffer::services::webhook_sender::SenderConfig;
use geoffer::store::Brand;
use geoffer::store::prelude::*;
use geoffer::store::shared::Change;
use geoffer::store::sqlite::SqliteStore;
use geoffer::store::webhooks::FailurePolicy;
use geoffer::webhooks::{Endpoint, EventType};
use loadtest::arg;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use uuid::Uuid;

/// A keep-alive HTTP/1.1 receiver on 127.0.0.1 that reads each request whole and answers
/// 204; counts the requests.
async fn receiver(count: Arc<AtomicU64>) -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut conn = BufReader::new(conn);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if conn.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if conn.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    count.fetch_add(1, Ordering::Relaxed);
                    let answer = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
                    if conn.get_mut().write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

/// A delivered decision of `brand`'s offer to person `n` (its outbox row is the message).
fn delivered(brand: &str, n: usize, at: chrono::DateTime<Utc>) -> DecisionRecord {
    let id = Uuid::new_v4();
    DecisionRecord {
        app: "default".into(),
        checkin_id: format!("bench-{n}"),
        fingerprint: format!("bench-{n}"),
        person: format!("{n:032x}"),
        user_id: format!("u-{n}"),
        at,
        decision: "offer",
        reason: None,
        offer_id: Some(Uuid::nil()),
        delivery: Some(DeliveryRecord {
            id,
            device_id: None,
            brand: brand.into(),
            offer_id: Uuid::nil(),
            fence_id: Uuid::nil(),
            title: "Chilled".into(),
            body: "At the corner".into(),
            redemption_code: None,
            expires_at: None,
            budget_exhausted: None,
        }),
        response: serde_json::json!({"decision": "offer"}),
        trace: Vec::new(),
        brands: vec![brand.into()],
        latency_us: 1,
        visit_hooks: Vec::new(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let messages = arg("--messages", 20_000);
    let batch = arg("--batch", 50);
    let dir =
        std::env::temp_dir().join(format!("geoffer-outbox-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let store =
        Arc::new(SqliteStore::connect(&format!("sqlite://{}/bench.db", dir.display())).await?);
    let received = Arc::new(AtomicU64::new(0));
    let port = receiver(received.clone()).await?;

    let now = Utc::now();
    let actor = Principal {
        key_id: "bench".into(),
        role: Role::Admin,
        brand: None,
        app: None,
    };
    let brand = BrandId::parse("chillco").expect("valid id");
    store
        .create_brand(
            &actor,
            &Brand {
                id: brand.clone(),
                name: "Chill Co".into(),
                created_at: now,
            },
        )
        .await?;
    let endpoint = Endpoint::new(
        Uuid::now_v7(),
        brand.as_str().into(),
        format!("http://127.0.0.1:{port}/hooks"),
        vec![EventType::DeliveryCreated],
        now,
    );
    let change = Change::new(
        Some(&actor),
        now,
        Some(&brand),
        "webhook",
        endpoint.id.to_string(),
        "create",
    );
    store.create_endpoint(&endpoint, &change).await?;

    let filled = Instant::now();
    for chunk in (0..messages).collect::<Vec<_>>().chunks(256) {
        let batch: Vec<DecisionRecord> = chunk
            .iter()
            .map(|&n| delivered(brand.as_str(), n, now))
            .collect();
        store.save_decisions(batch).await?;
    }
    let fill_s = filled.elapsed().as_secs_f64();

    let sender = WebhookSender::new(
        store.clone(),
        Arc::new(SystemClock),
        SenderConfig {
            timeout: Duration::from_secs(10),
            batch: i64::try_from(batch)?,
            policy: FailurePolicy {
                max_consecutive: 20,
                max_failing_for: chrono::Duration::hours(24),
            },
            allow_loopback_http: true,
        },
    )?;
    let started = Instant::now();
    let mut sent = 0;
    loop {
        let n = sender.send_due().await?;
        if n == 0 {
            break;
        }
        sent += n;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let got = received.load(Ordering::Relaxed);
    anyhow::ensure!(
        sent == messages && got == messages as u64,
        "sent {sent}, received {got}, expected {messages}"
    );
    println!("| messages | batch | outbox written in s | drained in s | events/s delivered |");
    println!("|---|---|---|---|---|");
    println!(
        "| {messages} | {batch} | {fill_s:.2} | {elapsed:.2} | {:.0} |",
        messages as f64 / elapsed
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
