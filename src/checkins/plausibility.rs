//! Step 4a, plausibility (docs/decisions.md): a report the SDK marks as mocked, a jump from the
//! person's last sighting faster than anyone travels, or a device that reported shortly before
//! for another user too far away → `implausible-location`, recorded like any other "none".
//! Distances are between fences (their covering circles), never between coordinates: the
//! sighting and the device memory keep a fence and a time, nothing more about the location.

use super::Engine;
use super::model::{Matched, Subject};
use crate::decisions::trace::{Implausible, Jump};
use crate::fences::index::Reach;
use crate::habits::Sighting;
use uuid::Uuid;

/// The matched fence to remember as where the person was: the one with the smallest reach,
/// which bounds later distances most tightly.
pub(super) fn sighting_fence(matched: &[Matched]) -> Option<&Matched> {
    matched
        .iter()
        .min_by(|a, b| a.info.reach.radius_m.total_cmp(&b.info.reach.radius_m))
}

/// The least distance from anywhere in `from` to where the report is: the gap to the nearest
/// matched fence, less the report's accuracy (it matched, but may be off by that much).
pub(super) fn least_distance_m(from: &Reach, here: &[Reach], accuracy_m: f64) -> f64 {
    let gap = here
        .iter()
        .map(|r| from.gap_m(r))
        .fold(f64::INFINITY, f64::min);
    (gap - accuracy_m).max(0.0)
}

impl Engine {
    /// The check that finds this report implausible, if one does. Remembers the device's
    /// report (unless mocked) whatever the verdict.
    pub(super) fn implausible(
        &self,
        who: &Subject,
        matched: &[Matched],
        previous: Option<&Sighting>,
    ) -> Option<Implausible> {
        let c = who.c;
        if c.is_mocked() {
            return Some(Implausible::Mocked);
        }
        let at_ms = c.recorded_at.timestamp_millis();
        let here: Vec<Reach> = matched.iter().map(|m| m.info.reach).collect();
        // A fence deleted since is no longer known: no claim about the distance.
        let jump = |from: Uuid, then_ms: i64, own: bool| {
            let reach = self.catalog.fence(&from)?.reach;
            Some(Jump {
                from_fence: own.then_some(from),
                distance_m: least_distance_m(&reach, &here, c.accuracy_m.metres()),
                elapsed_s: (at_ms - then_ms).abs() as f64 / 1000.0,
                limit_kmh: self.config.max_plausible_speed_kmh,
            })
        };
        let other_user = match (c.device_id.as_deref(), sighting_fence(matched)) {
            (Some(device), Some(m)) => self.devices.swap(
                who.app,
                device,
                who.person.as_str(),
                m.info.id,
                at_ms,
                who.now.timestamp_millis(),
            ),
            _ => None,
        };
        let own = previous
            .and_then(|p| Some((p.fence.parse::<Uuid>().ok()?, p.at_ms)))
            .and_then(|(from, then_ms)| jump(from, then_ms, true));
        if let Some(j) = own.filter(Jump::too_fast) {
            return Some(Implausible::Speed(j));
        }
        let (from, then_ms) = other_user?;
        jump(from, then_ms, false)
            .filter(Jump::too_fast)
            .map(Implausible::SharedDevice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fences::index::Shape;

    fn at(lat: f64, lon: f64, radius_m: f64) -> Reach {
        Reach::of(&Shape::Circle { lon, lat, radius_m })
    }

    fn kmh(distance_m: f64, elapsed_s: f64) -> f64 {
        Jump {
            from_fence: None,
            distance_m,
            elapsed_s,
            limit_kmh: 300.0,
        }
        .speed_kmh()
    }

    #[test]
    fn nine_hundred_km_in_ten_minutes_is_far_too_fast() {
        let manhattan = at(40.7484, -73.9857, 120.0);
        let toronto = at(43.6532, -79.3832, 120.0); // ~550 km
        let chicago = at(41.8781, -87.6298, 120.0); // ~1,145 km
        let d = least_distance_m(&manhattan, &[toronto], 15.0);
        assert!((500_000.0..600_000.0).contains(&d), "{d}");
        let d = least_distance_m(&manhattan, &[chicago], 15.0);
        assert!(kmh(d, 600.0) > 6_000.0);
    }

    #[test]
    fn a_walk_between_two_nearby_fences_is_not() {
        // Two stores one block apart (~850 m centre to centre), eight minutes' walk.
        let a = at(40.7484, -73.9857, 120.0);
        let b = at(40.7484, -73.9757, 120.0);
        let d = least_distance_m(&a, &[b], 15.0);
        assert!(d < 700.0, "{d}");
        assert!(kmh(d, 480.0) < 10.0);
        // Overlapping or the same fence: no distance at all, however short the time.
        assert_eq!(least_distance_m(&a, &[a], 15.0), 0.0);
        assert_eq!(kmh(0.0, 0.0), 0.0);
    }

    #[test]
    fn the_nearest_matched_fence_and_the_accuracy_count_in_the_persons_favour() {
        let from = at(40.7484, -73.9857, 100.0);
        let near = at(40.7484, -73.9747, 100.0);
        let far = at(41.0, -73.0, 100.0);
        let only_near = least_distance_m(&from, &[near], 0.0);
        assert_eq!(least_distance_m(&from, &[far, near], 0.0), only_near);
        assert_eq!(
            least_distance_m(&from, &[near], 50.0),
            (only_near - 50.0).max(0.0)
        );
    }
}
