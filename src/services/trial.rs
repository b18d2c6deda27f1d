//! "Try it": the decision geoffer would make for a test person at a point, at a moment, in
//! given weather — run through the real engine (`Engine::decide`, every step), on a
//! throwaway engine built for the one request:
//!
//! - the live catalog, limited to the brand's own fences (and so its own offers);
//! - a test person ([`Persona`]) whose consent, visits and profile are made up here and
//!   held in in-process twins (consent gate, habits) and in the engine's [`Subjects::Test`],
//!   so no real person's data is read;
//! - a fresh in-process limiter on a clock stopped at the moment: no real cap or budget is
//!   used, and none is consulted either (the test person has used none);
//! - the weather given, and a decision writer that keeps the record in memory: nothing is
//!   saved, nothing appears in results, and the engine's counters go to a registry of
//!   their own, not to `/metrics`.
//!
//! The answer is explained with support's own sentences (`support::explain`).
//!
//! Long (about 500 lines) because the request's types with their checks, the persona's
//! made-up history and the answer's view are one use case with one caller (the API and the
//! console call the same `try_it`); the engine it runs is `Engine::off_record`.

use super::grant;
use crate::catalog::{Catalog, FenceInfo};
use crate::checkins::engine::OffRecordParts;
use crate::checkins::writer::{DecisionRecord, unpack_trace};
use crate::checkins::{CheckinInput, Engine, EngineConfig, FenceRef, Subjects, TestPerson};
use crate::clock::{Clock, ManualClock};
use crate::decisions::StoredDecision;
use crate::domain::{BrandId, Latitude, Longitude, ReportedAccuracyM};
use crate::error::{ApiError, FieldError};
use crate::habits::{Habits, InProcessHabits, Place, Track};
use crate::people::gate::{Allowed, ConsentGate, InProcessGate};
use crate::people::{PersonId, Profile, Purchase};
use crate::store::Store;
use crate::support::{CandidateView, Delivery, Names, Scope, explain};
use crate::weather::{Condition, FixedWeather, Weather, WeatherLookup};
use chrono::{DateTime, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// The app test people belong to. App names are `[a-z0-9-]{1,64}`, so no key speaks for
/// this one and its people are nobody's.
pub const TRIAL_APP: &str = "try it";

/// Accuracy of a test report when none is given, metres.
const DEFAULT_ACCURACY_M: f64 = 10.0;

/// A test decision's question.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialInput {
    /// Latitude of the point, degrees.
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    /// Longitude of the point, degrees.
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// Accuracy of the test report, metres (default 10).
    #[serde(default)]
    #[schema(exclusive_minimum = 0, maximum = 5000)]
    pub accuracy_m: Option<f64>,
    /// The moment (default: now). Each fence's schedule and quiet hours read it in the
    /// fence's own time zone.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// The weather at that moment; absent or null means unknown, and weather-gated offers
    /// then do not fire.
    #[serde(default)]
    pub weather: Option<TrialWeather>,
    /// The test person (default: a first visit, personalization allowed).
    #[serde(default)]
    pub person: TestPersonInput,
}

/// The weather of a test decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialWeather {
    /// clear, cloudy, fog, drizzle, rain, snow or thunderstorm.
    #[schema(value_type = String, pattern = "^(clear|cloudy|fog|drizzle|rain|snow|thunderstorm)$")]
    pub condition: Condition,
    /// Air temperature, °C.
    #[schema(minimum = -60, maximum = 60)]
    pub temp_c: f64,
}

/// Who the test person is: made up, never anyone's data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Persona {
    /// Never at the brand's fences before.
    #[default]
    FirstVisit,
    /// Has come three times a week at this hour for the past eight weeks (at every one of
    /// the brand's fences at the point).
    Regular,
}

impl Persona {
    /// The test person's user id (of [`TRIAL_APP`]).
    fn user_id(self) -> &'static str {
        match self {
            Persona::FirstVisit => "test-person-first-visit",
            Persona::Regular => "test-person-regular",
        }
    }
}

