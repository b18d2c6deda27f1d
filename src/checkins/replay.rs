//! The backtest's replay of a recorded moment through the decision's own steps: candidates,
//! rules and scoring (`Engine::rank`), then holdout, copy and claim (`Engine::claim`) on a
//! virtual limiter — an in-process twin on a clock the replay moves — with the brand's
//! offers as they would be with the tested one (docs/backtest.md).
//!
//! The moment is what the trace kept (`decisions::trace`): the report's time, motion and
//! personalization consent, each matched fence with its local time, quiet hours and habits,
//! the weather when it was fetched and the audience facts when the profile was read. Nothing
//! is looked up about the person, and nothing is recorded. Where a candidate asks for the
//! weather and the decision never fetched it, the per-cell, per-hour weather log gives it.

use super::Engine;
use super::answer::claim_key;
use super::candidates::candidates_of;
use super::engine::{OffRecordParts, Subjects};
use super::input::Checkin;
use super::model::{Matched, Outcome, Scene, Subject};
use super::place::early_stop;
use super::rules::RuleOutcome;
use super::trace::Trace as TraceBuilder;
use crate::catalog::Catalog;
use crate::clock::ManualClock;
use crate::decisions::replay::{
    LiveDelivery, MomentContext, MomentTrace, MomentWeather, RecordedMoment,
};
use crate::decisions::trace::{AudienceFacts, Signal};
use crate::domain::{BrandId, Latitude, Longitude, ReportedAccuracyM, SpeedMps};
use crate::fences::index::FenceMatch;
use crate::habits::{HabitFeatures, InProcessHabits};
use crate::limits::{Budget, ClaimRequest, InProcessLimiter};
use crate::offers::Offer;
use crate::people::gate::InProcessGate;
use crate::people::{PersonId, Profile, Purchase};
use crate::store::Store;
use crate::weather::{
    Condition, FixedWeather, GridCell, Weather, WeatherLookup, hour_of, logged_weather,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// The kinds of signal counted behind a delivery besides the place (as `geoffer simulate`
/// reports them): weather, habit, time and audience.
pub const SIGNAL_KINDS: [Signal; 4] = [
    Signal::Weather,
    Signal::Habit,
    Signal::Schedule,
    Signal::Audience,
];

/// What a replay is built from.
pub struct ReplayParts {
    /// Live fences and offers.
    pub catalog: Arc<Catalog>,
    /// Durable store (never read by a replay: it looks nothing up about people).
    pub store: Arc<dyn Store>,
    /// The deployment's decision settings (caps, minimum relevance, look-backs).
    pub config: super::EngineConfig,
    /// The offer tested.
    pub tested: Offer,
    /// The live offer it replaces (an edit of it), if any.
    pub replaces: Option<Uuid>,
    /// Where the virtual clock starts.
    pub start: DateTime<Utc>,
}

/// Replays moments, in time order, on one virtual limiter.
pub struct Replayer {
    engine: Engine,
    clock: Arc<ManualClock>,
    tested: Arc<Offer>,
    replaces: Option<Uuid>,
    /// The weather log's hour last read (its start, ms) and its cells: moments come in time
    /// order, so one hour is held at a time.
    logged: tokio::sync::Mutex<(i64, HashMap<GridCell, Weather>)>,
}

/// What one recorded moment came to in the replay.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Why the moment could not be decided again (`stale`, `implausible`, `no-context`);
    /// such a moment had no offer live either.
    pub skipped: Option<&'static str>,
    /// The offer that went out in the replay (of any brand whose fence matched).
    pub delivered: Option<Uuid>,
    /// Signals behind it: 1 for the place plus each of [`SIGNAL_KINDS`] a passing rule gave.
    pub signals: u8,
    /// The tested offer as a candidate: every rule's verdict and its outcome. `None` when it
    /// was not a candidate (no fence it targets matched, or quiet hours).
    pub tested: Option<(Vec<RuleOutcome>, Outcome)>,
    /// A candidate asked for the weather, the moment has none recorded and the weather log
    /// has none for its cell and hour either.
    pub weather_missing: bool,
    /// A candidate asked for the weather, the moment has none recorded, and the weather log
    /// gave it.
    pub weather_logged: bool,
    /// A candidate read the profile and the moment has no audience facts recorded.
    pub audience_missing: bool,
}

