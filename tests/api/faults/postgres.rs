//! PostgreSQL under faults: the database restarted mid-load (a private server this test
//! creates, stops and starts again), and a replica killed with SIGKILL mid-load while the
//! others go on. Never an offer that is not recorded.

use super::{NEAR, world};
use crate::helpers::*;
use crate::support::postgres::PgDatabase;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A PostgreSQL server of the test's own: its data directory in a temporary folder, on a free
/// port of 127.0.0.1. The server binaries refuse to run as root, so as root they run as the
/// `postgres` user (the Debian package creates it).
struct PrivatePg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivatePg {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect(
                "PostgreSQL's server binaries under /usr/lib/postgresql (.ci/test installs them)",
            )
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("pg_ctl").exists())
            .max()
            .expect("a PostgreSQL version with pg_ctl");
        let dir = tempfile::tempdir().unwrap();
        let pg = Self {
            port: free_port(),
            dir,
            bin,
        };
        if is_root() {
            let owner = Command::new("chown")
                .arg("postgres")
                .arg(pg.dir.path())
                .status()
                .unwrap();
            assert!(
                owner.success(),
                "chown postgres {}",
                pg.dir.path().display()
            );
        }
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        pg.up();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs one of the server's programs (as `postgres` when this is root) and waits.
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it accepts connections.
    fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server (fast: open connections are cut).
    fn down(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data();
        let path = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let _ = cmd
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc_geteuid() == 0 }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A check-in as raw HTTP: status, `Retry-After`, body (`None` when no answer came).
async fn checkin(base: &str, key: &str, id: &str, user: &str) -> Option<(u16, bool, Value)> {
    static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    });
    let res = CLIENT
        .post(format!("{base}/v1/checkins"))
        .bearer_auth(key)
        .json(
            &json!({"checkin_id": id, "user_id": user, "lat": NEAR.0, "lon": NEAR.1,
                      "accuracy_m": 15, "recorded_at": "2026-07-14T19:00:00Z"}),
        )
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .ok()?;
    let status = res.status().as_u16();
    let retry_after = res.headers().contains_key("retry-after");
    let body = res.json().await.unwrap_or(Value::Null);
    Some((status, retry_after, body))
}

pub(super) fn delivery_of(body: &Value) -> Option<String> {
    (body["decision"] == "offer")
        .then(|| body["offer"]["delivery_id"].as_str().unwrap().to_string())
}

/// Every delivery id in `ids` is recorded in the database at `url`.
async fn all_recorded(url: &str, ids: &[String]) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let recorded: Vec<String> = sqlx::query_scalar("SELECT id FROM deliveries")
        .fetch_all(&pool)
        .await
        .unwrap();
    for id in ids {
        assert!(
            recorded.contains(id),
            "delivery {id} was received but not recorded"
        );
    }
}

#[tokio::test]
async fn while_postgres_is_down_checkins_answer_503_with_retry_after_and_recover_by_themselves() {
    let pg = PrivatePg::start();
    let options = Options {
        db_url: Some(pg.url()),
        tweak: |s| s.pg_acquire_timeout_ms = 500,
        ..Default::default()
    };
    let (app, key) = world(options, 60).await;
    let mut received = Vec::new();
    // Healthy: the first people get their offer.
    for u in 0..10 {
        let (status, _, body) = checkin(&app.base, &key, &format!("up-{u}"), &format!("u-{u}"))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        received.extend(delivery_of(&body));
    }
    assert_eq!(received.len(), 10);

    pg.down();
    for u in 10..30 {
        let (status, retry_after, body) =
            checkin(&app.base, &key, &format!("down-{u}"), &format!("u-{u}"))
                .await
                .expect("an answer, not a dropped connection");
        assert!(
            status == 503 && retry_after,
            "while the database is down: {status} {body}"
        );
    }
    let ready = app.get("/readyz", "").await;
    assert_eq!(ready.status, 503, "{}", ready.body);

    pg.up();
    let started = Instant::now();
    let mut n = 0;
    loop {
        n += 1;
        let (status, _, body) = checkin(&app.base, &key, &format!("back-{n}"), "u-30")
            .await
            .unwrap();
        if status == 200 {
            received.extend(delivery_of(&body));
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not recovered after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for u in 31..40 {
        let (status, _, body) = checkin(&app.base, &key, &format!("after-{u}"), &format!("u-{u}"))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        received.extend(delivery_of(&body));
    }
    assert_eq!(
        received.len(),
        20,
        "every person in the fence got their one offer"
    );
    all_recorded(&pg.url(), &received).await;
}

/// A `geoffer serve` process on `db`, on a free port.
fn replica(db: &str) -> (Child, String) {
    serve(db, None)
}

/// A `geoffer serve` process on `db` (with the settings file `config`), on a free port.
pub(super) fn serve(db: &str, config: Option<&std::path::Path>) -> (Child, String) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_geoffer"));
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let child = command
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--database-url", db, "--weather-url", "http://127.0.0.1:9"])
        .args(["--quiet-hours", "off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("geoffer starts");
    (child, format!("http://127.0.0.1:{port}"))
}

pub(super) async fn wait_ready(base: &str) {
    let started = Instant::now();
    while reqwest::get(format!("{base}/readyz"))
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{base} not ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_replica_killed_mid_load_leaves_the_others_answering_and_every_offer_received_recorded() {
    let db = PgDatabase::create().await;
    let options = Options {
        db_url: Some(db.url.clone()),
        quiet_hours: Some("off".into()),
        ..Default::default()
    };
    let people = 150;
    let (app, key) = world(options, people).await;
    let (mut victim, victim_url) = replica(&db.url);
    let (mut survivor, survivor_url) = replica(&db.url);
    wait_ready(&victim_url).await;
    wait_ready(&survivor_url).await;

    // Sixteen clients at a time, round robin over the three replicas; the victim is killed
    // when a third of the check-ins have been answered.
    let urls = [
        victim_url.as_str(),
        survivor_url.as_str(),
        app.base.as_str(),
    ];
    let total = people * 2;
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let load = futures_util::stream::iter(0..total)
        .map(|i| {
            let (key, base, answered) = (key.clone(), urls[i % 3], &answered);
            async move {
                let a = checkin(base, &key, &format!("k-{i}"), &format!("u-{}", i % people)).await;
                answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (base, a)
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>();
    let kill = async {
        while answered.load(std::sync::atomic::Ordering::Relaxed) < total / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        victim.kill().expect("SIGKILL");
    };
    let (answers, ()) = tokio::join!(load, kill);
    let _ = victim.wait();

    let mut received = Vec::new();
    let mut survivor_answers = 0;
    for (base, answer) in &answers {
        match answer {
            Some((status, _, body)) => {
                if *base != victim_url {
                    assert_eq!(*status, 200, "{base}: {body}");
                    survivor_answers += 1;
                }
                if *status == 200 {
                    received.extend(delivery_of(body));
                }
            }
            None => assert_eq!(
                *base, victim_url,
                "only the killed replica may fail to answer"
            ),
        }
    }
    assert_eq!(survivor_answers, total - total.div_ceil(3));
    let victim_failed = answers
        .iter()
        .filter(|(b, a)| *b == victim_url && a.is_none())
        .count();
    assert!(victim_failed > 0, "the kill landed mid-load");
    assert!(!received.is_empty());
    all_recorded(&db.url, &received).await;
    survivor.kill().unwrap();
    let _ = survivor.wait();
}