/// The test person.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestPersonInput {
    /// `first-visit` or `regular`.
    #[serde(default)]
    pub persona: Persona,
    /// Has the person allowed personalization (habits, follows, interests, purchases)?
    /// Default true; without it, habit and audience rules fail, as for a real person.
    #[serde(default = "yes")]
    pub personalization: bool,
    /// Does the person follow the brand? Default false.
    #[serde(default)]
    pub follows_brand: bool,
    /// Stated interests, e.g. `cold-drinks` (at most 20, each 1–64 characters).
    #[serde(default)]
    #[schema(schema_with = crate::domain::schemas::short_texts)]
    pub interests: Vec<String>,
    /// A regular's usual item at the brand (a SKU, 1–64 characters): bought on a visit every
    /// week, it fills `{{ habit.usual_item }}`.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub usual_item: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for TestPersonInput {
    fn default() -> Self {
        Self {
            persona: Persona::default(),
            personalization: true,
            follows_brand: false,
            interests: Vec::new(),
            usual_item: None,
        }
    }
}

/// The offer a test decision would send.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrialOffer {
    /// The offer.
    pub offer_id: Uuid,
    /// Its name.
    pub offer_name: String,
    /// The title, rendered for the moment.
    pub title: String,
    /// The body, rendered for the moment.
    pub body: String,
    /// The fence it would be sent at.
    pub fence: FenceRef,
}

/// The decision geoffer would make, explained. Nothing of it was recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrialView {
    /// `offer` (it would be sent) or `none`.
    pub decision: String,
    /// Why none: no-fence, quiet-hours, no-eligible-offer, held-out, … (as a check-in's).
    pub reason: Option<String>,
    /// The offer, when decision is `offer`.
    pub offer: Option<TrialOffer>,
    /// One sentence.
    pub summary: String,
    /// The steps that mattered, one line each (as support reads a decision).
    pub explanation: Vec<String>,
    /// Every offer of the brand considered, best first, with the reasons it would or would
    /// not go out.
    pub candidates: Vec<CandidateView>,
}

/// Test decisions through the real engine.
pub struct TrialService {
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    config: EngineConfig,
    clock: Arc<dyn Clock>,
}

/// The question, checked.
struct Question {
    lat: f64,
    lon: f64,
    accuracy_m: f64,
    at: DateTime<Utc>,
    weather: WeatherLookup,
}

