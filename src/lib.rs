//! geoffer decides, in milliseconds, whether a person should see an offer right now and which
//! one: place (geofences), weather and habit together, under strict rate limits.
#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod changes;
pub mod checkins;
pub mod cli;
pub mod clock;
pub mod console;
pub mod decisions;
pub mod demo;
pub mod domain;
pub mod drain;
pub mod error;
pub mod events;
pub mod fences;
pub mod habits;
pub mod limits;
pub mod metrics;
pub mod offers;
pub mod people;
pub mod redis_conns;
pub mod services;
pub mod settings;
pub mod simulate;
pub mod startup;
pub mod state;
pub mod store;
pub mod support;
pub mod telemetry;
pub mod weather;
pub mod webhooks;
