//! All HTTP-level tests in one binary (one link step on a 2-core machine).

mod backtest;
mod brands_and_keys;
mod checkins;
mod contract;
mod device;
mod errors;
mod events;
mod faults;
mod fences;
mod helpers;
mod hostile;
mod layering;
mod offers;
mod operations;
mod plausibility;
mod replicas;
mod services;
mod simulate;
mod strict_caps;
mod support;
mod trial;
mod visits;
mod weather;
mod webhook_events;
mod webhook_rebinding;
mod webhooks;
