//! Simulated people: a home, a workplace and one to three regular stores visited on a weekly
//! rhythm. Their week is compressed: each check-in is the next stop of the person's week
//! (eight stops a day), sent now with the real clock, so the generator models who is where.

use crate::world::{World, distance_m, normal, offset, pick_city};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

/// Stops per simulated day.
pub const STOPS_PER_DAY: u32 = 8;

/// When in the day a regular visits a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Lunch,
    Evening,
}

/// A regular store: where, which weekdays (bit 0 = Monday) and when.
#[derive(Debug, Clone)]
pub struct RegularStore {
    /// Index into [`World::fences`].
    pub fence: usize,
    days: u8,
    slot: Slot,
}

/// One simulated person.
#[derive(Debug, Clone)]
pub struct Person {
    /// The app's user id.
    pub id: String,
    home: (f64, f64),
    work: (f64, f64),
    /// One to three stores they frequent.
    pub stores: Vec<RegularStore>,
    /// Next stop of the compressed week (any u32; the week wraps).
    stop: u32,
    seed: u64,
    /// Events to send before the next check-in (opens, dismissals, redemptions, purchases).
    pub pending: Vec<Value>,
}

/// Where a person is and how they move, as a check-in reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Horizontal accuracy, metres.
    pub accuracy_m: f64,
    /// Speed, m/s.
    pub speed_mps: f64,
    /// `still`, `walking` or `automotive`.
    pub activity: &'static str,
    /// The regular store visited at this stop, if any (index into `stores`).
    pub at_store: Option<usize>,
}

impl Person {
    /// Generates person `i` of the world, deterministic for a seed.
    pub fn generate(world: &World, seed: u64, i: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let city = pick_city(&world.cities, &mut rng);
        let c = &world.cities[city];
        let near_centre = |rng: &mut StdRng, spread: f64| {
            let (lat, lon) = c.centres[rng.random_range(0..c.centres.len())];
            offset(lat, lon, normal(rng) * spread, normal(rng) * spread)
        };
        let home = near_centre(&mut rng, c.spread_m * 3.0);
        let work = near_centre(&mut rng, c.spread_m);
        let pool = &world.fences_by_city[city];
        let n = rng.random_range(1..=3usize);
        let mut stores = Vec::new();
        for k in 0..n {
            if pool.is_empty() {
                break;
            }
            // The nearest of a few random stores to home (or work): people shop close by.
            let anchor = if k.is_multiple_of(2) { home } else { work };
            let fence = (0..48)
                .map(|_| pool[rng.random_range(0..pool.len())])
                .min_by(|a, b| {
                    let fa = &world.fences[*a];
                    let fb = &world.fences[*b];
                    distance_m(anchor, (fa.lat, fa.lon))
                        .total_cmp(&distance_m(anchor, (fb.lat, fb.lon)))
                })
                .unwrap_or(pool[0]);
            let mut days = 0u8;
            for _ in 0..rng.random_range(1..=3) {
                days |= 1 << rng.random_range(0..7);
            }
            let slot = if rng.random_bool(0.5) {
                Slot::Lunch
            } else {
                Slot::Evening
            };
            stores.push(RegularStore { fence, days, slot });
        }
        Self {
            id: format!("lt-u{i}"),
            home,
            work,
            stores,
            stop: rng.random_range(0..7 * STOPS_PER_DAY),
            seed: rng.random(),
            pending: Vec::new(),
        }
    }

