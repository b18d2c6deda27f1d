//! The decision's working data: the fences the point is in, the offers weighed, who the
//! decision is for and the moment the rules read. Rule ids and outcomes are the trace's types.

use super::input::Checkin;
use super::rules::RuleOutcome;
use crate::catalog::FenceInfo;
use crate::decisions::DeliveryRecord;
pub use crate::decisions::trace::{Outcome, RuleId};
use crate::fences::index::FenceMatch;
use crate::habits::{HabitFeatures, Visit, VisitEvent};
use crate::limits::ClaimRequest;
use crate::offers::Offer;
use crate::people::{PersonId, Profile};
use crate::weather::WeatherLookup;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A fence the point is in, with what was learned about it.
pub(super) struct Matched {
    pub(super) hit: FenceMatch,
    pub(super) info: Arc<FenceInfo>,
    pub(super) local: DateTime<chrono_tz::Tz>,
    pub(super) quiet: bool,
    pub(super) fence_habit: Option<HabitFeatures>,
    pub(super) brand_habit: Option<HabitFeatures>,
}

/// One offer considered for this check-in.
pub(super) struct Candidate {
    pub(super) offer: Arc<Offer>,
    /// Index into the matched fences: the one the person is deepest in.
    pub(super) fence: usize,
    pub(super) rules: Vec<RuleOutcome>,
    pub(super) eligible: bool,
    pub(super) relevance: f64,
    pub(super) score: f64,
    pub(super) outcome: Outcome,
}

impl Candidate {
    /// An offer reached through fence `fence`, not yet evaluated.
    pub(super) fn new(offer: Arc<Offer>, fence: usize) -> Self {
        Self {
            offer,
            fence,
            rules: Vec::new(),
            eligible: false,
            relevance: 0.0,
            score: 0.0,
            outcome: Outcome::Ineligible,
        }
    }
}

/// Who a decision is for and when: the app, its user's pseudonym, the report, its
/// fingerprint, the decision time, the consent to personalization and the visit events.
#[derive(Clone, Copy)]
pub(super) struct Subject<'a> {
    pub(super) app: &'a str,
    pub(super) person: &'a PersonId,
    pub(super) c: &'a Checkin,
    pub(super) fingerprint: &'a str,
    pub(super) now: DateTime<Utc>,
    /// Whether the person allows personalization (visit webhooks need it).
    pub(super) personalization: bool,
    /// The visit events the report caused (empty before step 4).
    pub(super) events: &'a [VisitEvent],
}

/// What the rules, the copy and the claim read about the moment.
#[derive(Clone, Copy)]
pub(super) struct Scene<'a> {
    pub(super) matched: &'a [Matched],
    pub(super) profile: Option<&'a Profile>,
    pub(super) weather: &'a WeatherLookup,
    /// The person's visits (open, and closed within 2 hours), by fence: what triggers read.
    pub(super) visits: &'a BTreeMap<String, Visit>,
}

/// A granted offer: its delivery and, for a fresh grant (not a replay), the claim to give
/// back if the decision turns out not to be this report's.
pub(super) struct Granted {
    pub(super) delivery: DeliveryRecord,
    pub(super) fresh: Option<(ClaimRequest, DateTime<Utc>)>,
}
