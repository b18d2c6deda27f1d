//! The backtest: an offer (new, or an edit of a live one) replayed on a brand's recorded
//! decisions of a past period, through the same rules, scoring and caps as live decisions,
//! caps on a virtual limiter advanced in time order with every brand's live deliveries
//! (docs/backtest.md).
//!
//! Long (about 630 lines) because it is one use case whose parts are read together: the
//! request and answer documents with their field notes, the period's checks, and the tally
//! that turns replayed moments into the answer. The replay itself is `checkins/replay.rs`.
//!
//! Reads only what is retained: decisions whose trace is still kept (an erased person's
//! decisions are gone, so they are absent) and deliveries. It streams both from the store a
//! page at a time in the request's own future — a client that disconnects drops it, and the
//! work stops at the next page — and stops at [`MAX_REPLAYED`] decisions, saying so.
//!
//! About 440 lines: the request with its checks, the streaming loop and the tally that
//! becomes the answer (with its sentence) are one use case with one caller; the replay of a
//! moment itself is `checkins::replay`.

use super::catalog::offer_problems;
use super::grant;
use crate::catalog::Catalog;
use crate::checkins::EngineConfig;
use crate::checkins::replay::{ReplayParts, Replayed, Replayer};
use crate::clock::Clock;
use crate::decisions::replay::{LiveDeliveryQuery, MomentQuery};
use crate::decisions::trace::{Outcome, RuleId};
use crate::domain::BrandId;
use crate::error::{ApiError, FieldError};
use crate::offers::{Offer, OfferSpec};
use crate::store::Store;
use crate::weather::WeatherLog;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// Most recorded decisions one backtest replays; past it the answer is `truncated`.
pub const MAX_REPLAYED: u64 = 1_000_000;
/// Rows read from the store per page.
const PAGE: u32 = 1_000;

/// What to backtest.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestInput {
    /// The offer to test, in the shape of offer creation.
    pub offer: OfferSpec,
    /// The live offer of this brand it edits: the tested offer takes its place (and its
    /// history: caps and budget it already used). Absent: a new offer beside the live ones.
    #[serde(default)]
    pub offer_id: Option<Uuid>,
    /// Start of the period (inclusive), within trace retention.
    pub from: DateTime<Utc>,
    /// End of the period (exclusive), after `from`; at most the retention period long.
    pub to: DateTime<Utc>,
}

/// A count by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    /// Rule id (`weather.min_temp_c`) or cap name (`person-day`).
    pub name: String,
    /// How often.
    pub count: u64,
}

/// Deliveries per reached person per week.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct PerWeek {
    /// Median.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Highest.
    pub max: f64,
}

/// An offer of the brand the tested one would have taken the place of.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Displaced {
    /// The offer.
    pub offer_id: Uuid,
    /// Its name (empty when it is no longer live).
    pub offer_name: String,
    /// Its live deliveries the tested offer would have replaced.
    pub deliveries: u64,
}

/// One day of the period (UTC).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayCount {
    /// The day.
    pub date: NaiveDate,
    /// The tested offer's deliveries that day.
    pub deliveries: u64,
}

