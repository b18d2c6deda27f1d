//! Seasonal weather for simulations (`geoffer simulate`): a made-up but plausible climate,
//! deterministic for a seed. There is no recorded series of a whole month to replay, so the
//! weather at a place and hour is drawn from the seed, the 0.1° cell, the day and the hour:
//!
//! - temperature: a yearly curve (coldest in late January, warmest in late July, for the
//!   northern hemisphere; mirrored south of the equator), a day-to-day anomaly shared by
//!   the city (±6 °C), a daily cycle (coolest before dawn, warmest mid-afternoon, local
//!   solar time from the longitude) and a little per-cell noise;
//! - conditions: one weather regime per day (clear, cloudy or wet, by season), wet hours
//!   within a wet day, snow when it is wet and below 1 °C, afternoon thunderstorms on hot
//!   wet summer days, morning fog now and then.
//!
//! The defaults (`Climate::temperate`) resemble a mid-latitude coastal city (New York:
//! about 0 °C in January, 25 °C in July).

use super::{Condition, Weather, WeatherLookup, WeatherProvider, reason, valid_coordinates};
use crate::clock::Clock;
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use std::sync::Arc;

/// The yearly shape of the weather.
#[derive(Debug, Clone, Copy)]
pub struct Climate {
    /// Mean daily temperature at the coldest time of year, °C.
    pub coldest_c: f64,
    /// Mean daily temperature at the warmest time of year, °C.
    pub warmest_c: f64,
    /// Half the difference between the day's high and low, °C.
    pub daily_swing_c: f64,
    /// Share of days that are wet, winter and summer.
    pub wet_days: (f64, f64),
}

impl Climate {
    /// A mid-latitude coastal city.
    pub const fn temperate() -> Self {
        Self {
            coldest_c: 0.5,
            warmest_c: 25.5,
            daily_swing_c: 4.5,
            wet_days: (0.33, 0.28),
        }
    }
}

/// Weather drawn from a seed, per 0.1° cell and hour, read at the clock's time.
pub struct SeasonalWeather {
    seed: u64,
    climate: Climate,
    clock: Arc<dyn Clock>,
}

impl SeasonalWeather {
    /// Weather for `seed` in `climate`, at the time `clock` reads.
    pub fn new(seed: u64, climate: Climate, clock: Arc<dyn Clock>) -> Self {
        Self {
            seed,
            climate,
            clock,
        }
    }

    /// The weather at `lat`/`lon` at `at` (the hour it falls in).
    pub fn at(&self, lat: f64, lon: f64, at: DateTime<Utc>) -> Weather {
        let c = &self.climate;
        // Local solar time from the longitude: good enough for a daily cycle.
        let local = at + Duration::minutes((lon * 4.0).round() as i64);
        let day = local.num_days_from_ce() as u64;
        let hour = local.hour();
        let cell = (
            (lat * 10.0).floor() as i64 as u64,
            (lon * 10.0).floor() as i64 as u64,
        );
        // Day of the year, shifted so the coldest point is about 25 January; the south is
        // half a year out of phase.
        let doy = f64::from(local.ordinal0());
        let south = if lat < 0.0 { 182.5 } else { 0.0 };
        let phase = std::f64::consts::TAU * (doy - 25.0 + south) / 365.25;
        let mean = (c.coldest_c + c.warmest_c) / 2.0;
        let amplitude = (c.warmest_c - c.coldest_c) / 2.0;
        let seasonal = mean - amplitude * phase.cos();
        // 0 in deep winter, 1 in high summer.
        let summer = (1.0 - phase.cos()) / 2.0;
        let anomaly = 6.0 * (2.0 * unit(mix(&[self.seed, 1, day])) - 1.0);
        // Warmest about 15:00, coolest about 03:00.
        let hour_angle = std::f64::consts::TAU * (f64::from(hour) - 15.0) / 24.0;
        let daily = c.daily_swing_c * hour_angle.cos();
        let noise = 2.0 * unit(mix(&[self.seed, 2, day, u64::from(hour), cell.0, cell.1])) - 1.0;
        let temp_c = ((seasonal + anomaly + daily + noise) * 10.0).round() / 10.0;

        let wet_share = c.wet_days.0 + (c.wet_days.1 - c.wet_days.0) * summer;
        let regime = unit(mix(&[self.seed, 3, day]));
        let wet_day = regime < wet_share;
        let cloudy_day = !wet_day && regime < wet_share + 0.3;
        let hour_draw = unit(mix(&[self.seed, 4, day, u64::from(hour), cell.0, cell.1]));
        let wet_hour = wet_day && hour_draw < 0.45;
        let condition = if wet_hour {
            if temp_c < 1.0 {
                Condition::Snow
            } else if summer > 0.7 && temp_c > 24.0 && (13..=19).contains(&hour) && hour_draw < 0.1
            {
                Condition::Thunderstorm
            } else if hour_draw < 0.15 {
                Condition::Drizzle
            } else {
                Condition::Rain
            }
        } else if (5..=8).contains(&hour) && hour_draw > 0.95 {
            Condition::Fog
        } else if wet_day || cloudy_day {
            Condition::Cloudy
        } else {
            Condition::Clear
        };
        let precipitation_mm = match condition {
            Condition::Drizzle => 0.3,
            Condition::Rain | Condition::Snow => 1.5,
            Condition::Thunderstorm => 6.0,
            _ => 0.0,
        };
        let is_day = (6..20).contains(&hour);
        Weather {
            temp_c,
            feels_like_c: temp_c,
            precipitation_mm,
            condition,
            is_day,
            observed_at: Some(
                at.with_minute(0)
                    .and_then(|t| t.with_second(0))
                    .and_then(|t| t.with_nanosecond(0))
                    .unwrap_or(at),
            ),
        }
    }
}

