//! Whole numbers as JSON Schema counts them. Its `integer` includes `3.0`; serde's integer
//! types refuse it. Count-like fields read through these (`#[serde(deserialize_with = …)]`)
//! so a client that writes every number as a float is not turned away.

use serde::de::Error;
use serde::{Deserialize, Deserializer};
use serde_json::Number;

/// 2^64, the first float past `u64::MAX`.
const PAST_U64: f64 = 18_446_744_073_709_551_616.0;

fn whole<E: Error, T: TryFrom<u64>>(n: Number) -> Result<T, E> {
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..PAST_U64).contains(f))
                .map(|f| f as u64)
        })
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| E::custom(format!("expected a whole number in range, got {n}")))
}

/// A required whole number.
pub fn required<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<T, D::Error> {
    whole(Number::deserialize(d)?)
}

/// An optional whole number (`null` or absent is `None`; pair with `#[serde(default)]`).
pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Number>::deserialize(d)?.map(whole).transpose()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Caps {
        #[serde(deserialize_with = "super::required")]
        count: u32,
        #[serde(default, deserialize_with = "super::optional")]
        days: Option<u64>,
    }

    fn parse(v: serde_json::Value) -> Result<Caps, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn a_float_without_fraction_is_a_whole_number() {
        let c = parse(serde_json::json!({"count": 3.0, "days": 30.0})).unwrap();
        assert_eq!((c.count, c.days), (3, Some(30)));
        assert_eq!(parse(serde_json::json!({"count": 3})).unwrap().days, None);
        assert_eq!(
            parse(serde_json::json!({"count": 3, "days": null}))
                .unwrap()
                .days,
            None
        );
    }

    #[test]
    fn fractions_negatives_and_overflow_are_refused() {
        for bad in [3.5, -1.0, 5e9] {
            assert!(parse(serde_json::json!({ "count": bad })).is_err(), "{bad}");
        }
        assert!(parse(serde_json::json!({"count": 1, "days": 1e20})).is_err());
    }
}