/// What the offer would have done over the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BacktestView {
    /// Start of the period.
    pub from: DateTime<Utc>,
    /// End of the period.
    pub to: DateTime<Utc>,
    /// The live offer edited, if any.
    pub offer_id: Option<Uuid>,
    /// Recorded decisions at the brand's fences replayed.
    pub checkins_considered: u64,
    /// Recorded decisions that cannot be decided again (stale, implausible): none had an offer.
    pub not_replayable: u64,
    /// Check-ins at which the offer was a candidate (a fence it targets, outside quiet hours).
    pub candidate_checkins: u64,
    /// People it would have reached.
    pub people_reached: u64,
    /// Deliveries it would have made.
    pub deliveries: u64,
    /// For an edit: the live offer's actual deliveries in the period at these check-ins.
    pub live_deliveries: Option<u64>,
    /// For an edit: the live deliveries it would make again, at the same check-ins (so to the
    /// same people). Equal to both counts when the tested offer is the live one unchanged.
    pub reproduced: Option<u64>,
    /// Deliveries per reached person per week of the period.
    pub per_person_per_week: PerWeek,
    /// The rule that failed most often, when one did.
    pub binding_rule: Option<String>,
    /// How often each rule failed, most often first.
    pub rule_failures: Vec<Count>,
    /// How often each cap refused it, most often first.
    pub caps: Vec<Count>,
    /// Times the person was in its holdout.
    pub held_out: u64,
    /// Times every rule passed but it matched too little of the moment.
    pub below_relevance: u64,
    /// Times it was eligible but another offer went out (or a person-wide cap ended it).
    pub outranked: u64,
    /// The brand's other offers it would have taken the place of.
    pub displaced: Vec<Displaced>,
    /// Its deliveries backed by at least 3 signals (place plus two of weather, habit, time,
    /// audience).
    pub deliveries_3_signals: u64,
    /// Their share of its deliveries (0 without deliveries).
    pub share_3_signals: f64,
    /// Check-ins where it asked for the weather, none was recorded and the weather log had
    /// none for that cell and hour: its weather rules failed there ("weather: unknown
    /// (not-recorded)").
    pub weather_missing: u64,
    /// Check-ins where it asked for the weather, none was recorded with the decision, and the
    /// per-cell, per-hour weather log gave it.
    pub weather_logged: u64,
    /// Check-ins where it read the profile and no audience facts were recorded.
    pub audience_missing: u64,
    /// Its deliveries per day.
    pub per_day: Vec<DayCount>,
    /// The replay stopped at `limit` decisions; the numbers cover the period up to there.
    pub truncated: bool,
    /// Most decisions one backtest replays.
    pub limit: u64,
    /// The answer in words.
    pub summary: String,
}

/// Backtests of offers on recorded decisions.
pub struct BacktestService {
    store: Arc<dyn Store>,
    /// The weather log in memory, written before a backtest reads it.
    weather_log: Option<Arc<WeatherLog>>,
    catalog: Arc<Catalog>,
    config: EngineConfig,
    clock: Arc<dyn Clock>,
    retention: Duration,
}

/// The running tally.
#[derive(Default)]
struct Tally {
    /// The brand's live offers.
    brand_offers: HashSet<Uuid>,
    considered: u64,
    not_replayable: u64,
    candidate: u64,
    per_person: HashMap<String, u64>,
    deliveries: u64,
    live: u64,
    reproduced: u64,
    rules: HashMap<RuleId, u64>,
    caps: HashMap<String, u64>,
    held_out: u64,
    below: u64,
    outranked: u64,
    displaced: HashMap<Uuid, u64>,
    three: u64,
    weather_missing: u64,
    weather_logged: u64,
    audience_missing: u64,
    per_day: BTreeMap<NaiveDate, u64>,
}

