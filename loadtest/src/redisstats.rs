//! Redis work per request, read before and after a phase from two sides:
//! - round trips: geoffer's own count of the Redis calls it waited for, per operation
//!   (`geoffer_redis_call_duration_seconds_count{op}` on `GET /metrics`). geoffer sends no
//!   pipelines, and each call is one command, so a call is one round trip — except a limiter
//!   `claim` of an offer with a budget, which is up to three (none in the load-test world);
//! - commands: Redis's `INFO commandstats`, which also counts the commands a script runs
//!   (`HMGET`, `HSET`, `TIME` inside an `EVALSHA`), so it is the work, not the trips.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Calls per command (`evalsha`, `get`, …), as Redis counts them since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls(pub BTreeMap<String, u64>);

impl Calls {
    /// Parses the text of `INFO commandstats`: lines `cmdstat_<name>:calls=<n>,usec=…`.
    /// Lines it does not know are skipped.
    pub fn parse(info: &str) -> Self {
        Self(
            command_stats(info)
                .filter_map(|(name, field)| Some((name.to_string(), field("calls=")?)))
                .collect(),
        )
    }

    /// Parses geoffer's Prometheus text: the count of Redis calls per operation, from the
    /// lines `geoffer_redis_call_duration_seconds_count{op="<op>"} <n>`.
    pub fn parse_metrics(text: &str) -> Self {
        const NAME: &str = "geoffer_redis_call_duration_seconds_count{op=\"";
        let mut out = BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix(NAME) else {
                continue;
            };
            let Some((op, value)) = rest.split_once("\"}") else {
                continue;
            };
            // Prometheus prints counts as floats (`12` or `1.2e6`).
            if let Ok(n) = value.trim().parse::<f64>() {
                out.insert(op.to_string(), n as u64);
            }
        }
        Self(out)
    }

    /// The calls made between `self` (earlier) and `later`, without the `info` reads
    /// themselves; commands with none are left out.
    pub fn since(&self, later: &Calls) -> Calls {
        Calls(
            later
                .0
                .iter()
                .filter(|(name, _)| name.as_str() != "info")
                .filter_map(|(name, n)| {
                    let d = n.saturating_sub(self.0.get(name).copied().unwrap_or(0));
                    (d > 0).then(|| (name.clone(), d))
                })
                .collect(),
        )
    }

    /// All calls together.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// `total per request (evalsha 2.01, get 1.00)`, for `requests` requests.
    pub fn per_request(&self, requests: u64) -> String {
        let n = requests.max(1) as f64;
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(name, c)| format!("{name} {:.2}", *c as f64 / n))
            .collect();
        format!("{:.2} ({})", self.total() as f64 / n, parts.join(", "))
    }
}

/// Calls and server-side microseconds per command, as Redis counts them since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Times(pub BTreeMap<String, (u64, u64)>);

impl Times {
    /// Parses the text of `INFO commandstats`: `cmdstat_<name>:calls=<n>,usec=<µs>,…`.
    pub fn parse(info: &str) -> Self {
        Self(
            command_stats(info)
                .filter_map(|(name, field)| {
                    Some((name.to_string(), (field("calls=")?, field("usec=")?)))
                })
                .collect(),
        )
    }

    /// `command`'s calls between `self` (earlier) and `later`, and its server-side µs per
    /// call over them.
    pub fn per_call(&self, later: &Times, command: &str) -> (u64, f64) {
        let (c0, u0) = self.0.get(command).copied().unwrap_or_default();
        let (c1, u1) = later.0.get(command).copied().unwrap_or_default();
        let calls = c1.saturating_sub(c0);
        (calls, u1.saturating_sub(u0) as f64 / calls.max(1) as f64)
    }
}

/// Each `cmdstat_<name>:<fields>` line of `INFO commandstats` (others are skipped): the name,
/// and a reader of one numeric field by its `key=` prefix.
fn command_stats(info: &str) -> impl Iterator<Item = (&str, impl Fn(&str) -> Option<u64>)> {
    info.lines().filter_map(|line| {
        let (name, fields) = line.trim().strip_prefix("cmdstat_")?.split_once(':')?;
        let field = move |key: &str| {
            fields
                .split(',')
                .find_map(|f| f.strip_prefix(key))
                .and_then(|n| n.parse::<u64>().ok())
        };
        Some((name, field))
    })
}

/// Reads `INFO commandstats` from the Redis on 127.0.0.1:`port` (`None` when it cannot).
pub fn read(port: u16) -> Option<Calls> {
    read_info(port).map(|info| Calls::parse(&info))
}

