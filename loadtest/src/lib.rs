//! Shared pieces of geoffer's benchmarks and load generator: seeded worlds and latency reports.
#![forbid(unsafe_code)]

pub mod report;
