//! Everything the twin keeps about one person: the in-process twin of claim.lua's keys.

use std::collections::HashMap;

use chrono::DateTime;

use super::log::SlidingLog;
use crate::limits::{BudgetWindow, Cap, ClaimOutcome, ClaimRequest, Denial, Holder};

/// A brand's, offer's or fence's log, or an empty one when there is none yet.
fn log_of<'a>(
    map: &'a HashMap<String, SlidingLog>,
    id: &str,
    empty: &'a SlidingLog,
) -> &'a SlidingLog {
    map.get(id).unwrap_or(empty)
}

/// The answers given to one check-in (idempotency record).
#[derive(Debug)]
pub(super) struct CheckinRecord {
    expires_ms: i64,
    answers: HashMap<String, ClaimOutcome>,
    served: Option<Holder>,
}

/// One person's logs, cool-downs and check-in records.
#[derive(Debug, Default)]
pub(super) struct Person {
    all: SlidingLog,
    brands: HashMap<String, SlidingLog>,
    offers: HashMap<String, SlidingLog>,
    fences: HashMap<String, SlidingLog>,
    /// Brand -> end of the cool-down (ms).
    cooldowns: HashMap<String, i64>,
    checkins: HashMap<String, CheckinRecord>,
}

/// What a person's caps say about one claim.
pub(super) enum Verdict {
    /// The first answer for this (check-in, offer), to replay as is.
    Replay(ClaimOutcome),
    /// Refused by a personal cap (already recorded as the answer).
    Denied(Denial),
    /// Every personal cap has room; the caller still checks the budget.
    Open,
}

impl Person {
    /// Checks the personal caps in claim.lua's order, recording a refusal as the answer.
    pub(super) fn check(&mut self, req: &ClaimRequest, now_ms: i64, ttl_ms: i64) -> Verdict {
        self.checkins.retain(|_, r| r.expires_ms > now_ms);
        if let Some(answer) = self
            .checkins
            .get(&req.checkin_id)
            .and_then(|r| r.answers.get(&req.offer_id))
        {
            return Verdict::Replay(match answer.clone() {
                ClaimOutcome::Granted { at, exhausted, .. } => ClaimOutcome::Granted {
                    at,
                    replayed: true,
                    exhausted,
                },
                denied => denied,
            });
        }
        let served = self
            .checkins
            .get(&req.checkin_id)
            .and_then(|r| r.served.clone());
        let denial = match served {
            Some(holder) => Some(Denial {
                cap: Cap::CheckinAlreadyServed,
                limit: 1,
                period: None,
                held_by: Some(holder),
                until: None,
            }),
            None => self.check_caps(req, now_ms),
        };
        match denial {
            Some(denial) => {
                self.answer(req, ClaimOutcome::Denied(denial.clone()), now_ms, ttl_ms);
                Verdict::Denied(denial)
            }
            None => Verdict::Open,
        }
    }

    /// The personal cap or cool-down that refuses `req` now, if any (reads only).
    pub(super) fn check_caps(&self, req: &ClaimRequest, now_ms: i64) -> Option<Denial> {
        if let Some(until) = self.cooldowns.get(&req.brand).filter(|u| **u > now_ms) {
            return Some(Denial {
                cap: Cap::BrandCooldown,
                limit: 0,
                period: None,
                held_by: None,
                until: DateTime::from_timestamp_millis(*until),
            });
        }
        let caps = &req.caps;
        let empty = SlidingLog::default();
        let checks = [
            (&self.all, caps.person_day, Cap::PersonDay),
            (&self.all, caps.person_week, Cap::PersonWeek),
            (
                log_of(&self.brands, &req.brand, &empty),
                caps.person_brand,
                Cap::PersonBrand,
            ),
            (
                log_of(&self.offers, &req.offer_id, &empty),
                caps.person_offer,
                Cap::PersonOffer,
            ),
            (
                log_of(&self.fences, &req.fence_id, &empty),
                caps.person_fence,
                Cap::PersonFence,
            ),
        ];
        checks
            .into_iter()
            .find_map(|(log, window, cap)| log.check(window, cap, now_ms))
    }

