//! Step 7, weather: fetched only when a candidate has a weather rule, within the provider's
//! time budget; unknown weather fails weather rules only.

use super::Engine;
use super::input::Checkin;
use super::model::Candidate;
use crate::weather::WeatherLookup;

impl Engine {
    /// The weather at the report, or why it is unknown (`not-needed` when no offer asks).
    pub(super) async fn weather_for(&self, c: &Checkin, candidates: &[Candidate]) -> WeatherLookup {
        if candidates
            .iter()
            .any(|x| x.offer.spec.targeting.weather.is_some())
        {
            self.weather.current(c.lat.degrees(), c.lon.degrees()).await
        } else {
            WeatherLookup::unknown("not-needed")
        }
    }
}
