//! What a simulation found, read from the decisions' typed records and traces (rule
//! outcomes, limiter answers), never from their sentences; and the targets of
//! docs/benchmarks.md checked against it.
//!
//! Long (about 530 lines, 30 of them tests) because every section of the report — offers per
//! person-week, per brand, signals, cap hits, the recount of deliveries per cap window, the
//! targets — is tallied and printed here from one pass over the records.

use crate::decisions::record::{DecisionRecord, unpack_trace};
use crate::decisions::trace::{LimiterAnswer, RuleId, Signal, Trace};
use crate::limits::{Caps, Window};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The whole report. Every map is ordered, so the same run prints the same bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `demo` (the fixtures' world).
    pub world: String,
    /// The seed.
    pub seed: u64,
    /// Simulated weeks.
    pub weeks: u32,
    /// The first Monday (local date of the city).
    pub start: NaiveDate,
    /// People simulated.
    pub people: usize,
    /// People who allowed personalization.
    pub personalized: usize,
    /// Settings the engine ran with.
    pub settings: SettingsSeen,
    /// Check-ins sent.
    pub checkins: u64,
    /// Check-ins that matched a fence (and so were recorded).
    pub checkins_in_fences: u64,
    /// Check-ins the engine refused with an error, by status (none expected).
    pub errors: BTreeMap<String, u64>,
    /// Recorded decisions by outcome and reason (`offer`, `none/quiet-hours`, …).
    pub decisions: BTreeMap<String, u64>,
    /// People with at least one check-in inside a fence, per week.
    pub active_people_per_week: Vec<u64>,
    /// Offers per active person per week, over every (active person, week).
    pub offers_per_active_person_week: Distribution,
    /// Offers delivered.
    pub offers: u64,
    /// Per brand: offers and people reached.
    pub by_brand: BTreeMap<String, BrandLine>,
    /// Per offer (`brand / name`): offers and the signals each had.
    pub by_offer: BTreeMap<String, OfferLine>,
    /// Per trigger (`enter`, `dwell`, `exit`: docs/visits.md), from the delivered offer's
    /// trigger rule in the trace; no trigger rule is `enter`.
    pub by_trigger: BTreeMap<String, u64>,
    /// Signals behind each offer: the place plus each of weather, habit, time, audience
    /// that the offer asked for and that held.
    pub signals: Signals,
    /// Claims refused by each cap (from the limiter's answers in the traces).
    pub cap_hits: BTreeMap<String, u64>,
    /// Deliveries beyond a cap found by recounting every person's deliveries in each cap's
    /// rolling window (must be all zero).
    pub over_cap: BTreeMap<String, u64>,
    /// The targets of docs/benchmarks.md, met or missed.
    pub targets: Vec<Target>,
}

/// Engine settings of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsSeen {
    /// Quiet hours (`HH:MM-HH:MM` or `off`).
    pub quiet_hours: String,
    /// The minimum relevance an offer needs.
    pub min_relevance: f64,
}

/// A distribution of counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// How many values.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: u64,
    /// 90th percentile.
    pub p90: u64,
    /// Maximum.
    pub max: u64,
    /// How many were 0, 1, 2, 3+.
    pub histogram: BTreeMap<String, u64>,
}

/// One brand's offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BrandLine {
    /// Offers delivered.
    pub offers: u64,
    /// Distinct people who got one.
    pub people: u64,
}

/// One offer's deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OfferLine {
    /// Offers delivered.
    pub offers: u64,
    /// Deliveries by signal count (place included).
    pub by_signals: BTreeMap<u8, u64>,
}

/// The signals behind the offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// Offers by signal count (place included).
    pub histogram: BTreeMap<u8, u64>,
    /// Offers each kind of signal backed (`place` is every one).
    pub by_kind: BTreeMap<String, u64>,
    /// Share of offers with at least 3 signals.
    pub share_3_plus: f64,
}

/// A target, measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// What is measured.
    pub name: String,
    /// The goal.
    pub goal: String,
    /// The value measured.
    pub value: String,
    /// Met?
    pub met: bool,
}

/// One delivery, for the cap recount.
struct Sent {
    person: usize,
    at: DateTime<Utc>,
    brand: String,
    offer: Uuid,
    fence: Uuid,
    signals: u8,
}