    /// Records a grant in every log and as the check-in's answer (with the budget window it
    /// used up, so a retry reports that again, as budget.lua does).
    pub(super) fn grant(
        &mut self,
        req: &ClaimRequest,
        now_ms: i64,
        ttl_ms: i64,
        exhausted: Option<BudgetWindow>,
    ) -> ClaimOutcome {
        let caps = &req.caps;
        let (checkin, offer) = (req.checkin_id.as_str(), req.offer_id.as_str());
        let all_ms = caps
            .person_day
            .period_ms()
            .max(caps.person_week.period_ms());
        self.all.record(all_ms, now_ms, checkin, offer);
        for (map, id, window) in [
            (&mut self.brands, &req.brand, caps.person_brand),
            (&mut self.offers, &req.offer_id, caps.person_offer),
            (&mut self.fences, &req.fence_id, caps.person_fence),
        ] {
            if window.period_ms() > 0 {
                let log = map.entry(id.clone()).or_default();
                log.record(window.period_ms(), now_ms, checkin, offer);
            }
        }
        let at = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        let outcome = ClaimOutcome::Granted {
            at,
            replayed: false,
            exhausted,
        };
        self.answer(req, outcome.clone(), now_ms, ttl_ms);
        if let Some(record) = self.checkins.get_mut(checkin) {
            record.served = Some(Holder {
                offer_id: offer.to_owned(),
                checkin_id: checkin.to_owned(),
                at,
            });
        }
        outcome
    }

    /// Stores the first answer for (check-in, offer) and renews the record's life.
    pub(super) fn answer(
        &mut self,
        req: &ClaimRequest,
        outcome: ClaimOutcome,
        now_ms: i64,
        ttl_ms: i64,
    ) {
        let record = self
            .checkins
            .entry(req.checkin_id.clone())
            .or_insert_with(|| CheckinRecord {
                expires_ms: 0,
                answers: HashMap::new(),
                served: None,
            });
        record.expires_ms = now_ms.saturating_add(ttl_ms);
        record.answers.insert(req.offer_id.clone(), outcome);
    }

    /// Undoes a grant of `req`'s offer to its check-in: its entries leave every log, and
    /// the check-in's answer for the offer becomes a `checkin-id-reused` refusal.
    pub(super) fn release(&mut self, req: &ClaimRequest) {
        let Some(record) = self.checkins.get_mut(&req.checkin_id) else {
            return;
        };
        if !matches!(
            record.answers.get(&req.offer_id),
            Some(ClaimOutcome::Granted { .. })
        ) {
            return;
        }
        record.answers.insert(
            req.offer_id.clone(),
            ClaimOutcome::Denied(Denial {
                cap: Cap::CheckinIdReused,
                limit: 0,
                period: None,
                held_by: None,
                until: None,
            }),
        );
        if record
            .served
            .as_ref()
            .is_some_and(|h| h.offer_id == req.offer_id)
        {
            record.served = None;
        }
        let (checkin, offer) = (req.checkin_id.as_str(), req.offer_id.as_str());
        self.all.remove(checkin, offer);
        for (map, id) in [
            (&mut self.brands, &req.brand),
            (&mut self.offers, &req.offer_id),
            (&mut self.fences, &req.fence_id),
        ] {
            if let Some(log) = map.get_mut(id) {
                log.remove(checkin, offer);
            }
        }
    }

    /// Starts or extends a cool-down; never shortens one.
    pub(super) fn cool_down(&mut self, brand: &str, until_ms: i64) {
        let current = self.cooldowns.entry(brand.to_owned()).or_insert(until_ms);
        *current = (*current).max(until_ms);
    }

    /// Drops whatever has expired; true when nothing is left (the person can go).
    pub(super) fn expire(&mut self, now_ms: i64) -> bool {
        self.checkins.retain(|_, r| r.expires_ms > now_ms);
        self.cooldowns.retain(|_, until| *until > now_ms);
        for map in [&mut self.brands, &mut self.offers, &mut self.fences] {
            map.retain(|_, log| !log.is_expired(now_ms));
            map.shrink_to_fit();
        }
        // A person who got an offer stays for the cap's window (days); the tables that held
        // their expired check-in answers need not.
        self.checkins.shrink_to_fit();
        self.cooldowns.shrink_to_fit();
        self.checkins.is_empty()
            && self.cooldowns.is_empty()
            && self.brands.is_empty()
            && self.offers.is_empty()
            && self.fences.is_empty()
            && self.all.is_expired(now_ms)
    }
}
