//! The database cannot record: a full disk. Check-ins answer 503
//! with `Retry-After`, /readyz says not ready, and both recover when the disk does.
//!
//! The disk is a small tmpfs of the test's own, so "full" is a real ENOSPC. Mounting needs
//! root (CI runs as root); elsewhere the test says so and passes without running.

use super::{NEAR, world};
use crate::helpers::*;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a temporary folder, unmounted (lazily: the app may still hold its
/// files) when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
    filler: PathBuf,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk {
            filler: dir.path().join("filler"),
            dir,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes until the disk says it is full.
    fn fill(&self) {
        let mut f = std::fs::File::create(&self.filler).unwrap();
        let chunk = vec![0xa5u8; 64 << 10];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(&self.filler).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

async fn app_on(disk: &SmallDisk) -> (TestApp, String) {
    let db = disk.path().join("geoffer.db");
    let options = Options {
        db_url: Some(format!("sqlite://{}", db.display())),
        ..Default::default()
    };
    world(options, 3).await
}

/// A check-in, with the `Retry-After` header the helpers do not keep.
async fn checkin(app: &TestApp, key: &str, id: &str, user: &str) -> (Answer, Option<String>) {
    let body = json!({"checkin_id": id, "user_id": user, "lat": NEAR.0, "lon": NEAR.1,
        "accuracy_m": 15, "recorded_at": geoffer::clock::Clock::now(&*app.clock).to_rfc3339()});
    let res = app
        .client
        .post(format!("{}/v1/checkins", app.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (read(res).await, retry_after)
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let a = app.send(reqwest::Method::GET, "/readyz", None, None).await;
    (a.status.as_u16(), a.body)
}

/// /readyz after a write failed: its probe may still fit in what the failed write left, so
/// it is asked a few times.
async fn not_ready_soon(app: &TestApp) -> (u16, Value) {
    for _ in 0..20 {
        let (status, body) = readyz(app).await;
        if status == 503 {
            return (status, body);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    readyz(app).await
}

#[tokio::test]
async fn a_full_disk_answers_503_with_retry_after_and_is_not_ready_until_space_returns() {
    let Some(disk) = SmallDisk::mount(16) else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let (app, key) = app_on(&disk).await;
    assert_eq!(readyz(&app).await.0, 200);
    disk.fill();

    // What the WAL already holds may take a few more decisions; then every one is refused.
    let mut answered_offers = 0;
    let mut refused = None;
    for i in 0..500 {
        let (a, retry_after) =
            checkin(&app, &key, &format!("full-{i}"), &format!("u-{}", i % 3)).await;
        if a.status == 503 {
            refused = Some((a, retry_after));
            break;
        }
        assert_eq!(a.status, 200, "{}", a.body);
        answered_offers += usize::from(a.body["decision"] == "offer");
    }
    let (a, retry_after) = refused.expect("a full disk refuses check-ins");
    let problem = assert_problem(&a, 503);
    assert!(
        problem["type"].as_str().unwrap().ends_with("/unavailable"),
        "{problem}"
    );
    assert!(retry_after.is_some(), "503 carries Retry-After");
    let (status, body) = not_ready_soon(&app).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["type"].as_str().unwrap().ends_with("/unavailable"),
        "{body}"
    );
    assert_eq!(body["checks"]["store_writes"], "down", "{body}");
    // A feedback event that cannot be stored says so in the same words, per event (the
    // first few may still find room in free pages).
    let mut refused = None;
    for i in 0..200 {
        let ev = app
            .post(
                "/v1/events",
                &key,
                &json!({"events": [{"event_id": format!("on-full-disk-{i}"), "user_id": "u-0",
                    "occurred_at": geoffer::clock::Clock::now(&*app.clock).to_rfc3339(),
                    "type": "traits", "interests": ["cold-drinks"]}]}),
            )
            .await;
        assert_eq!(ev.status, 200, "{}", ev.body);
        if ev.body["rejected"] == 1 {
            refused = Some(ev.body["results"][0]["problem"].clone());
            break;
        }
    }
    let p = refused.expect("a full disk refuses events");
    assert_eq!(p["status"], 503, "{p}");
    assert!(p["type"].as_str().unwrap().ends_with("/unavailable"), "{p}");
    // Never an offer that is not recorded.
    assert_eq!(app.count_rows("deliveries").await, answered_offers as i64);

    disk.free();
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    let (a, _) = checkin(&app, &key, "after", "u-0").await;
    assert_eq!(a.status, 200, "{}", a.body);
}