/// What the run has seen so far.
#[derive(Default)]
pub struct Tally {
    /// Check-ins sent.
    pub checkins: u64,
    /// Errors by status.
    pub errors: BTreeMap<String, u64>,
    records: u64,
    decisions: BTreeMap<String, u64>,
    /// (week, person) with a check-in in a fence.
    active: BTreeSet<(u32, usize)>,
    sent: Vec<Sent>,
    by_offer: BTreeMap<String, OfferLine>,
    by_kind: BTreeMap<String, u64>,
    by_trigger: BTreeMap<String, u64>,
    cap_hits: BTreeMap<String, u64>,
}

impl Tally {
    /// Counts one decision record of `person` in `week`.
    pub fn record(&mut self, r: &DecisionRecord, person: usize, week: u32) {
        self.records += 1;
        self.active.insert((week, person));
        let key = match &r.reason {
            Some(why) => format!("{}/{why}", r.decision),
            None => r.decision.to_string(),
        };
        *self.decisions.entry(key).or_default() += 1;
        let trace = Trace::read(&unpack_trace(&r.trace)).unwrap_or_default();
        for l in &trace.limiter {
            if let LimiterAnswer::Denied { denial } = &l.answer {
                *self.cap_hits.entry(denial.cap.to_string()).or_default() += 1;
            }
        }
        let Some(d) = &r.delivery else { return };
        let mut kinds = vec!["place"];
        let mut name = d.offer_id.to_string();
        let mut trigger = "enter";
        if let Some(c) = trace.candidates.iter().find(|c| c.offer_id == d.offer_id) {
            name = c.offer_name.to_string();
            for r in c.rules.iter() {
                match r.rule {
                    RuleId::TriggerDwell => trigger = "dwell",
                    RuleId::TriggerExit => trigger = "exit",
                    _ => {}
                }
            }
            for (signal, kind) in [
                (Signal::Weather, "weather"),
                (Signal::Habit, "habit"),
                (Signal::Schedule, "time"),
                (Signal::Audience, "audience"),
            ] {
                if c.rules
                    .iter()
                    .any(|x| x.passed && x.rule.signal() == Some(signal))
                {
                    kinds.push(kind);
                }
            }
        }
        *self.by_trigger.entry(trigger.into()).or_default() += 1;
        let signals = kinds.len() as u8;
        for k in kinds {
            *self.by_kind.entry(k.into()).or_default() += 1;
        }
        let line = self
            .by_offer
            .entry(format!("{} / {name}", d.brand))
            .or_default();
        line.offers += 1;
        *line.by_signals.entry(signals).or_default() += 1;
        self.sent.push(Sent {
            person,
            at: r.at,
            brand: d.brand.clone(),
            offer: d.offer_id,
            fence: d.fence_id,
            signals,
        });
    }

    /// The report of the run, with each offer's caps from `caps_of`.
    pub fn report(
        self,
        head: Head,
        weeks: u32,
        caps_of: impl Fn(&Uuid) -> Caps,
        default_caps: Caps,
    ) -> Report {
        let mut active_per_week = vec![0u64; weeks as usize];
        let mut per_pair: BTreeMap<(u32, usize), u64> = BTreeMap::new();
        for (w, p) in &self.active {
            active_per_week[*w as usize] += 1;
            per_pair.insert((*w, *p), 0);
        }
        let week_of = |at: DateTime<Utc>| -> u32 {
            let days = (at - head.start_utc).num_days().max(0);
            ((days / 7) as u32).min(weeks.saturating_sub(1))
        };
        let mut by_brand: BTreeMap<String, BrandLine> = BTreeMap::new();
        let mut reached: BTreeSet<(String, usize)> = BTreeSet::new();
        let mut histogram: BTreeMap<u8, u64> = BTreeMap::new();
        for s in &self.sent {
            *per_pair.entry((week_of(s.at), s.person)).or_default() += 1;
            let b = by_brand.entry(s.brand.clone()).or_default();
            b.offers += 1;
            if reached.insert((s.brand.clone(), s.person)) {
                b.people += 1;
            }
            *histogram.entry(s.signals).or_default() += 1;
        }
        let offers = self.sent.len() as u64;
        let three = self.sent.iter().filter(|s| s.signals >= 3).count() as f64;
        let share_3_plus = if offers == 0 {
            0.0
        } else {
            round3(three / offers as f64)
        };
        let dist = distribution(per_pair.values().copied().collect());
        let over_cap = recount(&self.sent, &caps_of, default_caps);
        let over: u64 = over_cap.values().sum();
        let targets = vec![
            Target {
                name: "median offers per active person per week".into(),
                goal: "≤ 1".into(),
                value: dist.median.to_string(),
                met: dist.median <= 1,
            },
            Target {
                name: "people over a cap".into(),
                goal: "none".into(),
                value: over.to_string(),
                met: over == 0,
            },
            Target {
                name: "offers backed by ≥ 3 signals".into(),
                goal: "≥ 80%".into(),
                value: format!("{:.1}%", share_3_plus * 100.0),
                met: share_3_plus >= 0.8,
            },
        ];
        Report {
            world: head.world,
            seed: head.seed,
            weeks,
            start: head.start,
            people: head.people,
            personalized: head.personalized,
            settings: head.settings,
            checkins: self.checkins,
            checkins_in_fences: self.records,
            errors: self.errors,
            decisions: self.decisions,
            active_people_per_week: active_per_week,
            offers_per_active_person_week: dist,
            offers,
            by_brand,
            by_offer: self.by_offer,
            by_trigger: self.by_trigger,
            signals: Signals {
                histogram,
                by_kind: self.by_kind,
                share_3_plus,
            },
            cap_hits: self.cap_hits,
            over_cap,
            targets,
        }
    }
}