impl BacktestService {
    /// Backtests on `store`'s recorded decisions, with the live `catalog`, the deployment's
    /// decision `config`, and traces kept for `retention`.
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Arc<Catalog>,
        config: EngineConfig,
        clock: Arc<dyn Clock>,
        retention: Duration,
    ) -> Self {
        Self {
            store,
            weather_log: None,
            catalog,
            config,
            clock,
            retention,
        }
    }

    /// Writes `log`'s cell-hours to the store before each backtest, so that it reads the
    /// weather up to the last hour.
    pub fn with_weather_log(mut self, log: Arc<WeatherLog>) -> Self {
        self.weather_log = Some(log);
        self
    }

    /// What `input`'s offer would have done for brand `raw` (brand keys their own brand,
    /// admin any; support and app keys 403, another brand 404).
    pub async fn backtest(
        &self,
        who: &crate::auth::Principal,
        raw: &str,
        input: BacktestInput,
    ) -> Result<BacktestView, ApiError> {
        let brand = grant(self.store.as_ref(), who, raw, true)
            .await?
            .id()
            .clone();
        let now = self.clock.now();
        let mut errors =
            offer_problems(self.store.as_ref(), &brand, &input.offer, "/offer").await?;
        errors.extend(self.period_problems(&input, now));
        if let Some(id) = input.offer_id
            && self.store.get_offer(&brand, id).await?.is_none()
        {
            errors.push(FieldError::new(
                "/offer_id",
                format!("offer `{id}` is not one of this brand's offers"),
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let tested = Offer {
            id: input
                .offer_id
                .unwrap_or_else(|| virtual_offer_id(&brand, &input.offer)),
            brand: brand.clone(),
            spec: input.offer,
            created_at: now,
            updated_at: now,
            version: 0,
        };
        // Every brand's deliveries this far back can still hold a person's day, week, brand
        // or fence cap at the period's start; the brand's own hold its offers' caps and
        // budgets however old.
        let caps = self.config.caps;
        let lookback = [
            caps.person_day,
            caps.person_week,
            caps.person_brand,
            caps.person_fence,
        ]
        .iter()
        .map(|w| Duration::from_std(w.period).unwrap_or(Duration::days(7)))
        .max()
        .unwrap_or(Duration::days(7));
        let (from, to) = (input.from, input.to);
        if let Some(log) = &self.weather_log {
            super::weather_log::flush(self.store.as_ref(), log).await?;
        }
        let replayer = Replayer::new(ReplayParts {
            catalog: self.catalog.clone(),
            store: self.store.clone(),
            config: self.config.clone(),
            tested: tested.clone(),
            replaces: input.offer_id,
            start: from - lookback,
        });
        let mut moments_q = MomentQuery {
            brand: brand.to_string(),
            from,
            to,
            after: None,
            limit: PAGE,
        };
        let mut live_q = LiveDeliveryQuery {
            brand: brand.to_string(),
            since: from - lookback,
            from,
            to,
            after: None,
            limit: PAGE,
        };
        let (mut moments, mut lives) = (VecDeque::new(), VecDeque::new());
        let (mut moments_done, mut lives_done) = (false, false);
        let mut t = Tally {
            brand_offers: self
                .catalog
                .offers_of(&brand)
                .iter()
                .map(|o| o.id)
                .collect(),
            ..Tally::default()
        };
        let mut truncated = false;
        loop {
            if moments.is_empty() && !moments_done {
                let page = self.store.recorded_moments(&moments_q).await?;
                moments_done = page.len() < PAGE as usize;
                moments_q.after = page.last().map(|m| m.key());
                moments.extend(page);
            }
            let Some(next_at) = moments.front().map(|m| m.at) else {
                break;
            };
            // Every live delivery up to this moment holds its caps first.
            loop {
                if lives.is_empty() && !lives_done {
                    let page = self.store.live_deliveries(&live_q).await?;
                    lives_done = page.len() < PAGE as usize;
                    live_q.after = page.last().map(|d| (d.at.timestamp_millis(), d.id));
                    lives.extend(page);
                }
                match lives.front() {
                    Some(d) if d.at <= next_at => {
                        replayer.live_delivery(d).await;
                        lives.pop_front();
                    }
                    _ => break,
                }
            }
            let Some(m) = moments.pop_front() else { break };
            if t.considered + t.not_replayable >= MAX_REPLAYED {
                truncated = true;
                break;
            }
            let r = match m.read_moment() {
                Some(trace) => replayer.replay(&m, &trace).await,
                None => Replayed {
                    skipped: Some("unreadable"),
                    ..Replayed::default()
                },
            };
            if input.offer_id.is_some() && m.delivered == input.offer_id {
                t.live += 1;
            }
            t.count(&m.person, m.at, m.delivered, r, &tested);
        }
        Ok(self.view(&input.offer_id, &tested, from, to, t, truncated))
    }

    /// Problems of the period: reversed, longer than retention, or older than it.
    fn period_problems(&self, input: &BacktestInput, now: DateTime<Utc>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let days = self.retention.num_days();
        if input.from < now - self.retention {
            errors.push(FieldError::new(
                "/from",
                format!("from is older than trace retention ({days} days): those decisions are no longer kept"),
            ));
        }
        if input.to <= input.from {
            errors.push(FieldError::new("/to", "to must be after from"));
        } else if input.to - input.from > self.retention {
            errors.push(FieldError::new(
                "/to",
                format!("the period is at most {days} days (trace retention)"),
            ));
        }
        errors
    }

    /// The answer, with its sentence.
    fn view(
        &self,
        offer_id: &Option<Uuid>,
        tested: &Offer,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        t: Tally,
        truncated: bool,
    ) -> BacktestView {
        let weeks = ((to - from).num_seconds() as f64 / (7.0 * 86_400.0)).max(1.0);
        let mut rates: Vec<f64> = t.per_person.values().map(|n| *n as f64 / weeks).collect();
        rates.sort_by(f64::total_cmp);
        let pick = |q: f64| -> f64 {
            if rates.is_empty() {
                return 0.0;
            }
            let i = ((rates.len() as f64 * q).ceil() as usize).clamp(1, rates.len()) - 1;
            (rates[i] * 100.0).round() / 100.0
        };
        let per_week = PerWeek {
            median: pick(0.5),
            p90: pick(0.9),
            max: pick(1.0),
        };
        let rule_failures = sorted(
            t.rules
                .into_iter()
                .map(|(rule, n)| {
                    let name = serde_json::to_value(rule)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_else(|| "other".into());
                    (name, n)
                })
                .collect(),
        );
        let caps = sorted(t.caps);
        let names: HashMap<Uuid, String> = self
            .catalog
            .offers_of(&tested.brand)
            .iter()
            .map(|o| (o.id, o.spec.name.clone()))
            .collect();
        let mut displaced: Vec<Displaced> = t
            .displaced
            .into_iter()
            .map(|(id, n)| Displaced {
                offer_id: id,
                offer_name: names.get(&id).cloned().unwrap_or_default(),
                deliveries: n,
            })
            .collect();
        displaced.sort_by(|a, b| {
            b.deliveries
                .cmp(&a.deliveries)
                .then(a.offer_id.cmp(&b.offer_id))
        });
        let share = if t.deliveries == 0 {
            0.0
        } else {
            ((t.three as f64 / t.deliveries as f64) * 1000.0).round() / 1000.0
        };
        let mut v = BacktestView {
            from,
            to,
            offer_id: *offer_id,
            checkins_considered: t.considered,
            not_replayable: t.not_replayable,
            candidate_checkins: t.candidate,
            people_reached: t.per_person.len() as u64,
            deliveries: t.deliveries,
            live_deliveries: offer_id.map(|_| t.live),
            reproduced: offer_id.map(|_| t.reproduced),
            per_person_per_week: per_week,
            binding_rule: rule_failures.first().map(|c| c.name.clone()),
            rule_failures,
            caps,
            held_out: t.held_out,
            below_relevance: t.below,
            outranked: t.outranked,
            displaced,
            deliveries_3_signals: t.three,
            share_3_signals: share,
            weather_missing: t.weather_missing,
            weather_logged: t.weather_logged,
            audience_missing: t.audience_missing,
            per_day: t
                .per_day
                .into_iter()
                .map(|(date, deliveries)| DayCount { date, deliveries })
                .collect(),
            truncated,
            limit: MAX_REPLAYED,
            summary: String::new(),
        };
        v.summary = summary(&v, &tested.spec.name);
        v
    }
}

impl Tally {
    /// Counts one replayed moment of `person` at `at` (live delivery `live`).
    fn count(
        &mut self,
        person: &str,
        at: DateTime<Utc>,
        live: Option<Uuid>,
        r: Replayed,
        tested: &Offer,
    ) {
        if r.skipped.is_some() {
            self.not_replayable += 1;
            return;
        }
        self.considered += 1;
        let Some((rules, outcome)) = r.tested else {
            return;
        };
        self.candidate += 1;
        let asks_weather = tested.spec.targeting.weather.is_some();
        self.weather_missing += u64::from(r.weather_missing && asks_weather);
        self.weather_logged += u64::from(r.weather_logged && asks_weather);
        self.audience_missing += u64::from(r.audience_missing && tested.reads_profile());
        for rule in rules.iter().filter(|x| !x.passed) {
            *self.rules.entry(rule.rule).or_default() += 1;
        }
        match outcome {
            Outcome::Delivered { .. } => {
                self.deliveries += 1;
                *self.per_person.entry(person.to_string()).or_default() += 1;
                *self.per_day.entry(at.date_naive()).or_default() += 1;
                self.three += u64::from(r.signals >= 3);
                self.reproduced += u64::from(live == Some(tested.id));
                // The brand's other live offers: the moment keeps the delivered offer's id only.
                if let Some(other) = live.filter(|o| *o != tested.id)
                    && self.brand_offers.contains(&other)
                {
                    *self.displaced.entry(other).or_default() += 1;
                }
            }
            Outcome::Capped { cap } => *self.caps.entry(cap).or_default() += 1,
            Outcome::HeldOut { .. } => self.held_out += 1,
            Outcome::BelowRelevance { .. } => self.below += 1,
            Outcome::Eligible => self.outranked += 1,
            _ => {}
        }
    }
}

/// The id a new offer is backtested under: derived from the brand and the offer as sent, so
/// two backtests of the same offer split its holdout (`held_out` hashes the person with the
/// offer id) the same way; a changed offer is another draw. A UUIDv8 (custom), never the id
/// of a live offer (those are v7).
fn virtual_offer_id(brand: &BrandId, offer: &OfferSpec) -> Uuid {
    let body = serde_json::to_vec(offer).unwrap_or_default();
    let digest = Sha256::new()
        .chain_update(brand.as_str())
        .chain_update([0])
        .chain_update(&body)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

fn sorted(m: HashMap<String, u64>) -> Vec<Count> {
    let mut v: Vec<Count> = m
        .into_iter()
        .map(|(name, count)| Count { name, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    v
}

/// The answer in one or two sentences.
fn summary(v: &BacktestView, name: &str) -> String {
    let days = (v.to - v.from).num_days().max(1);
    let mut s = format!(
        "Over {days} days, \"{name}\" would have reached {} {} with {} {} ({} of {} check-ins at its fences had it as a candidate)",
        v.people_reached,
        if v.people_reached == 1 {
            "person"
        } else {
            "people"
        },
        v.deliveries,
        if v.deliveries == 1 {
            "delivery"
        } else {
            "deliveries"
        },
        v.candidate_checkins,
        v.checkins_considered,
    );
    if let Some(live) = v.live_deliveries {
        s.push_str(&format!("; the live offer made {live}"));
    }
    s.push('.');
    if let Some(rule) = &v.binding_rule {
        let n = v.rule_failures.first().map_or(0, |c| c.count);
        s.push_str(&format!(
            " The rule that blocked it most often is {rule} ({n} times)."
        ));
    }
    if let Some(cap) = v.caps.first() {
        s.push_str(&format!(
            " Caps refused it {} times, most often {}.",
            v.caps.iter().map(|c| c.count).sum::<u64>(),
            cap.name
        ));
    }
    if v.deliveries > 0 {
        s.push_str(&format!(
            " Median {} deliveries per person per week (max {}); {:.0}% backed by at least 3 signals.",
            v.per_person_per_week.median,
            v.per_person_per_week.max,
            v.share_3_signals * 100.0
        ));
    }
    if !v.displaced.is_empty() {
        let n: u64 = v.displaced.iter().map(|d| d.deliveries).sum();
        s.push_str(&format!(
            " It would have taken the place of {n} deliveries of the brand's other offers."
        ));
    }
    if v.weather_logged > 0 {
        s.push_str(&format!(
            " The weather log gave the weather at {} check-ins recorded without it.",
            v.weather_logged
        ));
    }
    if v.weather_missing > 0 {
        s.push_str(&format!(
            " {} check-ins had no recorded weather, so its weather rules failed there.",
            v.weather_missing
        ));
    }
    if v.truncated {
        s.push_str(&format!(
            " Stopped after {} decisions: narrow the period for the rest.",
            v.limit
        ));
    }
    s
}
