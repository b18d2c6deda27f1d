//! Hot-state conformance: the rate limiter, habits and the consent gate each have a Redis
//! backend and an in-process twin, and every suite here runs the same bodies over both, so
//! a deployment without Redis keeps the semantics of one with it. The Redis suites run on a
//! single server and again on a three-master Redis Cluster.

mod gate;
mod habits;
mod leave;
mod limits;
mod visits;

/// A throw-away redis-server, shared with the HTTP tests.
#[path = "../api/support/redis_server.rs"]
pub mod redis_server;

/// A throw-away three-master Redis Cluster, shared with the HTTP tests.
#[path = "../api/support/redis_cluster.rs"]
pub mod redis_cluster;

/// Test servers, where the suites (written beside the HTTP tests) look for them.
mod support {
    pub use super::{redis_cluster, redis_server};
}
