//! Support reads through HTTP: tenancy, explanations of every outcome, deliveries paging and
//! exports, timelines, the read log and trace retention.

mod caps;
mod deliveries;
mod explain;
mod exports;
mod limiter_down;
mod tenancy;
mod timeline;
mod world;