impl Replayer {
    /// A replayer whose virtual limiter starts empty at `p.start`.
    pub fn new(p: ReplayParts) -> Self {
        let clock = Arc::new(ManualClock::new(p.start));
        let (engine, _kept) = Engine::off_record(OffRecordParts {
            catalog: p.catalog,
            store: p.store,
            limiter: Arc::new(InProcessLimiter::new(clock.clone())),
            consents: Arc::new(InProcessGate::default()),
            habits: Arc::new(InProcessHabits::new()),
            weather: Arc::new(FixedWeather(WeatherLookup::unknown("not-recorded"))),
            clock: clock.clone(),
            config: p.config,
            subjects: Subjects::People,
        });
        Self {
            engine,
            clock,
            tested: Arc::new(p.tested),
            replaces: p.replaces,
            logged: tokio::sync::Mutex::new((i64::MIN, HashMap::new())),
        }
    }

    /// The weather log's conditions in the moment's cell and hour: the cell of the trace's
    /// rounded location (0.001°, so a moment within ~100 m of a cell's edge may read the
    /// neighbouring cell). A log that cannot be read counts as holding nothing.
    async fn logged_weather(&self, ctx: &MomentContext) -> Option<Weather> {
        let hour = hour_of(ctx.decided_at);
        let mut held = self.logged.lock().await;
        if held.0 != hour.timestamp_millis() {
            let entries = self
                .engine
                .store
                .weather_log(hour)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "reading the weather log failed"))
                .unwrap_or_default();
            *held = (
                hour.timestamp_millis(),
                entries.iter().filter_map(logged_weather).collect(),
            );
        }
        let [lat, lon] = ctx.location_rounded?;
        held.1.get(&GridCell::of(lat, lon)).cloned()
    }

    /// The brand's offers as they would be with the tested one.
    fn offers_of(&self, brand: &BrandId) -> Vec<Arc<Offer>> {
        let mut offers = self.engine.catalog.offers_of(brand);
        if *brand == self.tested.brand {
            offers.retain(|o| o.id != self.tested.id && Some(o.id) != self.replaces);
            offers.push(self.tested.clone());
        }
        offers
    }

    /// The offer of this id as the replay knows it (the tested one for the offer it replaces).
    fn offer(&self, brand: &str, id: Uuid) -> Option<Arc<Offer>> {
        if id == self.tested.id || Some(id) == self.replaces {
            return Some(self.tested.clone());
        }
        let brand = BrandId::parse(brand).ok()?;
        self.engine
            .catalog
            .offers_of(&brand)
            .into_iter()
            .find(|o| o.id == id)
    }

    /// Claims a live delivery on the virtual limiter at the time it was sent, with its offer's
    /// caps and budget (the deployment's caps for an offer no longer live).
    pub async fn live_delivery(&self, d: &LiveDelivery) {
        self.clock.set(d.at);
        let offer = self.offer(&d.brand, d.offer_id);
        let req = ClaimRequest {
            checkin_id: claim_key(&d.app, &d.user_id, &d.checkin_id),
            person: d.person.clone(),
            brand: d.brand.clone(),
            offer_id: d.offer_id.to_string(),
            fence_id: d.fence_id.to_string(),
            caps: offer
                .as_ref()
                .map_or(self.engine.config.caps, |o| self.engine.caps_for(o)),
            budget: offer.as_ref().map_or(Budget::default(), |o| Budget {
                total: o.spec.budget.total,
                daily: o.spec.budget.daily,
            }),
        };
        // It went out live, so it holds its caps here whatever the twin says (an offer's caps
        // changed since): a refusal only means it holds nothing more.
        let _ = self.engine.limiter.claim(&req).await;
    }

    /// Decides a recorded moment again, the tested offer in the brand's line-up.
    pub async fn replay(&self, m: &RecordedMoment, trace: &MomentTrace) -> Replayed {
        let skip = |why| Replayed {
            skipped: Some(why),
            ..Replayed::default()
        };
        let Some(ctx) = &trace.context else {
            return skip("no-context");
        };
        if trace.implausible.is_some() {
            return skip("implausible");
        }
        let Some(c) = checkin(m, ctx) else {
            return skip("no-context");
        };
        let now = ctx.decided_at;
        if c.is_stale(now) {
            return skip("stale");
        }
        let matched = self.matched(trace, &c);
        let mut out = Replayed::default();
        if matched.is_empty() || early_stop(&c, now, &matched).is_some() {
            return out;
        }
        // Visit state is not part of the recorded moment: offers are replayed as `enter`
        // offers (a `dwell` or `exit` trigger never fires in a backtest; docs/backtest.md).
        let no_visits = BTreeMap::new();
        let at_ms = c.recorded_at.timestamp_millis();
        let mut cands = candidates_of(&matched, &no_visits, at_ms, |b| self.offers_of(b), |_| None);
        let profile = if ctx.personalization && cands.iter().any(|x| x.offer.reads_profile()) {
            out.audience_missing = trace.audience.is_none();
            trace.audience.as_ref().map(profile_of)
        } else {
            None
        };
        let weather = if cands
            .iter()
            .any(|x| x.offer.spec.targeting.weather.is_some())
        {
            match weather_of(trace.weather.as_ref()) {
                Some(w) => w,
                None => match self.logged_weather(ctx).await {
                    Some(w) => {
                        out.weather_logged = true;
                        WeatherLookup::Known(w)
                    }
                    None => {
                        out.weather_missing = true;
                        WeatherLookup::unknown("not-recorded")
                    }
                },
            }
        } else {
            WeatherLookup::unknown("not-needed")
        };
        let scene = Scene {
            matched: &matched,
            profile: profile.as_ref(),
            weather: &weather,
            visits: &no_visits,
        };
        // The pseudonym the decision recorded (`PersonId::of` the app and user), not hashed again.
        let person = PersonId::from_stored(m.person.clone());
        let who = Subject {
            app: &m.app,
            person: &person,
            c: &c,
            fingerprint: "",
            now,
            personalization: ctx.personalization,
            events: &[],
        };
        self.engine.rank(&who, &scene, &mut cands);
        self.clock.set(now);
        // The claim's trace is discarded: nothing of the replay is recorded.
        let mut kept = TraceBuilder::discarded();
        let (_, granted) = self.engine.claim(&who, &scene, &mut cands, &mut kept).await;
        out.delivered = granted.map(|g| g.delivery.offer_id);
        if let Some(sent) = cands.iter().find(|x| Some(x.offer.id) == out.delivered) {
            out.signals = 1 + SIGNAL_KINDS
                .iter()
                .filter(|k| {
                    sent.rules
                        .iter()
                        .any(|r| r.passed && r.rule.signal() == Some(**k))
                })
                .count() as u8;
        }
        out.tested = cands
            .into_iter()
            .find(|x| x.offer.id == self.tested.id)
            .map(|x| (x.rules, x.outcome));
        out
    }

    /// The matched fences still in the catalog, with the moment's local time and habits.
    fn matched(&self, trace: &MomentTrace, c: &Checkin) -> Vec<Matched> {
        trace
            .fences
            .iter()
            .filter_map(|f| {
                let info = self.engine.catalog.fence(&f.id)?;
                Some(Matched {
                    hit: FenceMatch {
                        id: f.id,
                        edge_distance_m: f.edge_distance_m,
                        center_distance_m: f.center_distance_m,
                    },
                    local: c.recorded_at.with_timezone(&info.timezone),
                    info,
                    quiet: f.quiet_hours,
                    fence_habit: f.habit_fence.map(HabitFeatures::from),
                    brand_habit: f.habit_brand.map(HabitFeatures::from),
                })
            })
            .collect()
    }
}

