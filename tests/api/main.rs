//! All HTTP-level tests in one binary (one link step on a 2-core machine).

mod brands_and_keys;
mod checkins;
mod errors;
mod fences;
mod helpers;
mod offers;
mod operations;
mod support;
mod weather;
