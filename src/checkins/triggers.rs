//! Triggers (docs/visits.md): an offer's `dwell` or `exit` trigger as a rule, and the visit
//! facts it reads, taken from the person's visit state that step 4 returned.

use super::rules::{Fact, Moment, RuleId, RuleOutcome, outcome};
use crate::catalog::FenceInfo;
use crate::habits::Visit;
use crate::offers::{Offer, Trigger};
use std::collections::BTreeMap;

/// What the triggers read about the person's visits (docs/visits.md).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VisitFacts {
    /// How long the open visit to the offer's fence has lasted (ms); none when not open.
    pub open_ms: Option<i64>,
    /// How long ago the person last left a fence the offer targets (ms); none within 2 hours.
    pub since_exit_ms: Option<i64>,
}

/// Dwell and exit triggers: the offer fires only at that point of a visit. `enter` (the
/// default) fires at any check-in inside, as every offer did before triggers, so it sets no
/// rule.
pub(super) fn trigger(t: Trigger, m: &Moment, out: &mut Vec<RuleOutcome>) {
    let minutes = |ms: i64| ms / 60_000;
    match t {
        Trigger::Enter => {}
        Trigger::Dwell { min_minutes } => {
            let ok = m
                .visit
                .open_ms
                .is_some_and(|d| d >= i64::from(min_minutes) * 60_000);
            let had = m.visit.open_ms.map_or("no open visit".to_string(), |d| {
                format!("{} min", minutes(d))
            });
            out.push(outcome(
                RuleId::TriggerDwell,
                ok,
                Fact::from(min_minutes),
                m.visit
                    .open_ms
                    .map_or(Fact::None, |d| Fact::Int(minutes(d))),
                format!("trigger: dwell needs ≥ {min_minutes} min in this fence, had {had}"),
            ));
        }
        Trigger::Exit { within_minutes } => {
            let ok = m
                .visit
                .since_exit_ms
                .is_some_and(|d| d <= i64::from(within_minutes) * 60_000);
            let had = m.visit.since_exit_ms.map_or(
                "no exit from a targeted fence in the last 2 hours".to_string(),
                |d| format!("left {} min ago", minutes(d)),
            );
            out.push(outcome(
                RuleId::TriggerExit,
                ok,
                Fact::from(within_minutes),
                m.visit
                    .since_exit_ms
                    .map_or(Fact::None, |d| Fact::Int(minutes(d))),
                format!(
                    "trigger: exit needs a targeted fence left ≤ {within_minutes} min ago, {had}"
                ),
            ));
        }
    }
}

/// Whether `offer` targets fence `f` (by id or tag; no fence block: all its brand's fences).
pub(super) fn targets(offer: &Offer, f: &FenceInfo) -> bool {
    f.brand == offer.brand
        && match &offer.spec.targeting.fences {
            None => true,
            Some(t) => t.ids.contains(&f.id) || t.tags.iter().any(|tag| f.tags.contains(tag)),
        }
}

/// The visit facts for `offer` reached through fence `at_fence`, at report time `at_ms`:
/// how long the visit there has been open, and how long ago the person left a fence the
/// offer targets (`fence` looks a fence up by id).
pub(super) fn visit_facts(
    offer: &Offer,
    at_fence: &str,
    visits: &BTreeMap<String, Visit>,
    at_ms: i64,
    fence: impl Fn(&str) -> Option<std::sync::Arc<FenceInfo>>,
) -> VisitFacts {
    let open_ms = visits
        .get(at_fence)
        .filter(|v| v.exit_ms.is_none())
        .map(|v| (at_ms - v.enter_ms).max(0));
    let since_exit_ms = if matches!(offer.spec.targeting.trigger, Some(Trigger::Exit { .. })) {
        visits
            .iter()
            .filter(|(_, v)| v.brand == offer.brand.as_str())
            .filter_map(|(id, v)| Some((fence(id)?, v.exit_ms?)))
            .filter(|(f, _)| targets(offer, f))
            .map(|(_, exit)| (at_ms - exit).max(0))
            .min()
    } else {
        None
    };
    VisitFacts {
        open_ms,
        since_exit_ms,
    }
}
