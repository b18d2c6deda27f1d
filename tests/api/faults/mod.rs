//! Fault runs (issue 14): a healthy Redis under a burst, Redis down, a full disk, the weather
//! upstream recovering (in weather.rs), and SIGTERM with requests in flight.

mod redis_burst;
