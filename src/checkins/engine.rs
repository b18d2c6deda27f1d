//! The check-in decision, step by step: consent, validation, place, visits and habits,
//! staleness, motion and quiet hours, weather, targeting, scoring, holdout, claim, creative,
//! record. Sending nothing is the default; an offer goes out only when every step agrees.
//!
//! Still long (about 600 lines): `decide` and its steps live in one `impl`, the last file of
//! the check-in kitchen that issue 15 splits into one file per step. The trace is in
//! `trace.rs`, the answer and delivery in `answer.rs`.

pub use super::answer::claim_key;
use super::answer::{Rendered, deliver, none, offer_answer, replay};
use super::input::{Activity, CheckinInput, is_stale, validate};
use super::rules::{self, Moment, RuleOutcome, in_range};
use super::scoring;
use super::trace::Trace;
use super::writer::{DecisionRecord, DecisionWriter, DeliveryRecord};
use super::{CheckinAnswer, CheckinResponse, EngineMetrics};
use crate::catalog::{Catalog, FenceInfo};
use crate::clock::Clock;
use crate::decisions::trace::{CapDenial, CapHolder, LimiterAnswer, LimiterEntry, Outcome};
use crate::error::ApiError;
use crate::fences::index::FenceMatch;
use crate::habits::{HabitFeatures, Habits, Place, features};
use crate::limits::{Budget, Cap, Caps, ClaimOutcome, ClaimRequest, Limiter, Window};
use crate::offers::{Offer, creative};
use crate::people::gate::{Allowed, ConsentGate, Lookup};
use crate::people::{PersonId, Profile};
use crate::store::Store;
use crate::weather::{WeatherLookup, WeatherProvider};
use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// Deployment-wide decision settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Local quiet hours as minutes since midnight (from, to); `None` disables them.
    pub quiet_hours: Option<(u32, u32)>,
    /// Offers whose relevance is below this do not qualify (1.0: place alone is enough).
    pub min_relevance: f64,
    /// How far back purchases are read.
    pub profile_days: i64,
    /// Purchases in this window fill "the usual".
    pub usual_item_days: i64,
    /// Deployment default caps (an offer's own `caps.per_person` replaces the per-offer one).
    pub caps: Caps,
    /// A purchase suppresses offers for the same SKU or category this long.
    pub retargeting_days: i64,
    /// A dismissal cools its brand down this long.
    pub dismissal_cooldown_days: i64,
    /// A purchase at the brand this long after a delivery (or held-out decision) converts it.
    pub attribution_days: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            quiet_hours: Some((21 * 60, 8 * 60)),
            min_relevance: 1.0,
            profile_days: 365,
            usual_item_days: 90,
            caps: Caps::default(),
            retargeting_days: 30,
            dismissal_cooldown_days: 14,
            attribution_days: 7,
        }
    }
}

/// The decision engine and everything it consults.
pub struct Engine {
    /// Live fences and offers.
    pub catalog: Arc<Catalog>,
    /// Durable store.
    pub store: Arc<dyn Store>,
    /// Strict caps.
    pub limiter: Arc<dyn Limiter>,
    /// Consent without a store round trip (beside the limiter: Redis or in-process).
    pub consents: Arc<dyn ConsentGate>,
    /// Visits and habits.
    pub habits: Arc<dyn Habits>,
    /// Weather at the spot.
    pub weather: Arc<dyn WeatherProvider>,
    /// Group-commit writer of decisions.
    pub writer: DecisionWriter,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: EngineConfig,
    /// Counters.
    pub metrics: EngineMetrics,
}

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
    pub(super) fence: usize,
    pub(super) rules: Vec<RuleOutcome>,
    pub(super) eligible: bool,
    pub(super) relevance: f64,
    pub(super) score: f64,
    pub(super) outcome: Outcome,
}

