//! The GeoJSON Feature a brand sends, and its validation into a [`FenceDraft`].

use super::{FenceDraft, FenceGeometry};
use crate::domain::{AccuracyM, RadiusM, Timezone, check_tag};
use crate::error::FieldError;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A geofence as sent by a brand: a GeoJSON Feature.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureInput {
    /// Must be `Feature`.
    #[serde(rename = "type")]
    #[schema(pattern = "^Feature$")]
    pub type_: String,
    /// Point, Polygon or MultiPolygon; positions are `[lon, lat]`. Rings are closed (last
    /// position equals the first), have 3+ distinct positions and do not cross; holes lie
    /// inside the shell; at most 10,000 positions in all.
    #[schema(schema_with = crate::domain::schemas::geometry)]
    pub geometry: GeometryInput,
    /// Name, radius, time zone, tags and more.
    pub properties: FencePropertiesInput,
    /// Ignored on input: ids are assigned by the server.
    #[serde(default)]
    #[schema(value_type = Value)]
    pub id: Option<Value>,
    /// GeoJSON bounding box; accepted and recomputed by the server.
    #[serde(default)]
    pub bbox: Option<Vec<f64>>,
}

/// A GeoJSON geometry.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeometryInput {
    /// `Point`, `Polygon` or `MultiPolygon`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Nested arrays of `[lon, lat]` positions.
    #[schema(value_type = Object)]
    pub coordinates: Value,
}

/// A fence's properties.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FencePropertiesInput {
    /// Display name, used in offer copy: 1–200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: String,
    /// Circle radius in metres, 10–50,000; Point geometries only (and required for them).
    #[serde(default)]
    #[schema(minimum = 10, maximum = 50000)]
    pub radius_m: Option<f64>,
    /// IANA time zone of the place, e.g. `America/New_York`.
    #[schema(schema_with = crate::domain::schemas::timezone)]
    pub timezone: String,
    /// Lowercase tags offers can target, e.g. `corner-store`; at most 32.
    #[serde(default)]
    #[schema(schema_with = crate::domain::schemas::fence_tags)]
    pub tags: Vec<String>,
    /// The brand's own id for the place, 1–128 characters, not blank; unique per brand.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub external_id: Option<String>,
    /// The worst check-in accuracy this fence accepts, 5–5,000 m (default 100).
    #[serde(default)]
    #[schema(minimum = 5, maximum = 5000)]
    pub max_accuracy_m: Option<f64>,
}

/// Most tags a fence may carry.
const MAX_TAGS: usize = 32;

/// Validates a Feature; `at` is its JSON pointer (`""` for a single fence body).
pub fn parse_feature(input: &FeatureInput, at: &str) -> Result<FenceDraft, Vec<FieldError>> {
    let mut errors = Vec::new();
    if input.type_ != "Feature" {
        errors.push(FieldError::new(format!("{at}/type"), "must be `Feature`"));
    }
    let p = &input.properties;
    let pp = format!("{at}/properties");
    let geometry = FenceGeometry::parse(
        &input.geometry.type_,
        &input.geometry.coordinates,
        &format!("{at}/geometry"),
    )
    .map_err(|e| errors.extend(e))
    .ok();
    let radius = match (&geometry, p.radius_m) {
        (Some(FenceGeometry::Point(_)), Some(r)) => RadiusM::parse(r)
            .map_err(|e| errors.push(FieldError::new(format!("{pp}/radius_m"), e)))
            .ok(),
        (Some(FenceGeometry::Point(_)), None) => {
            errors.push(FieldError::new(
                format!("{pp}/radius_m"),
                "a Point fence needs radius_m (10-50000 metres)",
            ));
            None
        }
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                format!("{pp}/radius_m"),
                "radius_m is only for Point fences; a polygon's shape is its boundary",
            ));
            None
        }
        _ => None,
    };
    let name = p.name.trim();
    if name.is_empty() || p.name.chars().count() > 200 {
        errors.push(FieldError::new(
            format!("{pp}/name"),
            "name must be 1-200 characters",
        ));
    }
    let timezone = Timezone::parse(&p.timezone)
        .map_err(|e| errors.push(FieldError::new(format!("{pp}/timezone"), e)))
        .ok();
    if p.tags.len() > MAX_TAGS {
        errors.push(FieldError::new(
            format!("{pp}/tags"),
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    for (i, tag) in p.tags.iter().enumerate() {
        if let Err(e) = check_tag(tag) {
            errors.push(FieldError::new(format!("{pp}/tags/{i}"), e));
        }
    }
    if let Some(ext) = &p.external_id
        && (ext.trim().is_empty() || ext.chars().count() > 128)
    {
        errors.push(FieldError::new(
            format!("{pp}/external_id"),
            "external_id must be 1-128 characters",
        ));
    }
    let max_accuracy = match p.max_accuracy_m {
        None => Some(AccuracyM::default()),
        Some(v) => AccuracyM::parse(v)
            .map_err(|e| errors.push(FieldError::new(format!("{pp}/max_accuracy_m"), e)))
            .ok(),
    };
    match (geometry, timezone, max_accuracy) {
        (Some(geometry), Some(timezone), Some(max_accuracy)) if errors.is_empty() => {
            let mut tags = p.tags.clone();
            tags.sort();
            tags.dedup();
            Ok(FenceDraft {
                name: name.to_string(),
                geometry,
                radius,
                timezone,
                tags,
                external_id: p.external_id.clone(),
                max_accuracy,
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feature(v: Value) -> FeatureInput {
        serde_json::from_value(v).unwrap()
    }

    fn store() -> Value {
        json!({"type": "Feature",
               "geometry": {"type": "Point", "coordinates": [-73.9857, 40.7484]},
               "properties": {"name": "Corner Store 5th Ave", "radius_m": 120,
                              "timezone": "America/New_York", "tags": ["corner-store"],
                              "external_id": "store-0042", "max_accuracy_m": 100}})
    }

    #[test]
    fn the_api_example_is_valid() {
        let d = parse_feature(&feature(store()), "").unwrap();
        assert_eq!(d.radius.unwrap().metres(), 120.0);
        assert_eq!(d.timezone.name(), "America/New_York");
    }

    #[test]
    fn an_unknown_timezone_is_named() {
        let mut v = store();
        v["properties"]["timezone"] = json!("Europe/Atlantis");
        let err = parse_feature(&feature(v), "/features/3").unwrap_err();
        assert_eq!(err[0].pointer, "/features/3/properties/timezone");
    }

    #[test]
    fn a_point_without_radius_and_a_polygon_with_one_are_refused() {
        let mut v = store();
        v["properties"].as_object_mut().unwrap().remove("radius_m");
        assert_eq!(
            parse_feature(&feature(v), "").unwrap_err()[0].pointer,
            "/properties/radius_m"
        );
        let mut p = store();
        p["geometry"] = json!({"type": "Polygon",
            "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]});
        assert_eq!(
            parse_feature(&feature(p), "").unwrap_err()[0].pointer,
            "/properties/radius_m"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut v = store();
        v["properties"]["radius_m"] = json!(5);
        v["properties"]["tags"] = json!(["Corner Store"]);
        v["properties"]["max_accuracy_m"] = json!(1);
        assert_eq!(parse_feature(&feature(v), "").unwrap_err().len(), 3);
    }
}
