//! A throw-away Redis Cluster for tests: three masters on free loopback ports (no replicas,
//! no persistence), slots assigned by `redis-cli --cluster create`, killed when the last
//! test holding it lets go.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Three redis-server processes forming one cluster.
pub struct RedisCluster {
    ports: Vec<u16>,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

static SHARED: Mutex<Weak<RedisCluster>> = Mutex::new(Weak::new());

impl RedisCluster {
    /// The cluster the tests running now share (each test uses its own key prefix), started
    /// when none is running. It stops when the last test holding it ends.
    pub fn shared() -> Arc<RedisCluster> {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cluster) = shared.upgrade() {
            return cluster;
        }
        let cluster = Arc::new(RedisCluster::start());
        *shared = Arc::downgrade(&cluster);
        cluster
    }

    /// Starts three masters and joins them into one cluster covering every slot.
    pub fn start() -> RedisCluster {
        for _ in 0..5 {
            if let Some(cluster) = RedisCluster::try_start() {
                return cluster;
            }
        }
        panic!("could not start a Redis Cluster (are redis-server and redis-cli on PATH?)");
    }

    /// `GEOFFER_REDIS_URL` for this cluster: every node as a seed.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// Sums one counter of `INFO commandstats` (e.g. `cmdstat_evalsha` calls) over the masters.
    pub fn command_calls(&self, command: &str) -> u64 {
        let prefix = format!("cmdstat_{command}:calls=");
        self.ports
            .iter()
            .filter_map(|port| {
                let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
                let mut conn = client.get_connection().ok()?;
                let info: String = redis::cmd("INFO")
                    .arg("commandstats")
                    .query(&mut conn)
                    .ok()?;
                info.lines().find_map(|line| {
                    line.strip_prefix(&prefix)?
                        .split(',')
                        .next()?
                        .parse::<u64>()
                        .ok()
                })
            })
            .sum()
    }

    /// How many keys each master holds (the cluster spreads people over all three).
    pub fn keys_per_node(&self) -> Vec<u64> {
        self.ports
            .iter()
            .map(|port| {
                let client =
                    redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("node url");
                let mut conn = client.get_connection().expect("node answers");
                redis::cmd("DBSIZE").query(&mut conn).expect("DBSIZE")
            })
            .collect()
    }

    fn try_start() -> Option<RedisCluster> {
        let dir = tempfile::tempdir().expect("a temp dir for the cluster's node files");
        let ports: Vec<u16> = (0..3).map(|_| cluster_port()).collect();
        let mut cluster = RedisCluster {
            ports: ports.clone(),
            children: Vec::new(),
            _dir: dir,
        };
        let dir = cluster._dir.path().to_path_buf();
        for port in &ports {
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"])
                .arg("--cluster-config-file")
                .arg(dir.join(format!("nodes-{port}.conf")))
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server must be on PATH");
            cluster.children.push(child);
        }
        if !ports.iter().all(|p| answers(*p, Duration::from_secs(5))) {
            return None;
        }
        let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli must be on PATH");
        if !created.success() {
            return None;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ports.iter().all(|p| cluster_ok(*p)) {
                return Some(cluster);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn node(port: u16) -> Option<redis::Connection> {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .ok()?
        .get_connection_with_timeout(Duration::from_millis(200))
        .ok()
}

fn answers(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(mut conn) = node(port)
            && redis::cmd("PING").query::<String>(&mut conn).is_ok()
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn cluster_ok(port: u16) -> bool {
    node(port)
        .and_then(|mut conn| {
            redis::cmd("CLUSTER")
                .arg("INFO")
                .query::<String>(&mut conn)
                .ok()
        })
        .is_some_and(|info| info.contains("cluster_state:ok"))
}

/// A free port whose cluster bus port (port + 10000) is free too.
fn cluster_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = listener.local_addr().expect("local addr").port();
        if port < 55_535 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}