#[async_trait::async_trait]
impl WeatherProvider for SeasonalWeather {
    async fn current(&self, lat: f64, lon: f64) -> WeatherLookup {
        if !valid_coordinates(lat, lon) {
            return WeatherLookup::unknown(reason::INVALID_COORDINATES);
        }
        WeatherLookup::Known(self.at(lat, lon, self.clock.now()))
    }

    fn name(&self) -> &'static str {
        "seasonal"
    }
}

/// SplitMix64 over the parts: a stable hash, the same on every platform and run.
fn mix(parts: &[u64]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for p in parts {
        h ^= *p;
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

/// A hash as a number in [0, 1).
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::TimeZone;

    fn provider(seed: u64) -> SeasonalWeather {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        SeasonalWeather::new(seed, Climate::temperate(), clock)
    }

    fn mean_temp(w: &SeasonalWeather, month: u32) -> f64 {
        let start = Utc.with_ymd_and_hms(2026, month, 1, 0, 0, 0).unwrap();
        let hours = 28 * 24;
        (0..hours)
            .map(|h| w.at(40.75, -73.98, start + Duration::hours(h)).temp_c)
            .sum::<f64>()
            / f64::from(hours as u32)
    }

    #[test]
    fn the_same_seed_place_and_hour_give_the_same_weather() {
        let t = Utc.with_ymd_and_hms(2026, 7, 14, 19, 30, 0).unwrap();
        assert_eq!(
            provider(7).at(40.75, -73.98, t),
            provider(7).at(40.75, -73.98, t)
        );
    }

    #[test]
    fn summer_is_warmer_than_winter_and_afternoons_than_nights() {
        let w = provider(1);
        let (jan, jul) = (mean_temp(&w, 1), mean_temp(&w, 7));
        assert!(jan < 6.0 && jul > 20.0, "january {jan:.1}, july {jul:.1}");
        let day = Utc.with_ymd_and_hms(2026, 7, 14, 19, 0, 0).unwrap(); // 15:00 local
        let night = Utc.with_ymd_and_hms(2026, 7, 14, 7, 0, 0).unwrap(); // 03:00 local
        assert!(w.at(40.75, -73.98, day).temp_c > w.at(40.75, -73.98, night).temp_c);
    }

    #[test]
    fn a_month_has_wet_and_dry_hours_and_snow_only_when_cold() {
        let w = provider(3);
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let all: Vec<Weather> = (0..31 * 24)
            .map(|h| w.at(40.75, -73.98, start + Duration::hours(h)))
            .collect();
        assert!(all.iter().any(|x| x.condition == Condition::Clear));
        assert!(all.iter().any(|x| x.precipitation_mm > 0.0));
        assert!(
            all.iter()
                .filter(|x| x.condition == Condition::Snow)
                .all(|x| x.temp_c < 1.0)
        );
    }
}
