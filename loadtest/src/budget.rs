//! CPU per request of each process in a phase, and what that means for the closed-loop
//! target (check-ins at a share of the HTTP ceiling): client, server and Redis share the
//! machine's cores, so the CPU every other process spends on a check-in caps the check-in
//! rate whatever geoffer does.

use std::fmt;

/// One process over one phase: CPU time used and resident memory at both ends.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcUse {
    /// `geoffer`, `redis` or `loadgen`.
    pub name: &'static str,
    /// utime + stime over the phase, seconds.
    pub cpu_secs: f64,
    /// Wall-clock length of the phase, seconds.
    pub wall_secs: f64,
    /// VmRSS at the start, KiB.
    pub rss_start_kib: u64,
    /// VmRSS at the end, KiB.
    pub rss_end_kib: u64,
}

impl ProcUse {
    /// Average CPU use in percent of one core.
    pub fn percent(&self) -> f64 {
        if self.wall_secs <= 0.0 {
            return 0.0;
        }
        self.cpu_secs / self.wall_secs * 100.0
    }

    /// CPU microseconds per request, for `requests` requests in the phase.
    pub fn us_per(&self, requests: u64) -> f64 {
        self.cpu_secs * 1e6 / requests.max(1) as f64
    }
}

/// The processes of one phase (`n/a` for one that could not be read).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage(pub Vec<Result<ProcUse, &'static str>>);

impl Usage {
    /// Processes of the same name as one (replicas, a cluster's nodes): CPU and memory
    /// added up. One that could not be read makes the whole group `n/a`.
    pub fn merged(self) -> Self {
        let mut out: Vec<Result<ProcUse, &'static str>> = Vec::new();
        for p in self.0 {
            let name = match &p {
                Ok(p) => p.name,
                Err(n) => n,
            };
            let same = out.iter_mut().find(|q| match q {
                Ok(q) => q.name == name,
                Err(n) => *n == name,
            });
            match (same, p) {
                (None, p) => out.push(p),
                (Some(Ok(q)), Ok(p)) => {
                    q.cpu_secs += p.cpu_secs;
                    q.rss_start_kib += p.rss_start_kib;
                    q.rss_end_kib += p.rss_end_kib;
                }
                (Some(q), _) => *q = Err(name),
            }
        }
        Self(out)
    }

    /// The process named `name`, when it was read.
    pub fn get(&self, name: &str) -> Option<&ProcUse> {
        self.0.iter().flatten().find(|p| p.name == name)
    }
}

impl fmt::Display for Usage {
    /// `name CPU% (RSS start→end MiB)` per process.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match p {
                Ok(p) => write!(
                    f,
                    "{} {:.0}% ({:.0}→{:.0} MiB)",
                    p.name,
                    p.percent(),
                    p.rss_start_kib as f64 / 1024.0,
                    p.rss_end_kib as f64 / 1024.0
                )?,
                Err(name) => write!(f, "{name} n/a")?,
            }
        }
        Ok(())
    }
}

/// What the closed loop's CPU per check-in says about a target share of the HTTP ceiling.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// Check-ins per second the target asks for (`share` of the ceiling).
    pub target_rate: f64,
    /// CPU microseconds per check-in the cores allow at that rate, for every process together.
    pub budget_us: f64,
    /// CPU microseconds per check-in spent by the processes other than the server.
    pub others_us: f64,
    /// The check-in rate if the server cost nothing: the cores divided by `others_us`.
    pub free_server_rate: f64,
    /// `free_server_rate` as a share of the ceiling (1.0 = 100 %).
    pub free_server_share: f64,
}

/// The bound for `cores` cores, a measured `ceiling` (requests/s), a target `share` of it,
/// and `others_us`: what the other processes spend per check-in.
pub fn bound(cores: f64, ceiling: f64, share: f64, others_us: f64) -> Bound {
    let target_rate = ceiling * share;
    let cpu_us_per_s = cores * 1e6;
    let free_server_rate = if others_us > 0.0 {
        cpu_us_per_s / others_us
    } else {
        f64::INFINITY
    };
    Bound {
        target_rate,
        budget_us: cpu_us_per_s / target_rate.max(f64::MIN_POSITIVE),
        others_us,
        free_server_rate,
        free_server_share: free_server_rate / ceiling.max(f64::MIN_POSITIVE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(name: &'static str, cpu_secs: f64) -> ProcUse {
        ProcUse {
            name,
            cpu_secs,
            wall_secs: 10.0,
            rss_start_kib: 1024,
            rss_end_kib: 2048,
        }
    }

    #[test]
    fn replicas_of_one_name_add_up_and_one_unread_makes_the_group_unknown() {
        let u = Usage(vec![
            Ok(proc("geoffer", 2.0)),
            Ok(proc("redis", 1.0)),
            Ok(proc("geoffer", 3.0)),
        ])
        .merged();
        assert_eq!(u.0.len(), 2);
        assert_eq!(u.get("geoffer").map(|p| p.cpu_secs), Some(5.0));
        let u = Usage(vec![Ok(proc("redis", 1.0)), Err("redis")]).merged();
        assert_eq!(u.0, vec![Err("redis")]);
    }

    #[test]
    fn cpu_is_reported_per_core_and_per_request() {
        let p = proc("redis", 2.5);
        assert_eq!(p.percent(), 25.0);
        assert_eq!(p.us_per(50_000), 50.0);
        assert_eq!(
            p.us_per(0),
            2.5e6,
            "no requests counts as one, not a division by zero"
        );
    }

    #[test]
    fn usage_prints_each_process_and_marks_the_unreadable() {
        let u = Usage(vec![Ok(proc("geoffer", 12.6)), Err("redis")]);
        assert_eq!(u.to_string(), "geoffer 126% (1→2 MiB), redis n/a");
        assert_eq!(u.get("geoffer").map(|p| p.cpu_secs), Some(12.6));
        assert!(u.get("redis").is_none());
    }

    #[test]
    fn the_bound_is_the_cores_divided_by_what_the_others_spend() {
        // 2 cores, a 72,800/s ceiling, target 50 %: 36,400 check-ins/s leave 54.9 µs each.
        // If Redis and the client spend 94 µs per check-in, a server that cost nothing
        // would reach 21,277/s: 29.2 % of the ceiling.
        let b = bound(2.0, 72_800.0, 0.5, 94.0);
        assert_eq!(b.target_rate, 36_400.0);
        assert!((b.budget_us - 54.945).abs() < 0.01, "{b:?}");
        assert!((b.free_server_rate - 21_276.6).abs() < 0.1, "{b:?}");
        assert!((b.free_server_share - 0.29226).abs() < 0.0001, "{b:?}");
    }

    #[test]
    fn others_that_cost_nothing_leave_the_rate_unbounded() {
        assert!(bound(2.0, 1000.0, 0.5, 0.0).free_server_rate.is_infinite());
    }
}
