//! The stored geofence and its GeoJSON representation in answers.

use super::FenceGeometry;
use crate::domain::{AccuracyM, BrandId, RadiusM, Timezone};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A validated fence, before the store gives it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct FenceDraft {
    /// Shown to people in offer copy (`fence.name`).
    pub name: String,
    /// Point (with `radius`), Polygon or MultiPolygon.
    pub geometry: FenceGeometry,
    /// Set for points only.
    pub radius: Option<RadiusM>,
    /// Local time at the fence drives schedules and quiet hours.
    pub timezone: Timezone,
    /// Offers target fences by tag.
    pub tags: Vec<String>,
    /// The brand's own id for the place (unique per brand); imports upsert by it.
    pub external_id: Option<String>,
    /// Check-ins reporting a worse accuracy do not match.
    pub max_accuracy: AccuracyM,
}

/// A stored fence.
#[derive(Debug, Clone, PartialEq)]
pub struct Fence {
    /// Server-assigned id (UUID v7, so ids sort by creation).
    pub id: Uuid,
    /// The owning brand.
    pub brand: BrandId,
    /// What the brand configured.
    pub draft: FenceDraft,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Increments on every change.
    pub version: i64,
}

/// A fence as a GeoJSON Feature, as the API returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FenceFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    #[schema(example = "Feature")]
    pub type_: &'static str,
    /// The fence id.
    pub id: Uuid,
    /// GeoJSON geometry: Point, Polygon or MultiPolygon, `[lon, lat]` positions.
    #[schema(value_type = Object)]
    pub geometry: FenceGeometry,
    /// Everything else about the fence.
    pub properties: FenceProperties,
}

/// The properties of a returned fence.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FenceProperties {
    /// Display name.
    pub name: String,
    /// Radius for Point fences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
    /// IANA time zone.
    pub timezone: String,
    /// Tags offers can target.
    pub tags: Vec<String>,
    /// The brand's own id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Accuracy gate in metres.
    pub max_accuracy_m: f64,
    /// Owning brand.
    pub brand: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Change counter.
    pub version: i64,
}

impl Fence {
    /// The API representation.
    pub fn to_feature(&self) -> FenceFeature {
        let d = &self.draft;
        FenceFeature {
            type_: "Feature",
            id: self.id,
            geometry: d.geometry.clone(),
            properties: FenceProperties {
                name: d.name.clone(),
                radius_m: d.radius.map(RadiusM::metres),
                timezone: d.timezone.name().to_string(),
                tags: d.tags.clone(),
                external_id: d.external_id.clone(),
                max_accuracy_m: d.max_accuracy.metres(),
                brand: self.brand.to_string(),
                created_at: self.created_at,
                updated_at: self.updated_at,
                version: self.version,
            },
        }
    }
}
