//! A weather provider that always answers the same: the weather a test decision ("Try it")
//! is asked about, or a test's.

use super::{WeatherLookup, WeatherProvider};

/// Answers every lookup with one given answer, known or unknown.
#[derive(Debug, Clone)]
pub struct FixedWeather(pub WeatherLookup);

#[async_trait::async_trait]
impl WeatherProvider for FixedWeather {
    async fn current(&self, _lat: f64, _lon: f64) -> WeatherLookup {
        self.0.clone()
    }

    fn name(&self) -> &'static str {
        "fixed"
    }
}