    /// The next stop of the person's week, advancing the simulated clock.
    pub fn next_position(&mut self, world: &World) -> Position {
        let k = self.stop;
        self.stop = self.stop.wrapping_add(1);
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ u64::from(k).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let day = (k / STOPS_PER_DAY) % 7;
        let slot = k % STOPS_PER_DAY;
        let weekend = day >= 5;
        let store_now = |s: Slot| {
            self.stores
                .iter()
                .position(|st| st.days & (1 << day) != 0 && (st.slot == s || weekend))
        };
        let still = |rng: &mut StdRng, at: (f64, f64)| {
            let (lat, lon) = offset(at.0, at.1, normal(rng) * 8.0, normal(rng) * 8.0);
            Position {
                lat,
                lon,
                accuracy_m: rng.random_range(8.0..30.0f64).round(),
                speed_mps: 0.0,
                activity: "still",
                at_store: None,
            }
        };
        let walk = |rng: &mut StdRng, at: (f64, f64)| {
            let r = rng.random_range(100.0..800.0);
            let a: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let (lat, lon) = offset(at.0, at.1, r * a.cos(), r * a.sin());
            Position {
                lat,
                lon,
                accuracy_m: rng.random_range(8.0..25.0f64).round(),
                speed_mps: rng.random_range(0.9..1.7),
                activity: "walking",
                at_store: None,
            }
        };
        let store = |rng: &mut StdRng, idx: usize| {
            let f = &world.fences[self.stores[idx].fence];
            let (lat, lon) = offset(
                f.lat,
                f.lon,
                normal(rng) * f.radius_m * 0.25,
                normal(rng) * f.radius_m * 0.25,
            );
            Position {
                lat,
                lon,
                accuracy_m: rng.random_range(5.0..15.0f64).round(),
                speed_mps: rng.random_range(0.0..0.8),
                activity: if rng.random_bool(0.5) {
                    "still"
                } else {
                    "walking"
                },
                at_store: Some(idx),
            }
        };
        let commute = |rng: &mut StdRng, from: (f64, f64), to: (f64, f64)| {
            let t: f64 = rng.random();
            let at = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            let mut p = still(rng, at);
            if rng.random_bool(0.4) {
                p.speed_mps = rng.random_range(6.0..15.0);
                p.activity = "automotive";
            } else {
                p.speed_mps = rng.random_range(1.0..1.6);
                p.activity = "walking";
            }
            p
        };
        match (weekend, slot) {
            (_, 0) | (_, 7) => still(&mut rng, self.home),
            (false, 1) => commute(&mut rng, self.home, self.work),
            (false, 2) | (false, 4) => still(&mut rng, self.work),
            (false, 3) => match store_now(Slot::Lunch) {
                Some(i) => store(&mut rng, i),
                None => walk(&mut rng, self.work),
            },
            (false, 5) => commute(&mut rng, self.work, self.home),
            (false, _) => match store_now(Slot::Evening) {
                Some(i) => store(&mut rng, i),
                None => still(&mut rng, self.home),
            },
            (true, 3) => match store_now(Slot::Lunch) {
                Some(i) => store(&mut rng, i),
                None => walk(&mut rng, self.home),
            },
            (true, _) => walk(&mut rng, self.home),
        }
    }

    /// Reacts to a delivered offer the way some people do: opens half, redeems or dismisses
    /// some of those (queued, sent before the person's next check-in).
    pub fn react_to_offer(&mut self, delivery_id: &str, code: Option<&str>, draw: [f64; 2]) {
        if draw[0] >= 0.5 {
            return;
        }
        self.pending.push(event(
            &self.id,
            json!({ "type": "offer_opened", "delivery_id": delivery_id }),
        ));
        if draw[1] < 0.25 {
            let mut e = json!({ "type": "offer_redeemed", "delivery_id": delivery_id });
            if let Some(c) = code {
                e["redemption_code"] = json!(c);
            }
            self.pending.push(event(&self.id, e));
        } else if draw[1] < 0.45 {
            self.pending.push(event(
                &self.id,
                json!({ "type": "offer_dismissed", "delivery_id": delivery_id }),
            ));
        }
    }

    /// Queues an in-store purchase at a brand (about one visit in six buys something).
    pub fn purchase(&mut self, brand: &str, sku_draw: u32) {
        let (sku, category) = [
            ("cola-330", "soft-drinks"),
            ("iced-tea-500", "iced-tea"),
            ("flat-white", "coffee"),
            ("desk-lamp", "lamps"),
        ][sku_draw as usize % 4];
        self.pending.push(event(
            &self.id,
            json!({ "type": "purchase", "brand": brand, "sku": sku, "category": category,
                    "channel": "in_store", "amount": 3.5, "currency": "USD" }),
        ));
    }
}

fn event(user: &str, mut body: Value) -> Value {
    body["event_id"] = json!(uuid::Uuid::new_v4().to_string());
    body["user_id"] = json!(user);
    body["occurred_at"] = json!(chrono::Utc::now().to_rfc3339());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_of_stops_visits_every_regular_store_on_its_days() {
        let world = World::generate(3, 4, 2_000, vec![]);
        let mut visits = 0;
        let mut people = 0;
        for i in 0..50 {
            let mut p = Person::generate(&world, 3, i);
            let expected_days: u32 = p.stores.iter().map(|s| s.days.count_ones()).sum();
            let mut seen = 0;
            for _ in 0..7 * STOPS_PER_DAY {
                let pos = p.next_position(&world);
                if let Some(s) = pos.at_store {
                    seen += 1;
                    let f = &world.fences[p.stores[s].fence];
                    assert!(distance_m((pos.lat, pos.lon), (f.lat, f.lon)) < f.radius_m * 1.5);
                }
            }
            assert!(
                seen >= 1 && seen as u32 <= expected_days * 2,
                "{seen} visits for {expected_days} store-days"
            );
            visits += seen;
            people += 1;
        }
        assert!(visits >= people);
    }

    #[test]
    fn reactions_queue_events_for_the_delivery() {
        let world = World::generate(3, 2, 100, vec![]);
        let mut p = Person::generate(&world, 3, 0);
        p.react_to_offer("d1", Some("LT-1"), [0.1, 0.1]);
        let types: Vec<_> = p
            .pending
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, vec!["offer_opened", "offer_redeemed"]);
        p.react_to_offer("d2", None, [0.9, 0.1]);
        assert_eq!(p.pending.len(), 2);
    }
}