impl Engine {
    /// Decides one check-in for `app`'s user.
    pub async fn decide(&self, app: &str, c: CheckinInput) -> Result<CheckinAnswer, ApiError> {
        let started = Instant::now();
        let now = self.clock.now();
        // 1. Consent first: without it nothing is processed or stored.
        crate::people::check_user_id(&c.user_id).map_err(|e| ApiError::invalid("/user_id", e))?;
        let person = PersonId::of(app, &c.user_id);
        let consent = self.consent(app, &c.user_id, &person).await?;
        if !consent.location {
            self.metrics.count("none", "consent-required");
            return Err(ApiError::ConsentRequired(format!(
                "user `{}` has not given location consent; PUT /v1/users/{{user_id}}/consent first",
                c.user_id
            )));
        }
        // 2. Validation.
        validate(&c, now)?;
        // 3. Place. No fence: answer and keep nothing about the location.
        let mut hits = Vec::new();
        self.catalog.lookup(c.lat, c.lon, c.accuracy_m, &mut hits);
        let mut matched: Vec<Matched> = hits
            .into_iter()
            .filter_map(|hit| self.catalog.fence(&hit.id).map(|info| (hit, info)))
            .map(|(hit, info)| {
                let local = c.recorded_at.with_timezone(&info.timezone);
                let minute = local.hour() * 60 + local.minute();
                let quiet = self
                    .config
                    .quiet_hours
                    .is_some_and(|(f, t)| in_range(minute, f, t));
                Matched {
                    hit,
                    info,
                    local,
                    quiet,
                    fence_habit: None,
                    brand_habit: None,
                }
            })
            .collect();
        if matched.is_empty() {
            self.metrics.count("none", "no-fence");
            return Ok(CheckinAnswer(
                CheckinResponse::none(&c.checkin_id, "no-fence").to_value(),
            ));
        }
        // A check-in id is one report of one user: the fingerprint tells a retry (answered
        // what was answered first) from a reuse of the id (409). Only fenced check-ins keep a
        // record, so only they need one.
        let fingerprint = c.fingerprint(app);
        let who = Subject {
            app,
            person: &person,
            c: &c,
            fingerprint: &fingerprint,
        };
        // A check-in decided before is answered from its record before anything about this
        // one is observed or claimed: retries never count twice, however long ago the hot
        // state forgot them. (Concurrent attempts meet in the limiter and the writer.)
        if let Some(prior) = self.store.prior_decision(app, &c.checkin_id).await? {
            self.metrics.count("replay", "prior-record");
            return replay(&c, &fingerprint, prior);
        }
        // Overload is answered here, before any visit is counted or any cap claimed.
        self.writer.admit()?;
        let mut trace = Trace::new(&c, now, consent.personalization);
        // 4. Visits and habits, only with personalization consent.
        if consent.personalization {
            self.observe_visits(&person, &c, &mut matched, now, &mut trace)
                .await;
        }
        let stale = is_stale(&c, now);
        // 5. Staleness, motion and quiet hours end the decision before any outside call.
        let early = if stale {
            Some("stale")
        } else if c.activity == Some(Activity::Automotive) {
            Some("in-motion")
        } else if matched.iter().all(|m| m.quiet) {
            Some("quiet-hours")
        } else {
            None
        };
        trace.fences(&matched);
        if let Some(reason) = early {
            let answer = none(&c, reason);
            return self.finish(who, now, started, answer, trace, None).await;
        }
        // 6. Candidates: the brands' offers attached to the fences that are not in quiet hours.
        let mut candidates = self.candidates(&matched);
        // The profile is a store read: only when personalization allows it and an offer uses it.
        let profile =
            if consent.personalization && candidates.iter().any(|x| x.offer.reads_profile()) {
                Some(
                    self.store
                        .profile(&person, now - Duration::days(self.config.profile_days))
                        .await?,
                )
            } else {
                None
            };
        let weather = if candidates
            .iter()
            .any(|x| x.offer.spec.targeting.weather.is_some())
        {
            self.weather.current(c.lat, c.lon).await
        } else {
            WeatherLookup::unknown("not-needed")
        };
        trace.weather(&weather);
        for cand in &mut candidates {
            let m = &matched[cand.fence];
            let moment = Moment {
                now,
                local: m.local,
                weather: &weather,
                fence_habit: m.fence_habit.as_ref(),
                brand_habit: m.brand_habit.as_ref(),
                profile: profile.as_ref(),
                speed_mps: c.speed_mps,
                activity: c.activity,
                retargeting_days: self.config.retargeting_days,
            };
            cand.rules = rules::evaluate(&cand.offer, &moment);
            cand.eligible = cand.rules.iter().all(|r| r.passed);
            cand.relevance = scoring::relevance(
                &cand.rules,
                scoring::depth(m.hit.edge_distance_m, m.info.radius_m),
            );
            cand.score = cand.offer.spec.value * cand.relevance;
            if cand.eligible && cand.relevance < self.config.min_relevance {
                cand.eligible = false;
                cand.outcome = Outcome::BelowRelevance {
                    relevance: cand.relevance,
                    min: self.config.min_relevance,
                };
            } else {
                cand.outcome = if cand.eligible {
                    Outcome::Eligible
                } else {
                    Outcome::Ineligible
                };
            }
        }
        // 7. Best first; ties by offer id so the same inputs give the same decision.
        candidates.sort_by(|a, b| {
            b.eligible
                .cmp(&a.eligible)
                .then(b.score.total_cmp(&a.score))
                .then(a.offer.id.cmp(&b.offer.id))
        });
        let (answer, granted) = self
            .claim(
                app,
                &person,
                &c,
                &matched,
                &mut candidates,
                profile.as_ref(),
                &weather,
                &mut trace,
            )
            .await;
        trace.candidates(&candidates, &matched);
        self.finish(who, now, started, answer, trace, granted).await
    }

