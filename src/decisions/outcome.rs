//! What a decision found about each rule and each candidate offer, as types: the rule ids, a
//! rule's verdict, and a candidate's outcome. Support matches on these; the sentences people
//! read are produced from them ([`Outcome`]'s `Display`), never parsed back — except once,
//! in [`Outcome::from_legacy`], for traces recorded before outcomes were typed.

pub use super::fact::Fact;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A number as people write it: `18`, `31.4`, `0.25` (no trailing `.0`, at most two decimals).
pub fn plain_number(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// A targeting rule, named as in traces and docs/decisions.md (`weather.min_temp_c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum RuleId {
    #[serde(rename = "status")]
    Status,
    #[serde(rename = "valid_from")]
    ValidFrom,
    #[serde(rename = "valid_until")]
    ValidUntil,
    #[serde(rename = "motion.activity")]
    MotionActivity,
    #[serde(rename = "motion.max_speed_mps")]
    MotionMaxSpeed,
    #[serde(rename = "schedule.days")]
    ScheduleDays,
    #[serde(rename = "schedule.hours")]
    ScheduleHours,
    #[serde(rename = "weather.known")]
    WeatherKnown,
    #[serde(rename = "weather.min_temp_c")]
    WeatherMinTemp,
    #[serde(rename = "weather.max_temp_c")]
    WeatherMaxTemp,
    #[serde(rename = "weather.conditions")]
    WeatherConditions,
    #[serde(rename = "habit.personalization")]
    HabitPersonalization,
    #[serde(rename = "habit.min_visits_per_week")]
    HabitMinVisitsPerWeek,
    #[serde(rename = "habit.min_days_since_visit")]
    HabitMinDaysSinceVisit,
    #[serde(rename = "habit.min_dwell_s")]
    HabitMinDwell,
    #[serde(rename = "audience.personalization")]
    AudiencePersonalization,
    #[serde(rename = "audience.follows_brand")]
    AudienceFollowsBrand,
    #[serde(rename = "audience.interests_any")]
    AudienceInterestsAny,
    #[serde(rename = "exclude.purchases")]
    ExcludePurchases,
    #[serde(rename = "retargeting.recent_purchase")]
    RetargetingRecentPurchase,
    #[serde(rename = "trigger.dwell")]
    TriggerDwell,
    #[serde(rename = "trigger.exit")]
    TriggerExit,
    /// A rule this version does not know (a trace from a later one).
    #[serde(other, rename = "other")]
    Other,
}

/// The kinds of signal scoring counts once each (docs/decisions.md, "Scoring").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Signal {
    Weather,
    Habit,
    Audience,
    Schedule,
    Exclude,
}

impl RuleId {
    /// The kind of signal a passing rule of this id is, if scoring counts it.
    pub fn signal(self) -> Option<Signal> {
        use RuleId::*;
        match self {
            WeatherKnown | WeatherMinTemp | WeatherMaxTemp | WeatherConditions => {
                Some(Signal::Weather)
            }
            HabitPersonalization
            | HabitMinVisitsPerWeek
            | HabitMinDaysSinceVisit
            | HabitMinDwell => Some(Signal::Habit),
            AudiencePersonalization | AudienceFollowsBrand | AudienceInterestsAny => {
                Some(Signal::Audience)
            }
            ScheduleDays | ScheduleHours => Some(Signal::Schedule),
            ExcludePurchases => Some(Signal::Exclude),
            _ => None,
        }
    }

    /// Does failing this rule mean "moving too fast"?
    pub fn is_motion(self) -> bool {
        matches!(self, RuleId::MotionActivity | RuleId::MotionMaxSpeed)
    }
}

/// One rule's verdict, with the actual and the expected value and a sentence for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// Which rule.
    pub rule: RuleId,
    /// Did it pass?
    pub passed: bool,
    /// What the offer asks for.
    #[serde(default)]
    pub expected: Fact,
    /// What the moment had.
    #[serde(default)]
    pub actual: Fact,
    /// Human-readable explanation ("weather: needs ≥ 28 °C, was 18 °C"), for display only.
    #[serde(default)]
    pub text: String,
}

