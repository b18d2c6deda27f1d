//! Support: the decision trail read back for the people who answer "why did this person get
//! this offer?" and "why did they not?". Deliveries, explained decisions, a person's timeline,
//! exports, the log of these reads, and how long decision traces are kept.

pub mod deliveries;
pub mod explain;
pub mod export;
pub mod reads;
pub mod retention;
pub mod scope;
pub mod timeline;

mod candidates;
mod text;
mod verdict;

pub use deliveries::{Delivery, DeliveryFilter, DeliveryKey};
pub use explain::{CandidateView, Explained, Names, OfferLabel, explain};
pub use reads::{ReadEntry, ReadQuery, ReadRecord};
pub use scope::Scope;
pub use timeline::{TimelineEntry, TimelineKey, TimelineQuery, TimelineRow};