impl TrialService {
    /// Test decisions on the live `catalog` with the deployment's decision `config`; the
    /// store is only asked whether the brand exists (the engine built per trial is given it
    /// but never reaches it: see [`Subjects::Test`]).
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Arc<Catalog>,
        config: EngineConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            catalog,
            config,
            clock,
        }
    }

    /// The decision `brand` (raw, from the path) would see for `input` (brand keys their
    /// own brand, admin any; support and app keys 403).
    pub async fn try_it(
        &self,
        who: &crate::auth::Principal,
        brand: &str,
        input: TrialInput,
    ) -> Result<TrialView, ApiError> {
        let brand = grant(self.store.as_ref(), who, brand, true)
            .await?
            .id()
            .clone();
        let scope = Scope::of(who)?;
        let q = self.check(&input)?;
        let person_in = &input.person;
        let user_id = person_in.persona.user_id();
        let person = PersonId::of(TRIAL_APP, user_id);
        let allowed = Allowed {
            location: true,
            personalization: person_in.personalization,
        };
        let gate = InProcessGate::default();
        gate.publish(&person, Some(allowed)).await;
        let habits = InProcessHabits::new();
        if person_in.persona == Persona::Regular && allowed.personalization {
            let fences = self.fences_at(&brand, &q);
            regular_visits(&habits, &person, &brand, &fences, q.at).await?;
        }
        let clock = Arc::new(ManualClock::new(q.at));
        let (engine, kept) = Engine::off_record(OffRecordParts {
            catalog: self.catalog.clone(),
            store: self.store.clone(),
            limiter: Arc::new(crate::limits::InProcessLimiter::new(clock.clone())),
            consents: Arc::new(gate),
            habits: Arc::new(habits),
            weather: Arc::new(FixedWeather(q.weather.clone())),
            clock,
            config: self.config.clone(),
            subjects: Subjects::Test(TestPerson {
                brand: brand.clone(),
                profile: profile(person_in, &brand, q.at),
            }),
        });
        let report = CheckinInput {
            checkin_id: format!("try-{}", Uuid::new_v4().simple()),
            user_id: user_id.into(),
            device_id: None,
            lat: q.lat,
            lon: q.lon,
            accuracy_m: q.accuracy_m,
            recorded_at: q.at,
            speed_mps: None,
            activity: None,
            app_state: None,
            is_mocked: None,
        };
        engine.decide(TRIAL_APP, report).await?;
        drop(engine);
        Ok(match kept.take().pop() {
            Some(record) => self.view(record, &scope),
            // No fence of the brand at the point: a check-in keeps nothing, so no record.
            None => TrialView {
                decision: "none".into(),
                reason: Some("no-fence".into()),
                offer: None,
                summary: "No offer: the point is in none of this brand's fences.".into(),
                explanation: vec!["place: no fence of this brand contains the point".into()],
                candidates: Vec::new(),
            },
        })
    }

    /// Checks the question, naming each bad field.
    fn check(&self, input: &TrialInput) -> Result<Question, ApiError> {
        let mut errors = Vec::new();
        let mut bad = |p: &str, r: String| errors.push(FieldError::new(p, r));
        let lat = Latitude::parse(input.lat).map_err(|e| bad("/lat", e));
        let lon = Longitude::parse(input.lon).map_err(|e| bad("/lon", e));
        let accuracy = ReportedAccuracyM::parse(input.accuracy_m.unwrap_or(DEFAULT_ACCURACY_M))
            .map_err(|e| bad("/accuracy_m", e));
        if let Some(w) = &input.weather
            && !(w.temp_c.is_finite() && (-60.0..=60.0).contains(&w.temp_c))
        {
            bad(
                "/weather/temp_c",
                "temp_c must be between -60 and 60 °C".into(),
            );
        }
        let p = &input.person;
        if p.interests.len() > 20 {
            bad("/person/interests", "at most 20 interests".into());
        }
        for (i, x) in p.interests.iter().enumerate() {
            if !(1..=64).contains(&x.trim().chars().count()) {
                bad(
                    &format!("/person/interests/{i}"),
                    "an interest is 1-64 characters".into(),
                );
            }
        }
        if p.usual_item
            .as_ref()
            .is_some_and(|x| !(1..=64).contains(&x.trim().chars().count()))
        {
            bad("/person/usual_item", "usual_item is 1-64 characters".into());
        }
        match (lat, lon, accuracy) {
            (Ok(lat), Ok(lon), Ok(accuracy)) if errors.is_empty() => {
                let at = input.at.unwrap_or_else(|| self.clock.now());
                Ok(Question {
                    lat: lat.degrees(),
                    lon: lon.degrees(),
                    accuracy_m: accuracy.metres(),
                    at,
                    weather: input
                        .weather
                        .as_ref()
                        .map_or(WeatherLookup::unknown("not-given"), |w| weather(w, at)),
                })
            }
            _ => Err(ApiError::validation(errors)),
        }
    }

    /// The brand's fences the point is in (as the engine will find them).
    fn fences_at(&self, brand: &BrandId, q: &Question) -> Vec<Arc<FenceInfo>> {
        let mut hits = Vec::new();
        self.catalog.lookup(q.lat, q.lon, q.accuracy_m, &mut hits);
        hits.iter()
            .filter_map(|h| self.catalog.fence(&h.id))
            .filter(|f| f.brand == *brand)
            .collect()
    }

    /// The test decision's record, explained with support's sentences.
    fn view(&self, r: DecisionRecord, scope: &Scope) -> TrialView {
        let delivery = r.delivery.as_ref().map(|x| Delivery {
            id: x.id,
            created_at: r.at,
            app: r.app.clone(),
            user_id: r.user_id.clone(),
            device_id: None,
            brand: x.brand.clone(),
            offer_id: x.offer_id,
            fence_id: x.fence_id,
            checkin_id: r.checkin_id.clone(),
            title: x.title.clone(),
            body: x.body.clone(),
            // A test has no real code to redeem.
            redemption_code: None,
            expires_at: None,
            status: "not sent (a test)".into(),
        });
        let stored = StoredDecision {
            app: r.app,
            checkin_id: r.checkin_id,
            user_id: r.user_id,
            at: r.at,
            decision: r.decision.into(),
            reason: r.reason,
            response: r.response,
            trace: unpack_trace(&r.trace),
            latency_us: r.latency_us,
            offer_id: r.offer_id.map(|o| o.to_string()),
            delivery_id: delivery.as_ref().map(|d| d.id.to_string()),
            brands: r.brands,
            trace_purged_at: None,
        };
        let e = explain(&stored, delivery.as_ref(), &Names::default(), scope);
        let offer = delivery.map(|d| {
            let name = e
                .candidates
                .iter()
                .find(|c| c.offer_id == d.offer_id.to_string())
                .map_or_else(|| d.offer_id.to_string(), |c| c.offer_name.clone());
            let fence = self
                .catalog
                .fence(&d.fence_id)
                .map_or_else(|| d.fence_id.to_string(), |f| f.name.clone());
            TrialOffer {
                offer_id: d.offer_id,
                offer_name: name,
                title: d.title,
                body: d.body,
                fence: FenceRef {
                    id: d.fence_id,
                    name: fence,
                },
            }
        });
        // Support's summary of a delivery says "Delivered"; a test sends nothing.
        let summary = match &offer {
            Some(o) => format!("Would send “{}” at {}.", o.offer_name, o.fence.name),
            None => e.summary,
        };
        TrialView {
            decision: stored.decision,
            reason: stored.reason,
            offer,
            summary,
            explanation: e.explanation,
            candidates: e.candidates,
        }
    }
}

