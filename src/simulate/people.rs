//! The simulated people and their weeks: a home and a workplace somewhere in the city, a
//! commute on weekdays (home, on the way, work, lunch nearby, back), a favourite store
//! visited on the same 1–3 weekdays at a habitual hour with dwell pings every few minutes,
//! a weekend shopping trip and random errands. Most check-ins fall outside every fence
//! (and so keep nothing); some fall inside.
//!
//! Each person is drawn from their own seeded generator (the run's seed and their index),
//! so a person's life does not depend on how many others there are.

use super::world::{CityMap, offset};
use crate::domain::Activity;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// One simulated person.
#[derive(Debug, Clone)]
pub struct Person {
    /// Index (stable for a seed).
    pub index: usize,
    /// The app's user id.
    pub user_id: String,
    /// Has allowed personalization (habits, follows, interests)?
    pub personalization: bool,
    /// Brands followed.
    pub follows: Vec<String>,
    /// Stated interests.
    pub interests: Vec<String>,
    home: (f64, f64),
    work: (f64, f64),
    /// Works on weekdays (else stays around home).
    commutes: bool,
    /// Drives to work (its on-the-way ping is `automotive`).
    drives: bool,
    /// (fence, weekdays bit 0 = Monday, local minute of the day).
    favourite: Option<(usize, u8, u32)>,
    seed: u64,
}

/// One check-in of a person, before it becomes a report.
#[derive(Debug, Clone)]
pub struct Ping {
    /// When (the report is sent at once: recorded_at = now).
    pub at: DateTime<Utc>,
    /// Whose ([`Person::index`]).
    pub person: usize,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Accuracy, metres.
    pub accuracy_m: f64,
    /// Speed, m/s.
    pub speed_mps: Option<f64>,
    /// Activity.
    pub activity: Activity,
}