/// The same, with each command's server-side time.
pub fn read_times(port: u16) -> Option<Times> {
    read_info(port).map(|info| Times::parse(&info))
}

fn read_info(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n")
        .ok()?;
    let mut r = BufReader::new(s);
    let mut head = String::new();
    r.read_line(&mut head).ok()?;
    // A bulk string: `$<len>\r\n<len bytes>\r\n`.
    let len: usize = head.trim_end().strip_prefix('$')?.parse().ok()?;
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(String::from_utf8_lossy(&body).into_owned())
}

/// Reads geoffer's Redis calls per operation from each replica's `GET /metrics`, added up.
pub async fn read_round_trips(client: &reqwest::Client, bases: &[String]) -> Option<Calls> {
    let mut all = Calls::default();
    // Every replica's calls, added up.
    for base in bases {
        let res = client.get(format!("{base}/metrics")).send().await.ok()?;
        for (op, n) in Calls::parse_metrics(&res.text().await.ok()?).0 {
            *all.0.entry(op).or_default() += n;
        }
    }
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_are_read_per_operation_from_geoffers_metrics() {
        let text = "# HELP geoffer_redis_call_duration_seconds Redis calls\n\
            geoffer_redis_call_duration_seconds_bucket{op=\"claim\",le=\"0.001\"} 3\n\
            geoffer_redis_call_duration_seconds_sum{op=\"claim\"} 0.5\n\
            geoffer_redis_call_duration_seconds_count{op=\"claim\"} 40\n\
            geoffer_redis_call_duration_seconds_count{op=\"consent_get\"} 1e2\n\
            geoffer_http_requests_total{route=\"/healthz\"} 9\n";
        let c = Calls::parse_metrics(text);
        assert_eq!(c.0.len(), 2, "{c:?}");
        assert_eq!(c.0.get("claim"), Some(&40));
        assert_eq!(c.0.get("consent_get"), Some(&100));
        let later = Calls::parse_metrics(
            "geoffer_redis_call_duration_seconds_count{op=\"claim\"} 60\n\
             geoffer_redis_call_duration_seconds_count{op=\"consent_get\"} 150\n\
             geoffer_redis_call_duration_seconds_count{op=\"habits_observe\"} 30\n",
        );
        assert_eq!(
            c.since(&later).per_request(50),
            "2.00 (claim 0.40, consent_get 1.00, habits_observe 0.60)"
        );
    }

    const INFO: &str = "# Commandstats\r\n\
        cmdstat_evalsha:calls=2010,usec=90000,usec_per_call=44.78,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_get:calls=1000,usec=800,usec_per_call=0.80,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_info:calls=7,usec=300,usec_per_call=42.86,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_broken:usec=1\r\n";

    #[test]
    fn commandstats_give_the_server_time_per_call_between_two_reads() {
        let before = Times::parse("cmdstat_evalsha:calls=10,usec=200,usec_per_call=20.00\r\n");
        let after = Times::parse(
            "# Commandstats\r\ncmdstat_evalsha:calls=110,usec=3200,usec_per_call=29.09\r\n\
             cmdstat_get:calls=5,usec=5,usec_per_call=1.00\r\n",
        );
        assert_eq!(before.per_call(&after, "evalsha"), (100, 30.0));
        assert_eq!(before.per_call(&after, "get"), (5, 1.0));
        assert_eq!(before.per_call(&after, "hset"), (0, 0.0));
    }

    #[test]
    fn commandstats_are_parsed_into_calls_per_command() {
        let c = Calls::parse(INFO);
        assert_eq!(c.0.get("evalsha"), Some(&2010));
        assert_eq!(c.0.get("get"), Some(&1000));
        assert_eq!(c.0.get("info"), Some(&7));
        assert!(!c.0.contains_key("broken"), "no calls field: skipped");
        assert!(Calls::parse("").0.is_empty());
    }

    #[test]
    fn a_phase_counts_the_calls_between_two_reads_without_info() {
        let before = Calls::parse("cmdstat_get:calls=10,usec=1\r\ncmdstat_info:calls=1,usec=1\r\n");
        let after = Calls::parse(INFO);
        let d = before.since(&after);
        assert_eq!(d.0.get("get"), Some(&990));
        assert_eq!(d.0.get("evalsha"), Some(&2010), "new since the first read");
        assert!(!d.0.contains_key("info"));
        assert_eq!(d.total(), 3000);
        assert_eq!(d.per_request(1000), "3.00 (evalsha 2.01, get 0.99)");
    }
}
