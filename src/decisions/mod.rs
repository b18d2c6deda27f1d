//! What decisions leave behind, as records: the decision and its delivery, the timeline rows
//! and delivery views read back, offer labels, and the
//! trace of each decision (`trace.rs`), typed both ways. Plain data: the store persists these types
//! and the layers above build and read them, so this module imports nothing above `domain`.

pub mod deliveries;
mod fact;
mod outcome;
pub mod plausibility;
pub mod record;
pub mod replay;
pub mod timeline;
pub mod trace;

use std::collections::HashMap;

pub use deliveries::{Delivery, DeliveryFilter, DeliveryKey};
pub use record::{DecisionRecord, DeliveryRecord, Prior, StoredDecision, VisitHook};
pub use timeline::{TimelineKey, TimelineQuery, TimelineRow};

/// An offer's brand and name, for offers a trace names only by id (cap holders).
#[derive(Debug, Clone, PartialEq)]
pub struct OfferLabel {
    /// The offer's brand.
    pub brand: String,
    /// The offer's name.
    pub name: String,
}

/// Offer labels by offer id.
pub type Labels = HashMap<String, OfferLabel>;
