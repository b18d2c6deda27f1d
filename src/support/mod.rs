//! Support: the decision trail read back for the people who answer "why did this person get
//! this offer?" and "why did they not?". Deliveries, explained decisions, a person's timeline,
//! exports, the log of these reads, and how long decision traces are kept.

pub mod explain;
pub mod export;
pub mod scope;
pub mod timeline;

mod candidates;
mod text;
mod verdict;

pub use crate::audit::reads::{self, ReadEntry, ReadQuery, ReadRecord};
pub use crate::decisions::deliveries::{self, Delivery, DeliveryFilter, DeliveryKey};
pub use explain::{CandidateView, Explained, Names, OfferLabel, explain};
pub use scope::Scope;
pub use timeline::{TimelineEntry, TimelineKey, TimelineQuery, TimelineRow};
