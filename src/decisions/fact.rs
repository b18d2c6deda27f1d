//! Over 300 lines: the type, its reading of every older JSON value, and tests pinning the
//! bytes of each variant.
//!
//! The values a rule's verdict reports — what the offer asked for and what the moment had — as
//! a small type instead of `serde_json::Value`, since every rule of every candidate builds two.
//! Written as the same JSON the rules wrote with `json!`, read from any JSON an older trace
//! holds (tests pin both).

use chrono::{DateTime, Utc};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A rule's expected or actual value, as typed as the rules know it. It is written as the same
/// JSON the rules wrote when these were `serde_json::Value`s (`null`, `true`, `28.0`, `30`,
/// `"active"`, `["mon", "tue"]`, an RFC 3339 time, a purchase filter or a purchase), so traces
/// keep their bytes. Text borrows `'static` names where it can: building a fact for a rule
/// allocates no more than the `json!` it replaced, and mostly less.
///
/// Read back, JSON keeps its kind but not always its variant: a time reads as [`Fact::Text`],
/// an object as [`Fact::Other`]; either way it is written again as the same JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Fact {
    /// Nothing reported (`null`): no speed, no activity, no purchase found.
    #[default]
    None,
    /// A yes or no (`follows_brand`, or `false` for "no personalization consent").
    Bool(bool),
    /// A whole number (`min_dwell_s`, a dwell time, a look-back in days).
    Int(i64),
    /// A measure (a temperature, a speed, visits per week); written as `json!` wrote an `f64`.
    Number(f64),
    /// A name or a short reading (`"active"`, `"walking"`, `"tue"`, `"15:00"`, `"clear"`).
    Text(Cow<'static, str>),
    /// Names (weekdays, weather conditions, interests, hour ranges `"11:00-19:00"`).
    Texts(Vec<Cow<'static, str>>),
    /// A moment (`valid_from`, `valid_until`, the decision time).
    Time(DateTime<Utc>),
    /// The purchases a rule looks for (`exclude`, no retargeting). Fields in the order
    /// `json!` wrote them (alphabetical).
    Purchases {
        /// Categories that count.
        categories: Vec<String>,
        /// SKUs that count.
        skus: Vec<String>,
        /// How far back, in days.
        within_days: i64,
    },
    /// The purchase a rule found. Fields in the order `json!` wrote them (alphabetical).
    Purchase {
        /// When.
        at: DateTime<Utc>,
        /// Its category.
        category: Option<String>,
        /// Its SKU.
        sku: Option<String>,
    },
    /// Any other JSON found in a stored trace: objects (older purchase filters and purchases
    /// among them), mixed arrays, integers beyond `i64`. Only ever produced when reading a
    /// trace, never by the rules (`checkins::rules`), so it keeps `Value` off the hot path.
    Other(Value),
}

impl Fact {
    /// A borrowed name.
    pub const fn name(s: &'static str) -> Self {
        Self::Text(Cow::Borrowed(s))
    }

    /// Owned texts (an offer's or a profile's list).
    pub fn texts(list: &[String]) -> Self {
        Self::Texts(list.iter().map(|s| Cow::Owned(s.clone())).collect())
    }
}

impl<T: Into<Fact>> From<Option<T>> for Fact {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::None, Into::into)
    }
}

impl From<bool> for Fact {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<f64> for Fact {
    fn from(v: f64) -> Self {
        Self::Number(v)
    }
}

impl From<i64> for Fact {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<u32> for Fact {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<DateTime<Utc>> for Fact {
    fn from(v: DateTime<Utc>) -> Self {
        Self::Time(v)
    }
}

impl From<&'static str> for Fact {
    fn from(v: &'static str) -> Self {
        Self::name(v)
    }
}

impl<'de> Deserialize<'de> for Fact {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FactVisitor)
    }
}

/// Reads any JSON value as a [`Fact`] (traces from every earlier version).
struct FactVisitor;

impl<'de> Visitor<'de> for FactVisitor {
    type Value = Fact;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Fact, E> {
        Ok(Fact::None)
    }

