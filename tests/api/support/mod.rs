//! Support reads through HTTP (tenancy, explanations of every outcome, deliveries paging and
//! exports, timelines, the read log and trace retention), and the shared redis-server harness.

#[path = "../../store/pg.rs"]
pub mod postgres;
pub mod redis_cluster;
pub mod redis_server;

mod caps;
mod deliveries;
mod explain;
mod exports;
mod limiter_down;
mod tenancy;
mod timeline;
mod world;