    /// What the person allows: from the consent gate, or from the store (filling the gate).
    /// Check-ins and events both ask here.
    pub async fn consent(
        &self,
        app: &str,
        user_id: &str,
        person: &PersonId,
    ) -> Result<Allowed, ApiError> {
        let ticket = match self.consents.get(person).await {
            Lookup::Known(allowed) => return Ok(allowed),
            Lookup::Ask(ticket) => ticket,
        };
        let allowed = self
            .store
            .get_consent(app, user_id)
            .await?
            .map_or(Allowed::NOTHING, |c| Allowed::from(&c));
        if let Some(ticket) = ticket {
            self.consents.fill(person, ticket, allowed).await;
        }
        Ok(allowed)
    }

    async fn observe_visits(
        &self,
        person: &PersonId,
        c: &CheckinInput,
        matched: &mut [Matched],
        now: DateTime<Utc>,
        trace: &mut Trace,
    ) {
        let mut places: Vec<(Place, u8)> = Vec::new();
        for m in matched.iter() {
            let hour = m.local.hour() as u8;
            places.push((Place::Fence(m.info.id.to_string()), hour));
            let brand = Place::Brand(m.info.brand.to_string());
            if !places.iter().any(|(p, _)| *p == brand) {
                places.push((brand, hour));
            }
        }
        let at = c.recorded_at.timestamp_millis();
        match self
            .habits
            .observe(person.as_str(), &places, at, now.timestamp_millis())
            .await
        {
            Ok(histories) => {
                let by_place: HashMap<&Place, HabitFeatures> = places
                    .iter()
                    .map(|(p, _)| p)
                    .zip(histories.iter().map(|h| features(h, at)))
                    .collect();
                for m in matched.iter_mut() {
                    m.fence_habit = by_place.get(&Place::Fence(m.info.id.to_string())).cloned();
                    m.brand_habit = by_place
                        .get(&Place::Brand(m.info.brand.to_string()))
                        .cloned();
                }
            }
            // Unknown habits only mean habit-gated offers do not fire.
            Err(e) => trace.note(format!("habits unavailable: {e}")),
        }
    }

