//! Rows as both backends read them: the columns of a fence and an offer (the same names and
//! kinds on SQLite and PostgreSQL, decoded by `sqlx::FromRow` for either) and how they
//! become the model's types, written once.

use crate::domain::{AccuracyM, BrandId, RadiusM, Timezone};
use crate::fences::{Fence, FenceDraft, FenceGeometry};
use crate::offers::{Offer, SPEC_VERSION};
use anyhow::Context;
use chrono::DateTime;
use uuid::Uuid;

/// A `geofences` row.
#[derive(Debug, sqlx::FromRow)]
pub struct FenceRow {
    id: String,
    brand_id: String,
    name: String,
    geometry: String,
    radius_m: Option<f64>,
    timezone: String,
    tags: String,
    external_id: Option<String>,
    max_accuracy_m: f64,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<FenceRow> for Fence {
    type Error = anyhow::Error;

    fn try_from(r: FenceRow) -> anyhow::Result<Fence> {
        let parse = || -> anyhow::Result<Fence> {
            Ok(Fence {
                id: Uuid::parse_str(&r.id)?,
                brand: BrandId::parse(&r.brand_id).map_err(anyhow::Error::msg)?,
                draft: FenceDraft {
                    name: r.name.clone(),
                    geometry: serde_json::from_str::<FenceGeometry>(&r.geometry)
                        .context("stored geometry")?,
                    radius: r
                        .radius_m
                        .map(RadiusM::parse)
                        .transpose()
                        .map_err(anyhow::Error::msg)?,
                    timezone: Timezone::parse(&r.timezone).map_err(anyhow::Error::msg)?,
                    tags: serde_json::from_str(&r.tags)?,
                    external_id: r.external_id.clone(),
                    max_accuracy: AccuracyM::parse(r.max_accuracy_m).map_err(anyhow::Error::msg)?,
                },
                created_at: DateTime::from_timestamp_millis(r.created_at).unwrap_or_default(),
                updated_at: DateTime::from_timestamp_millis(r.updated_at).unwrap_or_default(),
                version: r.version,
            })
        };
        parse().with_context(|| format!("reading geofence row {}", r.id))
    }
}

/// An `offers` row.
#[derive(Debug, sqlx::FromRow)]
pub struct OfferRow {
    id: String,
    brand_id: String,
    spec_version: i64,
    spec: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<OfferRow> for Offer {
    type Error = anyhow::Error;

    fn try_from(r: OfferRow) -> anyhow::Result<Offer> {
        anyhow::ensure!(
            r.spec_version == SPEC_VERSION,
            "offer spec version {} is newer than this build understands",
            r.spec_version
        );
        Ok(Offer {
            id: Uuid::parse_str(&r.id)?,
            brand: BrandId::parse(&r.brand_id).map_err(anyhow::Error::msg)?,
            spec: serde_json::from_str(&r.spec).context("stored offer spec")?,
            created_at: DateTime::from_timestamp_millis(r.created_at).unwrap_or_default(),
            updated_at: DateTime::from_timestamp_millis(r.updated_at).unwrap_or_default(),
            version: r.version,
        })
    }
}

/// A `console_sessions` row.
#[derive(sqlx::FromRow)]
pub struct SessionRow {
    token_hash: Vec<u8>,
    key_id: String,
    role: String,
    brand_id: Option<String>,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<SessionRow> for crate::auth::SessionRecord {
    type Error = anyhow::Error;

    fn try_from(r: SessionRow) -> anyhow::Result<Self> {
        Ok(Self {
            role: crate::auth::Role::parse(&r.role)
                .ok_or_else(|| anyhow::anyhow!("unknown role `{}`", r.role))?,
            brand: r
                .brand_id
                .map(|b| BrandId::parse(&b))
                .transpose()
                .map_err(|e| anyhow::anyhow!("stored brand: {e}"))?,
            token_hash: r.token_hash,
            key_id: r.key_id,
            created_at: DateTime::from_timestamp_millis(r.created_at).unwrap_or_default(),
            expires_at: DateTime::from_timestamp_millis(r.expires_at).unwrap_or_default(),
        })
    }
}