/// The weather given, as a provider would report it at `at`.
fn weather(w: &TrialWeather, at: DateTime<Utc>) -> WeatherLookup {
    let wet = matches!(
        w.condition,
        Condition::Drizzle | Condition::Rain | Condition::Thunderstorm
    );
    WeatherLookup::Known(Weather {
        temp_c: w.temp_c,
        feels_like_c: w.temp_c,
        precipitation_mm: if wet { 1.0 } else { 0.0 },
        condition: w.condition,
        // No rule reads it; a test asks about the sky, not the sun.
        is_day: true,
        observed_at: Some(at),
    })
}

/// A regular's visits: three a week for eight weeks before `at`, each at the same local
/// hour as `at`, at every one of the brand's `fences` at the point (and so at the brand).
async fn regular_visits(
    habits: &InProcessHabits,
    person: &PersonId,
    brand: &BrandId,
    fences: &[Arc<FenceInfo>],
    at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(first) = fences.first() else {
        return Ok(());
    };
    for days_ago in regular_days().rev() {
        let t = at - Duration::days(days_ago);
        let hour = |f: &FenceInfo| t.with_timezone(&f.timezone).hour() as u8;
        let mut places: Vec<(Place, u8)> = fences
            .iter()
            .map(|f| (Place::Fence(f.id.to_string()), hour(f)))
            .collect();
        places.push((Place::Brand(brand.to_string()), hour(first)));
        let ms = t.timestamp_millis();
        habits
            // Visits only: the test person's last sighting is the try itself.
            .observe(person.as_str(), &places, None, &Track::default(), ms, ms)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
    }
    Ok(())
}

/// Days before the moment a regular came: 3, 5 and 7 days ago, and so on for eight weeks.
fn regular_days() -> impl DoubleEndedIterator<Item = i64> {
    (1..=8i64).flat_map(|week| [7 * week - 4, 7 * week - 2, 7 * week])
}

/// The test person's profile: follows, interests, and a regular's weekly purchase of the
/// usual item.
fn profile(p: &TestPersonInput, brand: &BrandId, at: DateTime<Utc>) -> Profile {
    let purchases = match (&p.usual_item, p.persona) {
        (Some(item), Persona::Regular) => (1..=8i64)
            .map(|week| Purchase {
                brand: brand.to_string(),
                sku: Some(item.trim().to_string()),
                category: None,
                at: at - Duration::days(7 * week),
            })
            .collect(),
        _ => Vec::new(),
    };
    Profile {
        follows: if p.follows_brand {
            vec![brand.clone()]
        } else {
            Vec::new()
        },
        interests: p.interests.iter().map(|i| i.trim().to_string()).collect(),
        purchases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_comes_three_times_a_week_within_the_habit_horizon() {
        let days: Vec<i64> = regular_days().collect();
        assert_eq!(days.len(), 24);
        assert!(days.iter().all(|d| *d > 0 && *d < 56 + 1));
        // 28 days before the moment hold 11 earlier visits: with this one, 3 a week.
        assert_eq!(days.iter().filter(|d| **d < 28).count(), 11);
    }
}
