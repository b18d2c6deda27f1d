//! Habit features derived from visit history.

use super::PlaceHistory;
use serde::Serialize;

const DAY_MS: i64 = 86_400_000;

/// What the decision and the creative know about a person's habit at a place.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct HabitFeatures {
    /// Visits started in the last 7 days (this one included).
    pub visits_7d: u32,
    /// Visits started in the last 28 days (this one included).
    pub visits_28d: u32,
    /// Visits per week over the last 28 days.
    pub visits_per_week: f64,
    /// Days between the previous visit's start and now; `None` for a first visit.
    pub days_since_last_visit: Option<f64>,
    /// How long the current visit has lasted.
    pub dwell_s: i64,
    /// The most common local hour of visit starts (needs at least 2 visits).
    pub usual_hour: Option<u8>,
}

/// Derives the features at `at_ms` from one place's history.
pub fn features(h: &PlaceHistory, at_ms: i64) -> HabitFeatures {
    let within = |days: i64| {
        h.visits
            .iter()
            .filter(|(t, _)| *t <= at_ms && at_ms - *t < days * DAY_MS)
            .count() as u32
    };
    let visits_28d = within(28);
    let previous = h
        .visits
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| *t < h.current_start)
        .max();
    let mut hours = [0u32; 24];
    for (_, hour) in &h.visits {
        hours[usize::from(*hour % 24)] += 1;
    }
    // Ties go to the earliest hour so the answer is deterministic.
    let usual_hour = (h.visits.len() >= 2)
        .then(|| {
            (0..24u8).max_by(|a, b| hours[*a as usize].cmp(&hours[*b as usize]).then(b.cmp(a)))
        })
        .flatten();
    HabitFeatures {
        visits_7d: within(7),
        visits_28d,
        visits_per_week: f64::from(visits_28d) / 4.0,
        days_since_last_visit: previous.map(|p| (at_ms - p) as f64 / DAY_MS as f64),
        dwell_s: ((at_ms - h.current_start) / 1000).max(0),
        usual_hour,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_visits_a_week_for_four_weeks_is_three_per_week() {
        let now = 100 * DAY_MS;
        let visits: Vec<(i64, u8)> = (0..12)
            .map(|i| (now - i * DAY_MS * 7 / 3 - 1, 15))
            .collect();
        let mut v = visits.clone();
        v.sort();
        let f = features(
            &PlaceHistory {
                visits: v,
                current_start: now - 1,
            },
            now,
        );
        assert_eq!(f.visits_28d, 12);
        assert_eq!(f.visits_per_week, 3.0);
        assert_eq!(f.usual_hour, Some(15));
        assert!(f.days_since_last_visit.unwrap() > 2.0);
    }

    #[test]
    fn a_first_visit_has_no_previous_and_no_usual_hour() {
        let f = features(
            &PlaceHistory {
                visits: vec![(1000, 9)],
                current_start: 1000,
            },
            61_000,
        );
        assert_eq!(f.days_since_last_visit, None);
        assert_eq!(f.usual_hour, None);
        assert_eq!(f.dwell_s, 60);
    }
}