/// The report as the trace kept it (its location rounded: only the copy's distance reads it).
fn checkin(m: &RecordedMoment, ctx: &MomentContext) -> Option<Checkin> {
    Some(Checkin {
        checkin_id: m.checkin_id.clone(),
        user_id: m.user_id.clone(),
        device_id: ctx.device_id.clone(),
        lat: Latitude::parse(ctx.location_rounded?[0]).ok()?,
        lon: Longitude::parse(ctx.location_rounded?[1]).ok()?,
        accuracy_m: ReportedAccuracyM::parse(ctx.accuracy_m).ok()?,
        recorded_at: ctx.recorded_at,
        speed_mps: ctx.speed_mps.and_then(|s| SpeedMps::parse(s).ok()),
        activity: ctx.activity,
        app_state: ctx.app_state,
        is_mocked: ctx.is_mocked,
    })
}

/// The profile the rules read, from the facts the trace kept.
fn profile_of(a: &AudienceFacts) -> Profile {
    Profile {
        follows: a
            .follows
            .iter()
            .filter_map(|b| BrandId::parse(b).ok())
            .collect(),
        interests: a.interests.clone(),
        purchases: a
            .purchases
            .iter()
            .map(|p| Purchase {
                brand: p.brand.clone(),
                sku: p.sku.clone(),
                category: p.category.clone(),
                at: p.at,
            })
            .collect(),
    }
}

/// The weather the trace kept; `None` when it was never fetched for this moment (no offer
/// asked then).
fn weather_of(w: Option<&MomentWeather>) -> Option<WeatherLookup> {
    let w = w?;
    if w.known {
        return Some(match Condition::parse(&w.condition) {
            Some(condition) => WeatherLookup::Known(Weather {
                temp_c: w.temp_c,
                feels_like_c: w.feels_like_c,
                precipitation_mm: w.precipitation_mm,
                condition,
                is_day: w.is_day,
                observed_at: None,
            }),
            None => WeatherLookup::unknown("unreadable"),
        });
    }
    (w.reason != "not-needed").then(|| WeatherLookup::unknown(w.reason.clone()))
}
