//! CPU time and resident memory of a process, from `/proc/<pid>/stat` and `/proc/<pid>/status`.

use crate::budget::ProcUse;
use std::time::Instant;

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// When it was read.
    pub at: Instant,
    /// utime + stime, clock ticks.
    pub cpu_ticks: u64,
    /// VmRSS, KiB.
    pub rss_kib: u64,
}

/// Clock ticks per second of `/proc`'s CPU times (`getconf CLK_TCK`; 100 on Linux when
/// `getconf` is missing).
pub fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Reads `pid` (`None` when the process is gone or /proc is not there).
pub fn sample(pid: u32) -> Option<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Sample {
        at: Instant::now(),
        cpu_ticks: cpu_ticks(&stat)?,
        rss_kib: rss_kib(&status)?,
    })
}

/// Reads `pid` and its children together (a PostgreSQL server: the postmaster and one
/// backend per connection), CPU and RSS added up. A child that exits between two samples
/// takes its CPU with it, so pooled (long-lived) connections measure best.
pub fn sample_tree(pid: u32) -> Option<Sample> {
    let mut total = sample(pid)?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        if parent(&stat) == Some(pid)
            && let Some(s) = sample(child)
        {
            total.cpu_ticks += s.cpu_ticks;
            total.rss_kib += s.rss_kib;
        }
    }
    Some(total)
}

/// The parent pid (field 4).
pub fn parent(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime (fields 14 and 15); the command name in field 2 may hold spaces, so count
/// from its closing parenthesis.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field n is at index n - 3.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// `VmRSS:` in KiB.
pub fn rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `name`'s CPU time and RSS between two of its samples.
pub fn between(name: &'static str, a: &Sample, b: &Sample, ticks_per_s: u64) -> ProcUse {
    ProcUse {
        name,
        cpu_secs: b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64 / ticks_per_s.max(1) as f64,
        wall_secs: b.at.duration_since(a.at).as_secs_f64(),
        rss_start_kib: a.rss_kib,
        rss_end_kib: b.rss_kib,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "42 (tokio (rt) x) S 1 42 42 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 3 0 1 2 3";
        assert_eq!(cpu_ticks(stat), Some(287));
        assert_eq!(parent(stat), Some(1));
    }

    #[test]
    fn rss_is_read_from_status() {
        assert_eq!(
            rss_kib("Name:\tx\nVmRSS:\t   12345 kB\nThreads: 2\n"),
            Some(12345)
        );
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = sample(std::process::id()).expect("/proc");
        assert!(s.rss_kib > 0);
    }
}