    fn visit_none<E>(self) -> Result<Fact, E> {
        Ok(Fact::None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Fact, D::Error> {
        Fact::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Fact, E> {
        Ok(Fact::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Fact, E> {
        Ok(Fact::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Fact, E> {
        Ok(i64::try_from(v).map_or_else(|_| Fact::Other(v.into()), Fact::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Fact, E> {
        Ok(Fact::Number(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Fact, E> {
        Ok(Fact::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Fact, E> {
        Ok(Fact::Text(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Fact, A::Error> {
        let mut items: Vec<Value> = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        if items.iter().all(Value::is_string) {
            let texts = items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Cow::Owned(s),
                    _ => unreachable!("checked above"),
                })
                .collect();
            return Ok(Fact::Texts(texts));
        }
        Ok(Fact::Other(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Fact, A::Error> {
        let object = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Fact::Other(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decisions::trace::RuleOutcome;

    #[test]
    fn every_fact_writes_the_json_the_rules_wrote_with_json_macro() {
        let at: DateTime<Utc> = "2026-11-29T13:29:13.251015027Z".parse().unwrap();
        let cases: Vec<(Fact, Value, &str)> = vec![
            (Fact::None, serde_json::json!(Option::<f64>::None), "null"),
            (Fact::Bool(false), serde_json::json!(false), "false"),
            (Fact::Int(30), serde_json::json!(30u32), "30"),
            (Fact::Int(-4), serde_json::json!(-4i64), "-4"),
            (Fact::Number(28.0), serde_json::json!(28.0), "28.0"),
            (Fact::Number(31.4), serde_json::json!(31.4), "31.4"),
            (Fact::Number(f64::NAN), serde_json::json!(f64::NAN), "null"),
            (
                Fact::name("active"),
                serde_json::json!("active"),
                "\"active\"",
            ),
            (
                Fact::Text(Cow::Owned("15:00".into())),
                serde_json::json!("15:00".to_string()),
                "\"15:00\"",
            ),
            (
                Fact::Texts(vec![Cow::Borrowed("mon"), Cow::Owned("tue".into())]),
                serde_json::json!(["mon", "tue"]),
                r#"["mon","tue"]"#,
            ),
            (
                Fact::Texts(vec![]),
                serde_json::json!(Vec::<String>::new()),
                "[]",
            ),
            (
                Fact::Time(at),
                serde_json::json!(at),
                "\"2026-11-29T13:29:13.251015027Z\"",
            ),
            (
                Fact::Purchases {
                    categories: vec!["soft-drinks".into()],
                    skus: vec![],
                    within_days: 30,
                },
                serde_json::json!({"skus": Vec::<String>::new(), "categories": ["soft-drinks"], "within_days": 30i64}),
                r#"{"categories":["soft-drinks"],"skus":[],"within_days":30}"#,
            ),
            (
                Fact::Purchase {
                    at,
                    category: None,
                    sku: Some("cola-33".into()),
                },
                serde_json::json!({"sku": Some("cola-33"), "category": Option::<String>::None, "at": at}),
                r#"{"at":"2026-11-29T13:29:13.251015027Z","category":null,"sku":"cola-33"}"#,
            ),
            (
                Fact::Other(serde_json::json!({"a": [1, "b"]})),
                serde_json::json!({"a": [1, "b"]}),
                r#"{"a":[1,"b"]}"#,
            ),
        ];
        for (fact, before, text) in cases {
            assert_eq!(serde_json::to_string(&fact).unwrap(), text, "{fact:?}");
            assert_eq!(serde_json::to_string(&before).unwrap(), text, "{fact:?}");
            assert_eq!(serde_json::to_value(&fact).unwrap(), before, "{fact:?}");
        }
    }

    #[test]
    fn every_json_value_an_older_trace_holds_reads_back_and_writes_the_same() {
        for (text, fact) in [
            ("null", Fact::None),
            ("true", Fact::Bool(true)),
            ("30", Fact::Int(30)),
            ("2.0", Fact::Number(2.0)),
            ("-1.25", Fact::Number(-1.25)),
            ("\"walking\"", Fact::name("walking")),
            (
                "\"2026-06-01T00:00:00Z\"",
                Fact::name("2026-06-01T00:00:00Z"),
            ),
            (
                r#"["clear","cloudy"]"#,
                Fact::Texts(vec!["clear".into(), "cloudy".into()]),
            ),
            ("[]", Fact::Texts(vec![])),
            (
                "[1,\"a\",null]",
                Fact::Other(serde_json::json!([1, "a", null])),
            ),
            (
                "18446744073709551615",
                Fact::Other(serde_json::json!(u64::MAX)),
            ),
            (
                r#"{"categories":["soft-drinks"],"skus":[],"within_days":30}"#,
                Fact::Other(
                    serde_json::json!({"categories": ["soft-drinks"], "skus": [], "within_days": 30}),
                ),
            ),
        ] {
            let read: Fact = serde_json::from_str(text).unwrap();
            assert_eq!(read, fact, "{text}");
            assert_eq!(serde_json::to_string(&read).unwrap(), text);
            let from_value = Fact::deserialize(&serde_json::from_str::<Value>(text).unwrap());
            assert_eq!(from_value.unwrap(), fact, "{text} via Value");
        }
        let rule: RuleOutcome = serde_json::from_str(r#"{"rule":"status","passed":true}"#).unwrap();
        assert_eq!((rule.expected, rule.actual), (Fact::None, Fact::None));
    }
}
