//! The check-in an app posts (`CheckinInput`, the wire type), and its validation into the
//! parsed `Checkin` the decision's steps use.

pub use crate::domain::{Activity, AppState};
use crate::domain::{Latitude, Longitude, ReportedAccuracyM, SpeedMps};
use crate::error::{ApiError, FieldError};
use crate::people::check_user_id;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

/// How far in the future a report may claim to be (phone clocks drift).
pub const MAX_FUTURE: Duration = Duration::minutes(2);
/// Older than this, a report may feed habits but never triggers an offer.
pub const STALE_AFTER: Duration = Duration::minutes(10);

/// A location report.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinInput {
    /// The app's id for this report, 1–128 characters without spaces; retries reuse it and
    /// get the same answer.
    #[schema(pattern = r"^[^\s\x00-\x1f\x7f-\x9f]{1,128}$")]
    pub checkin_id: String,
    /// The app's user id (scoped to the app), 1–128 characters, no control characters.
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")]
    pub user_id: String,
    /// The device: support context, and compared (per replica, for 6 hours) with the users it
    /// reported for before, so one device reporting for distant users is implausible.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 128)]
    pub device_id: Option<String>,
    /// Latitude, degrees.
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    /// Longitude, degrees.
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// Reported horizontal accuracy, metres (0 < a ≤ 5000).
    #[schema(exclusive_minimum = 0, maximum = 5000)]
    pub accuracy_m: f64,
    /// When the phone recorded the location: at most 2 minutes in the future.
    pub recorded_at: DateTime<Utc>,
    /// Speed over ground, m/s.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 150)]
    pub speed_mps: Option<f64>,
    /// Motion activity.
    #[serde(default)]
    pub activity: Option<Activity>,
    /// App state when reported.
    #[serde(default)]
    pub app_state: Option<AppState>,
    /// The SDK found the location mocked (a mock-location app or a simulator): such a report
    /// never triggers an offer (`implausible-location`) and feeds no habits.
    #[serde(default)]
    pub is_mocked: Option<bool>,
}

/// A report that passed validation: what the decision's steps use. Its location is typed
/// (and never printed: `Debug` leaves it out).
pub struct Checkin {
    /// The app's id for this report.
    pub checkin_id: String,
    /// The app's user id.
    pub user_id: String,
    /// The device, kept only as support context.
    pub device_id: Option<String>,
    /// Latitude.
    pub lat: Latitude,
    /// Longitude.
    pub lon: Longitude,
    /// Reported accuracy.
    pub accuracy_m: ReportedAccuracyM,
    /// When the phone recorded the location.
    pub recorded_at: DateTime<Utc>,
    /// Speed over ground.
    pub speed_mps: Option<SpeedMps>,
    /// Motion activity.
    pub activity: Option<Activity>,
    /// App state when reported.
    pub app_state: Option<AppState>,
    /// Did the SDK mark the location as mocked? (`None`: it did not say.)
    pub is_mocked: Option<bool>,
}

impl std::fmt::Debug for Checkin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkin")
            .field("checkin_id", &self.checkin_id)
            .field("recorded_at", &self.recorded_at)
            .finish_non_exhaustive()
    }
}

impl Checkin {
    /// Identifies this report of this user of `app`: a retry (the same body sent again) has
    /// the same fingerprint, another report or another user reusing the `checkin_id` does
    /// not. Numbers are compared as parsed, times as instants.
    pub fn fingerprint(&self, app: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [app, &self.checkin_id, &self.user_id] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        match &self.device_id {
            Some(d) => {
                h.update([1]);
                h.update((d.len() as u64).to_le_bytes());
                h.update(d);
            }
            None => h.update([0]),
        }
        for n in [
            self.lat.degrees(),
            self.lon.degrees(),
            self.accuracy_m.metres(),
        ] {
            h.update(n.to_bits().to_le_bytes());
        }
        h.update(
            self.speed_mps
                .map_or([0xff; 8], |v| v.mps().to_bits().to_le_bytes()),
        );
        h.update(
            self.recorded_at
                .timestamp_nanos_opt()
                .unwrap_or(i64::MAX)
                .to_le_bytes(),
        );
        h.update([
            self.activity.map_or(0xff, |a| a as u8),
            self.app_state.map_or(0xff, |a| a as u8),
        ]);
        // Added after the first fingerprints were recorded: absent, it leaves them unchanged.
        if let Some(m) = self.is_mocked {
            h.update([0x4d, u8::from(m)]);
        }
        hex::encode(&h.finalize()[..16])
    }

    /// Did the SDK say the location is mocked?
    pub fn is_mocked(&self) -> bool {
        self.is_mocked == Some(true)
    }