/// What became of one candidate offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Outcome {
    /// Every rule passed; the limiter was not asked about it (another one won or ended it).
    Eligible,
    /// At least one rule failed (the rules say which).
    Ineligible,
    /// Every rule passed but the offer matched too little of the moment.
    BelowRelevance {
        /// Its relevance.
        relevance: f64,
        /// The deployment's minimum.
        min: f64,
    },
    /// The best offer, and the person is in its control group.
    HeldOut {
        /// The offer's holdout percentage.
        pct: f64,
    },
    /// Its copy could not be rendered within its bounds, so it was never claimed.
    Skipped {
        /// Why the copy failed.
        reason: String,
    },
    /// The limiter granted it and it went out.
    Delivered {
        /// The grant was the replay of an earlier attempt's claim.
        replayed: bool,
    },
    /// A cap refused it (the limiter entry has the denial).
    Capped {
        /// The cap's name (`person-day`).
        cap: String,
    },
    /// The limiter could not be asked; nothing was sent (fail closed).
    LimiterUnavailable,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Eligible => f.write_str("eligible"),
            Self::Ineligible => f.write_str("not eligible"),
            Self::BelowRelevance { relevance, min } => {
                write!(f, "relevance {relevance:.2} below the minimum {min:.2}")
            }
            Self::HeldOut { pct } => write!(f, "held out ({pct}% holdout)"),
            Self::Skipped { reason } => {
                write!(f, "skipped: its copy cannot be rendered ({reason})")
            }
            Self::Delivered { replayed: false } => f.write_str("delivered"),
            Self::Delivered { replayed: true } => f.write_str("delivered (replayed claim)"),
            Self::Capped { cap } => write!(f, "denied by cap {cap}"),
            Self::LimiterUnavailable => f.write_str("limiter unavailable"),
        }
    }
}

impl Outcome {
    /// The outcome of a candidate in a trace recorded before outcomes were typed, from the
    /// sentence that version wrote (the [`Display`](fmt::Display) forms above). Anything
    /// unrecognised is read as eligible or not, as the trace's `eligible` flag says.
    pub fn from_legacy(sentence: &str, eligible: bool) -> Self {
        let between = |s: &str, open: &str, close: &str| -> Option<String> {
            let rest = s.strip_prefix(open)?;
            Some(rest.strip_suffix(close).unwrap_or(rest).to_string())
        };
        if let Some(r) = sentence.strip_prefix("relevance ") {
            let mut nums = r
                .split(' ')
                .filter_map(|w| w.parse::<f64>().ok())
                .chain(std::iter::repeat(0.0));
            let (relevance, min) = (nums.next().unwrap_or(0.0), nums.next().unwrap_or(0.0));
            return Self::BelowRelevance { relevance, min };
        }
        if let Some(pct) = between(sentence, "held out (", "% holdout)") {
            return Self::HeldOut {
                pct: pct.parse().unwrap_or(0.0),
            };
        }
        if let Some(reason) = between(sentence, "skipped: its copy cannot be rendered (", ")") {
            return Self::Skipped { reason };
        }
        if let Some(cap) = sentence.strip_prefix("denied by cap ") {
            return Self::Capped {
                cap: cap.to_string(),
            };
        }
        match sentence {
            "delivered" => Self::Delivered { replayed: false },
            "delivered (replayed claim)" => Self::Delivered { replayed: true },
            "limiter unavailable" => Self::LimiterUnavailable,
            _ if eligible => Self::Eligible,
            _ => Self::Ineligible,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_from_the_sentence_older_traces_recorded() {
        for o in [
            Outcome::Eligible,
            Outcome::Ineligible,
            Outcome::BelowRelevance {
                relevance: 1.25,
                min: 1.5,
            },
            Outcome::HeldOut { pct: 12.5 },
            Outcome::Skipped {
                reason: "title: too long (90 > 60)".into(),
            },
            Outcome::Delivered { replayed: false },
            Outcome::Delivered { replayed: true },
            Outcome::Capped {
                cap: "person-day".into(),
            },
            Outcome::LimiterUnavailable,
        ] {
            let eligible = !matches!(o, Outcome::Ineligible | Outcome::BelowRelevance { .. });
            assert_eq!(Outcome::from_legacy(&o.to_string(), eligible), o, "{o}");
        }
    }

    #[test]
    fn rule_ids_keep_their_dotted_names() {
        let id: RuleId = serde_json::from_str("\"weather.min_temp_c\"").unwrap();
        assert_eq!(id, RuleId::WeatherMinTemp);
        assert_eq!(id.signal(), Some(Signal::Weather));
        assert_eq!(
            serde_json::to_string(&RuleId::MotionMaxSpeed).unwrap(),
            "\"motion.max_speed_mps\""
        );
        let unknown: RuleId = serde_json::from_str("\"moon.phase\"").unwrap();
        assert_eq!(unknown, RuleId::Other);
    }
}
