//! Shared pieces of geoffer's benchmarks and load generator: seeded worlds, simulated people,
//! the load loops, the cap checker, latency reports and
//! CPU per request.
#![forbid(unsafe_code)]

pub mod budget;
pub mod caps;
pub mod driver;
pub mod people;
pub mod procstat;
pub mod redisstats;
pub mod report;
pub mod sdk;
pub mod setup;
pub mod world;

/// The number after the flag `name` on the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