    /// Is the report too old to trigger an offer?
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        now - self.recorded_at > STALE_AFTER
    }
}

/// Checks every field and parses the report; an invalid one is answered with 422 naming each
/// problem.
pub fn validate(c: CheckinInput, now: DateTime<Utc>) -> Result<Checkin, ApiError> {
    let mut errors = Vec::new();
    let mut bad = |p: &str, r: String| errors.push(FieldError::new(p, r));
    if c.checkin_id.is_empty()
        || c.checkin_id.chars().count() > 128
        || c.checkin_id
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control())
    {
        bad(
            "/checkin_id",
            "checkin_id must be 1-128 characters without spaces".into(),
        );
    }
    if let Err(e) = check_user_id(&c.user_id) {
        bad("/user_id", e);
    }
    if c.device_id
        .as_ref()
        .is_some_and(|d| d.is_empty() || d.chars().count() > 128)
    {
        bad("/device_id", "device_id must be 1-128 characters".into());
    }
    let lat = Latitude::parse(c.lat).map_err(|e| bad("/lat", e));
    let lon = Longitude::parse(c.lon).map_err(|e| bad("/lon", e));
    let accuracy_m = ReportedAccuracyM::parse(c.accuracy_m).map_err(|e| bad("/accuracy_m", e));
    if c.recorded_at > now + MAX_FUTURE {
        bad(
            "/recorded_at",
            format!(
                "recorded_at {} is more than 2 minutes in the future",
                c.recorded_at.to_rfc3339()
            ),
        );
    }
    let speed_mps = c
        .speed_mps
        .map(SpeedMps::parse)
        .transpose()
        .map_err(|e| bad("/speed_mps", e));
    match (lat, lon, accuracy_m, speed_mps) {
        (Ok(lat), Ok(lon), Ok(accuracy_m), Ok(speed_mps)) if errors.is_empty() => Ok(Checkin {
            checkin_id: c.checkin_id,
            user_id: c.user_id,
            device_id: c.device_id,
            lat,
            lon,
            accuracy_m,
            recorded_at: c.recorded_at,
            speed_mps,
            activity: c.activity,
            app_state: c.app_state,
            is_mocked: c.is_mocked,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `base()`'s fingerprint for app `app`, as computed before `is_mocked` existed.
    const GOLDEN_FINGERPRINT: &str = "68d03221fe605447d77a3ff0fd277a74";

    fn report(v: serde_json::Value) -> CheckinInput {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> serde_json::Value {
        json!({"checkin_id": "c-1", "user_id": "u-123", "lat": 40.749, "lon": -73.986,
               "accuracy_m": 15, "recorded_at": "2026-07-14T15:02:11Z"})
    }

    fn now() -> DateTime<Utc> {
        "2026-07-14T15:03:00Z".parse().unwrap()
    }

    #[test]
    fn the_api_example_is_valid_and_fresh() {
        let c = validate(report(base()), now()).unwrap();
        assert!(!c.is_stale(now()));
        assert_eq!(c.lat.degrees(), 40.749);
    }

    #[test]
    fn each_bad_field_is_named() {
        for (field, value) in [
            ("lat", json!(91)),
            ("lon", json!(-181)),
            ("accuracy_m", json!(0)),
            ("accuracy_m", json!(5001)),
            ("recorded_at", json!("2026-07-14T15:06:00Z")),
            ("speed_mps", json!(-1)),
            ("checkin_id", json!("")),
        ] {
            let mut v = base();
            v[field] = value;
            let err = validate(report(v), now()).unwrap_err();
            match err {
                ApiError::Validation { errors, .. } => {
                    assert_eq!(errors[0].pointer, format!("/{field}"))
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_unknown_activity_does_not_parse() {
        let mut v = base();
        v["activity"] = json!("teleporting");
        assert!(serde_json::from_value::<CheckinInput>(v).is_err());
    }

    #[test]
    fn a_mocked_flag_changes_the_fingerprint_and_its_absence_does_not() {
        let plain = validate(report(base()), now()).unwrap();
        let mut v = base();
        v["is_mocked"] = json!(true);
        let mocked = validate(report(v), now()).unwrap();
        assert!(mocked.is_mocked() && !plain.is_mocked());
        assert_ne!(plain.fingerprint("app"), mocked.fingerprint("app"));
        // A fingerprint recorded before the field existed (golden value) still matches.
        assert_eq!(plain.fingerprint("app"), GOLDEN_FINGERPRINT);
    }

    #[test]
    fn eleven_minutes_old_is_stale() {
        let mut v = base();
        v["recorded_at"] = json!("2026-07-14T14:52:00Z");
        assert!(validate(report(v), now()).unwrap().is_stale(now()));
    }
}