/// The run's description, for the report's head.
pub struct Head {
    /// World name.
    pub world: String,
    /// Seed.
    pub seed: u64,
    /// First Monday, local.
    pub start: NaiveDate,
    /// Its midnight, UTC.
    pub start_utc: DateTime<Utc>,
    /// People.
    pub people: usize,
    /// With personalization.
    pub personalized: usize,
    /// Engine settings.
    pub settings: SettingsSeen,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn distribution(mut v: Vec<u64>) -> Distribution {
    v.sort_unstable();
    let n = v.len() as u64;
    let at = |q: f64| -> u64 {
        if v.is_empty() {
            return 0;
        }
        let i = ((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1);
        v[i]
    };
    let mut histogram = BTreeMap::new();
    for k in ["0", "1", "2", "3+"] {
        histogram.insert(k.to_string(), 0);
    }
    for x in &v {
        let k = match x {
            0 => "0",
            1 => "1",
            2 => "2",
            _ => "3+",
        };
        *histogram.entry(k.to_string()).or_default() += 1;
    }
    Distribution {
        n,
        mean: if n == 0 {
            0.0
        } else {
            round3(v.iter().sum::<u64>() as f64 / n as f64)
        },
        median: at(0.5),
        p90: at(0.9),
        max: v.last().copied().unwrap_or(0),
        histogram,
    }
}

/// A cap's name, window, and which earlier deliveries share its key with this one.
type CapCheck<'a> = (&'static str, Window, &'a dyn Fn(&Sent) -> bool);

/// Deliveries beyond each cap, recounted from the deliveries alone: for every delivery, the
/// deliveries of the same person (and brand, offer or fence) in the cap's rolling window
/// ending at it must be within the cap's count.
fn recount(
    sent: &[Sent],
    caps_of: &impl Fn(&Uuid) -> Caps,
    default: Caps,
) -> BTreeMap<String, u64> {
    let mut by_person: BTreeMap<usize, Vec<&Sent>> = BTreeMap::new();
    for s in sent {
        by_person.entry(s.person).or_default().push(s);
    }
    let mut over: BTreeMap<String, u64> = [
        "person-day",
        "person-week",
        "person-brand",
        "person-offer",
        "person-fence",
    ]
    .into_iter()
    .map(|c| (c.to_string(), 0))
    .collect();
    for list in by_person.values() {
        for (i, s) in list.iter().enumerate() {
            let offer_caps = caps_of(&s.offer);
            let checks: [CapCheck; 5] = [
                ("person-day", default.person_day, &|_| true),
                ("person-week", default.person_week, &|_| true),
                ("person-brand", default.person_brand, &|o| {
                    o.brand == s.brand
                }),
                ("person-offer", offer_caps.person_offer, &|o| {
                    o.offer == s.offer
                }),
                ("person-fence", default.person_fence, &|o| {
                    o.fence == s.fence
                }),
            ];
            for (name, w, same) in checks {
                if w.period.is_zero() {
                    continue;
                }
                let period = chrono::Duration::from_std(w.period).unwrap_or(chrono::Duration::MAX);
                let inside = list[..=i]
                    .iter()
                    .filter(|o| s.at - o.at < period && same(o))
                    .count();
                if inside > w.count as usize {
                    *over.entry(name.into()).or_default() += 1;
                }
            }
        }
    }
    over
}

impl Report {
    /// The report for people.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "geoffer simulate: {} world, {} people ({} with personalization), {} weeks from {}, seed {}",
            self.world, self.people, self.personalized, self.weeks, self.start, self.seed
        );
        let _ = writeln!(
            s,
            "engine: quiet hours {}, min relevance {}; weather: seeded seasonal\n",
            self.settings.quiet_hours, self.settings.min_relevance
        );
        let _ = writeln!(
            s,
            "check-ins {}, inside a fence {}, errors {:?}",
            self.checkins, self.checkins_in_fences, self.errors
        );
        let _ = writeln!(s, "decisions (recorded):");
        for (k, v) in &self.decisions {
            let _ = writeln!(s, "  {k:<32} {v:>8}");
        }
        let _ = writeln!(
            s,
            "active people per week: {:?}",
            self.active_people_per_week
        );
        let d = &self.offers_per_active_person_week;
        let _ = writeln!(
            s,
            "offers per active person per week: median {}, p90 {}, max {}, mean {} over {} person-weeks; 0/1/2/3+: {}/{}/{}/{}",
            d.median,
            d.p90,
            d.max,
            d.mean,
            d.n,
            d.histogram["0"],
            d.histogram["1"],
            d.histogram["2"],
            d.histogram["3+"]
        );
        let _ = writeln!(s, "\noffers: {}", self.offers);
        let _ = writeln!(s, "per brand (offers, people):");
        for (k, v) in &self.by_brand {
            let _ = writeln!(s, "  {k:<32} {:>8} {:>8}", v.offers, v.people);
        }
        let _ = writeln!(s, "per offer (offers; by signal count):");
        for (k, v) in &self.by_offer {
            let _ = writeln!(s, "  {k:<48} {:>6}  {:?}", v.offers, v.by_signals);
        }
        let _ = writeln!(s, "per trigger: {:?}", self.by_trigger);
        let _ = writeln!(
            s,
            "signals per offer (place included): {:?}; by kind {:?}; ≥ 3: {:.1}%",
            self.signals.histogram,
            self.signals.by_kind,
            self.signals.share_3_plus * 100.0
        );
        let _ = writeln!(s, "cap hits (claims refused): {:?}", self.cap_hits);
        let _ = writeln!(s, "deliveries over a cap (recount): {:?}\n", self.over_cap);
        let _ = writeln!(s, "targets (docs/benchmarks.md):");
        for t in &self.targets {
            let _ = writeln!(
                s,
                "  {} {}: {} (goal {})",
                if t.met { "MET   " } else { "MISSED" },
                t.name,
                t.value,
                t.goal
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distribution_of_weekly_counts_has_its_median_p90_and_buckets() {
        let d = distribution(vec![0, 0, 0, 1, 1, 2, 0, 0, 0, 5]);
        assert_eq!((d.median, d.p90, d.max), (0, 2, 5));
        assert_eq!(d.histogram["0"], 6);
        assert_eq!(d.histogram["3+"], 1);
    }

    #[test]
    fn the_recount_finds_a_second_delivery_inside_a_day() {
        let t = Utc::now();
        let one = |h: i64, fence: u128| Sent {
            person: 1,
            at: t + chrono::Duration::hours(h),
            brand: "b".into(),
            offer: Uuid::from_u128(fence),
            fence: Uuid::from_u128(fence),
            signals: 1,
        };
        let caps = Caps::default();
        let over = recount(&[one(0, 1), one(30, 2)], &|_| caps, caps);
        assert_eq!(over.values().sum::<u64>(), 1, "{over:?}"); // the same brand in 7 days
        let over = recount(&[one(0, 1), one(2, 2)], &|_| caps, caps);
        assert_eq!(over["person-day"], 1);
    }
}