/// The seed of person `index`'s generator.
fn person_seed(seed: u64, index: usize, stream: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (index as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ stream.wrapping_mul(0x94D0_49BB_1331_11EB)
}

/// A point within `r` metres of `(lat, lon)`.
fn near(rng: &mut StdRng, (lat, lon): (f64, f64), r: f64) -> (f64, f64) {
    let d = r * rng.random::<f64>().sqrt();
    let a = rng.random_range(0.0..std::f64::consts::TAU);
    offset(lat, lon, d * a.sin(), d * a.cos())
}

/// A point anywhere in the city (its extent, padded by 500 m).
fn anywhere(rng: &mut StdRng, map: &CityMap) -> (f64, f64) {
    let (s, w) = offset(map.min.0, map.min.1, -500.0, -500.0);
    let (n, e) = offset(map.max.0, map.max.1, 500.0, 500.0);
    (rng.random_range(s..n), rng.random_range(w..e))
}

impl Person {
    /// Person `index` of the run with `seed`.
    pub fn generate(map: &CityMap, seed: u64, index: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(person_seed(seed, index, 0));
        let mut stores = map.tagged(&["corner-store", "cafe", "kiosk"]);
        if stores.is_empty() {
            // A world without those tags (the generated one): any fence can be a favourite.
            stores = (0..map.fences.len()).collect();
        }
        let home = anywhere(&mut rng, map);
        // Some work right beside a store (so lunch lands in a fence), most anywhere.
        let work = if rng.random_bool(0.3) && !stores.is_empty() {
            let f = &map.fences[stores[rng.random_range(0..stores.len())]];
            near(&mut rng, (f.lat, f.lon), 250.0)
        } else {
            anywhere(&mut rng, map)
        };
        let favourite = (rng.random_bool(0.7) && !stores.is_empty()).then(|| {
            let fence = stores[rng.random_range(0..stores.len())];
            let mut days = 0u8;
            for _ in 0..rng.random_range(1..=3) {
                days |= 1 << rng.random_range(0..7);
            }
            let minute = rng.random_range(7 * 60..20 * 60);
            (fence, days, minute)
        });
        let personalization = rng.random_bool(0.85);
        let brands: Vec<&str> = {
            let mut b: Vec<&str> = map.fences.iter().map(|f| f.brand.as_str()).collect();
            b.dedup();
            b
        };
        let follows = brands
            .iter()
            .filter(|_| rng.random_bool(0.25))
            .map(|b| b.to_string())
            .collect();
        let interests = match rng.random_range(0..8) {
            0 => vec!["home-decor".to_string()],
            1 => vec!["lighting".to_string(), "design".to_string()],
            2 => vec!["cold-drinks".to_string()],
            _ => Vec::new(),
        };
        Self {
            index,
            user_id: format!("sim-{index:06}"),
            personalization,
            follows,
            interests,
            home,
            work,
            commutes: rng.random_bool(0.8),
            drives: rng.random_bool(0.3),
            favourite,
            seed: person_seed(seed, index, 1),
        }
    }

    /// The person's check-ins in the week starting on `monday` (local dates of `map`).
    pub fn week(&self, map: &CityMap, monday: NaiveDate, week: u32) -> Vec<Ping> {
        let mut rng = StdRng::seed_from_u64(self.seed ^ u64::from(week).wrapping_mul(0x1F3D));
        let mut out = Vec::new();
        let tz = map.timezone;
        let at = |day: i64, minute: u32| -> Option<DateTime<Utc>> {
            let date = monday + Duration::days(day);
            let time = NaiveTime::from_num_seconds_from_midnight_opt(minute * 60, 0)?;
            let local = tz.from_local_datetime(&date.and_time(time)).earliest()?;
            Some(local.with_timezone(&Utc))
        };
        let mut ping = |rng: &mut StdRng, day: i64, minute: u32, p: (f64, f64), act: Activity| {
            let Some(t) = at(day, minute) else { return };
            let (speed, accuracy) = match act {
                Activity::Automotive => (Some(rng.random_range(6.0..15.0)), 20.0),
                Activity::Walking => (Some(rng.random_range(1.0..1.6)), 12.0),
                _ => (Some(rng.random_range(0.0..0.5)), 8.0),
            };
            out.push(Ping {
                at: t + Duration::seconds(rng.random_range(0..60)),
                person: self.index,
                lat: p.0,
                lon: p.1,
                accuracy_m: (accuracy * rng.random_range(0.6..2.0f64)).round(),
                speed_mps: speed,
                activity: act,
            });
        };
        for day in 0..7i64 {
            let weekday = day < 5;
            let jitter = |rng: &mut StdRng| rng.random_range(0..30u32);
            if weekday && self.commutes {
                let j = jitter(&mut rng);
                ping(&mut rng, day, 7 * 60 + 20 + j, self.home, Activity::Still);
                let mid = (
                    (self.home.0 + self.work.0) / 2.0,
                    (self.home.1 + self.work.1) / 2.0,
                );
                let how = if self.drives {
                    Activity::Automotive
                } else {
                    Activity::Walking
                };
                ping(&mut rng, day, 8 * 60 + 10 + j, mid, how);
                ping(&mut rng, day, 9 * 60 + j, self.work, Activity::Still);
                let lunch = near(&mut rng, self.work, 300.0);
                ping(&mut rng, day, 12 * 60 + 20 + j, lunch, Activity::Walking);
                ping(
                    &mut rng,
                    day,
                    17 * 60 + 30 + j,
                    self.work,
                    Activity::Walking,
                );
                ping(&mut rng, day, 18 * 60 + 40 + j, self.home, Activity::Still);
            } else {
                let j = jitter(&mut rng);
                ping(&mut rng, day, 10 * 60 + j, self.home, Activity::Still);
                ping(&mut rng, day, 19 * 60 + j, self.home, Activity::Still);
            }
            // The favourite store on its days, at the habitual time, with dwell pings.
            if let Some((fence, days, minute)) = self.favourite
                && days & (1 << day) != 0
            {
                let f = &map.fences[fence];
                let start = minute + rng.random_range(0..20);
                for k in 0..rng.random_range(2..=4u32) {
                    let p = near(&mut rng, (f.lat, f.lon), f.inner_m);
                    ping(&mut rng, day, start + 5 * k, p, Activity::Still);
                }
            }
            // Saturday: a shopping trip to one or two stores of any kind.
            if day == 5 && rng.random_bool(0.6) {
                for _ in 0..rng.random_range(1..=2) {
                    let f = &map.fences[rng.random_range(0..map.fences.len())];
                    let start = rng.random_range(11 * 60..17 * 60);
                    for k in 0..rng.random_range(1..=3u32) {
                        let p = near(&mut rng, (f.lat, f.lon), f.inner_m);
                        ping(&mut rng, day, start + 6 * k, p, Activity::Walking);
                    }
                }
            }
        }
        // Errands: a few a week, anywhere in the city or at a fence, any time of day.
        for _ in 0..rng.random_range(0..=3) {
            let day = rng.random_range(0..7i64);
            let minute = rng.random_range(8 * 60..23 * 60);
            let p = if rng.random_bool(0.3) {
                let f = &map.fences[rng.random_range(0..map.fences.len())];
                near(&mut rng, (f.lat, f.lon), f.inner_m * 2.0)
            } else {
                anywhere(&mut rng, map)
            };
            ping(&mut rng, day, minute, p, Activity::Walking);
        }
        out
    }
}
