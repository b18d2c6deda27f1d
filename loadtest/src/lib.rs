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
