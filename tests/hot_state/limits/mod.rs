//! Conformance suite for `geoffer::limits`: every body runs against both limiters.
//!
//! Each file declares `async fn name(h: Harness)` bodies and lists them in
//! `conformance!`, which makes one `#[tokio::test]` per implementation
//! (`…::in_process::name` and `…::redis::name`).

#[macro_use]
mod harness;

mod budget;
mod caps;
mod concurrency;
mod cooldown;
mod forget;
mod idempotency;
mod redis_only;
mod windows;