    fn candidates(&self, matched: &[Matched]) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        for (i, m) in matched.iter().enumerate().filter(|(_, m)| !m.quiet) {
            for offer in self.catalog.offers_of(&m.info.brand) {
                let targets = match &offer.spec.targeting.fences {
                    None => true,
                    Some(t) => {
                        t.ids.contains(&m.info.id)
                            || t.tags.iter().any(|tag| m.info.tags.contains(tag))
                    }
                };
                if !targets {
                    continue;
                }
                // One offer reachable through several fences: keep the fence the person is deepest in.
                match out.iter_mut().find(|x| x.offer.id == offer.id) {
                    Some(x) if matched[x.fence].hit.edge_distance_m < m.hit.edge_distance_m => {
                        x.fence = i
                    }
                    Some(_) => {}
                    None => out.push(Candidate {
                        offer,
                        fence: i,
                        rules: Vec::new(),
                        eligible: false,
                        relevance: 0.0,
                        score: 0.0,
                        outcome: Outcome::Ineligible,
                    }),
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    async fn claim(
        &self,
        app: &str,
        person: &PersonId,
        c: &CheckinInput,
        matched: &[Matched],
        candidates: &mut [Candidate],
        profile: Option<&Profile>,
        weather: &WeatherLookup,
        trace: &mut Trace,
    ) -> (Value, Option<Granted>) {
        let eligible = candidates.iter().filter(|x| x.eligible).count();
        if eligible == 0 {
            let moving = !candidates.is_empty()
                && candidates
                    .iter()
                    .all(|x| x.rules.iter().any(|r| r.rule.is_motion() && !r.passed));
            return (
                none(
                    c,
                    if moving {
                        "in-motion"
                    } else {
                        "no-eligible-offer"
                    },
                ),
                None,
            );
        }
        // Holdout: the best offer's control group gets nothing, and the decision says so.
        let best = &mut candidates[0];
        if scoring::held_out(
            person.as_str(),
            &best.offer.id.to_string(),
            best.offer.spec.holdout_pct,
        ) {
            best.outcome = Outcome::HeldOut {
                pct: best.offer.spec.holdout_pct,
            };
            let answer = CheckinResponse {
                offer_id: Some(best.offer.id),
                ..CheckinResponse::none(&c.checkin_id, "held-out")
            };
            return (answer.to_value(), None);
        }
        let claim_id = claim_key(app, &c.user_id, &c.checkin_id);
        let mut last_reason = "no-eligible-offer";
        for cand in candidates.iter_mut().filter(|x| x.eligible) {
            let m = &matched[cand.fence];
            // The copy first: an offer whose copy cannot be rendered within its bounds is
            // skipped here, before it can use up a cap or its budget.
            let copy = match self.copy(m, &cand.offer, profile, weather) {
                Ok(copy) => copy,
                Err(e) => {
                    tracing::warn!(offer = %cand.offer.id, error = %e, "offer copy cannot be rendered; offer skipped");
                    cand.outcome = Outcome::Skipped { reason: e };
                    continue;
                }
            };
            last_reason = "capped";
            let req = ClaimRequest {
                checkin_id: claim_id.clone(),
                person: person.as_str().to_string(),
                brand: cand.offer.brand.to_string(),
                offer_id: cand.offer.id.to_string(),
                fence_id: m.info.id.to_string(),
                caps: self.caps_for(&cand.offer),
                budget: Budget {
                    total: cand.offer.spec.budget.total,
                    daily: cand.offer.spec.budget.daily,
                },
            };
            match self.limiter.claim(&req).await {
                Ok(ClaimOutcome::Granted { at, replayed }) => {
                    self.metrics.grant();
                    cand.outcome = Outcome::Delivered { replayed };
                    trace.limiter(LimiterEntry {
                        offer_id: cand.offer.id,
                        answer: LimiterAnswer::Granted { at, replayed },
                    });
                    let delivery = deliver(app, c, m, &cand.offer, at, copy);
                    let answer = offer_answer(c, &delivery, &cand.offer, &m.info);
                    let fresh = (!replayed).then_some((req, at));
                    return (answer, Some(Granted { delivery, fresh }));
                }
                Ok(ClaimOutcome::Denied(denial)) => {
                    self.metrics.denial(denial.cap.as_str());
                    cand.outcome = Outcome::Capped {
                        cap: denial.cap.as_str().to_string(),
                    };
                    let person_wide = matches!(
                        denial.cap,
                        Cap::PersonDay | Cap::PersonWeek | Cap::CheckinAlreadyServed
                    );
                    trace.limiter(LimiterEntry {
                        offer_id: cand.offer.id,
                        answer: LimiterAnswer::Denied {
                            denial: cap_denial(denial),
                        },
                    });
                    // A person-wide cap blocks every other offer too: stop asking.
                    if person_wide {
                        break;
                    }
                }
                Err(e) => {
                    // Fail closed: never deliver unchecked.
                    self.metrics.limiter_error();
                    cand.outcome = Outcome::LimiterUnavailable;
                    trace.limiter(LimiterEntry {
                        offer_id: cand.offer.id,
                        answer: LimiterAnswer::Error {
                            error: e.to_string(),
                        },
                    });
                    last_reason = "limiter-unavailable";
                    break;
                }
            }
        }
        (none(c, last_reason), None)
    }

    fn caps_for(&self, offer: &Offer) -> Caps {
        let mut caps = self.config.caps;
        if let Some(p) = &offer.spec.caps.per_person {
            caps.person_offer = match p.period_days {
                Some(d) => Window::per_days(p.count, u64::from(d)),
                None => Window {
                    count: p.count,
                    ..Window::once_ever()
                },
            };
        }
        caps
    }

    /// The offer's title and body for this moment, each within its bound.
    fn copy(
        &self,
        m: &Matched,
        offer: &Offer,
        profile: Option<&Profile>,
        weather: &WeatherLookup,
    ) -> Result<Rendered, String> {
        let usual = profile.and_then(|p| {
            p.usual_item(
                &offer.brand,
                self.clock.now() - Duration::days(self.config.usual_item_days),
            )
        });
        let weather_ctx = match weather {
            WeatherLookup::Known(w) => {
                json!({"temp_c": w.temp_c, "feels_like_c": w.feels_like_c, "condition": w.condition.as_str()})
            }
            WeatherLookup::Unknown { .. } => json!({}),
        };
        let ctx = minijinja::Value::from(minijinja::value::Serde(json!({
            "fence": {"name": m.info.name},
            "brand": {"name": self.catalog.brand_name(&offer.brand).unwrap_or_else(|| offer.brand.to_string())},
            "weather": weather_ctx,
            "habit": {"usual_item": usual, "visits_per_week": m.fence_habit.as_ref().map(|h| h.visits_per_week)},
            "distance_m": m.hit.center_distance_m.unwrap_or(0.0).round(),
            "local_time": m.local.format("%H:%M").to_string(),
        })));
        Ok(Rendered {
            title: creative::render(&offer.spec.title, &ctx, creative::Part::Title)
                .map_err(|e| format!("title: {e}"))?,
            body: creative::render(&offer.spec.body, &ctx, creative::Part::Body)
                .map_err(|e| format!("body: {e}"))?,
        })
    }

    async fn finish(
        &self,
        who: Subject<'_>,
        now: DateTime<Utc>,
        started: Instant,
        answer: Value,
        trace: Trace,
        granted: Option<Granted>,
    ) -> Result<CheckinAnswer, ApiError> {
        let Subject {
            app,
            person,
            c,
            fingerprint,
        } = who;
        let (delivery, fresh) = granted.map_or((None, None), |g| (Some(g.delivery), g.fresh));
        let latency_us = started.elapsed().as_micros() as i64;
        let (trace, mut brands) = trace.finish(&answer, latency_us);
        // The delivered offer's brand too, whichever fence it was triggered at.
        if let Some(d) = &delivery
            && !brands.contains(&d.brand)
        {
            brands.push(d.brand.clone());
        }
        let reason = answer["reason"].as_str().map(str::to_string);
        let decision = if delivery.is_some() { "offer" } else { "none" };
        self.metrics
            .count(decision, reason.as_deref().unwrap_or("delivered"));
        self.metrics.latency(latency_us);
        let record = DecisionRecord {
            app: app.to_string(),
            checkin_id: c.checkin_id.clone(),
            fingerprint: fingerprint.to_string(),
            person: person.as_str().to_string(),
            user_id: c.user_id.clone(),
            at: now,
            decision,
            reason,
            // Held-out decisions keep the offer too: they are the control group of its results.
            offer_id: delivery.as_ref().map(|d| d.offer_id).or_else(|| {
                answer["offer_id"]
                    .as_str()
                    .and_then(|o| Uuid::parse_str(o).ok())
            }),
            delivery,
            response: answer.clone(),
            trace: super::writer::pack_trace(&trace),
            brands,
            latency_us,
        };
        // The delivery is durable before the response that carries it leaves. A retry gets
        // the first answer back, whatever this attempt computed (its claims replayed, so it
        // counted nothing).
        let saved = self.writer.write(record).await?;
        let Some(prior) = saved else {
            return Ok(CheckinAnswer(answer));
        };
        let answer = replay(c, fingerprint, prior);
        // Another report took this check-in id first: a grant this attempt made on the
        // user's caps and the offer's budget is given back, so the refused request changed
        // nothing. (A grant replayed from the first attempt is that attempt's, and stays.)
        if answer.is_err()
            && let Some((req, at)) = fresh
            && let Err(e) = self.limiter.release(&req, at).await
        {
            // The slot stays taken until its window ends: under-delivery, never over.
            tracing::warn!(error = %e, "could not release the claim of a reused check-in id");
        }
        answer
    }
}

/// A granted offer: its delivery and, for a fresh grant (not a replay), the claim to give
/// back if the decision turns out not to be this report's.
struct Granted {
    delivery: DeliveryRecord,
    fresh: Option<(ClaimRequest, DateTime<Utc>)>,
}

/// Who a decision is for: the app, its user's pseudonym, the report and its fingerprint.
#[derive(Clone, Copy)]
struct Subject<'a> {
    app: &'a str,
    person: &'a PersonId,
    c: &'a CheckinInput,
    fingerprint: &'a str,
}

/// A cap's refusal as the trace keeps it.
fn cap_denial(d: crate::limits::Denial) -> CapDenial<'static> {
    CapDenial {
        cap: d.cap.as_str().into(),
        limit: d.limit,
        period_ms: d
            .period
            .map(|p| u64::try_from(p.as_millis()).unwrap_or(u64::MAX)),
        held_by: d.held_by.map(|h| CapHolder {
            offer_id: Some(h.offer_id),
            checkin_id: Some(h.checkin_id),
            at: Some(h.at),
            other_brand: false,
        }),
        until: d.until,
    }
}
