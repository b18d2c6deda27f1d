//! `POST /console/brands/{brand}/fences/{id}/shape`: a fence reshaped on the map (vertices
//! dragged, a circle moved or resized) replaces its geometry; everything else about the
//! fence stays. Saved through `CatalogService::update_fence`, like `PUT …/geofences/{id}`.

use super::ConsoleError;
use super::fences::{Filter, FormState, render};
use super::pages;
use super::session::Signed;
use crate::error::ApiError;
use crate::fences::{FeatureInput, FencePropertiesInput, GeometryInput};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// The reshape form, as the map fills it.
#[derive(Debug, Deserialize)]
pub struct ShapeForm {
    #[serde(default)]
    csrf: String,
    /// The new GeoJSON geometry (JSON text).
    #[serde(default)]
    geometry: String,
    /// For circles, the new radius in metres.
    #[serde(default)]
    radius_m: String,
}

/// Saves the new shape; a refusal comes back as the page with the reason under the map.
pub async fn save(
    state: web::Data<AppState>,
    who: Signed,
    path: web::Path<(String, String)>,
    form: web::Form<ShapeForm>,
) -> Result<HttpResponse, ConsoleError> {
    who.check_csrf(&form.csrf)?;
    let (brand, id) = path.into_inner();
    let catalog = &state.services.catalog;
    let current = catalog.fence(&who.who, &brand, &id).await?;
    let refused = |why: String| FormState {
        shape_error: Some(format!(
            "The new shape of “{}” was not saved: {why}",
            current.properties.name
        )),
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        ..FormState::default()
    };
    let Ok(geometry) = serde_json::from_str::<GeometryInput>(&form.geometry) else {
        let state_ = refused("the shape could not be read; try again.".into());
        return render(&state, &who, &brand, &Filter::default(), state_).await;
    };
    let radius_m = form.radius_m.trim().parse::<f64>().ok();
    let p = &current.properties;
    let input = FeatureInput {
        type_: "Feature".into(),
        geometry,
        properties: FencePropertiesInput {
            name: p.name.clone(),
            radius_m,
            timezone: p.timezone.clone(),
            tags: p.tags.clone(),
            external_id: p.external_id.clone(),
            max_accuracy_m: Some(p.max_accuracy_m),
        },
        id: None,
        bbox: None,
    };
    match catalog.update_fence(&who.who, &brand, &id, &input).await {
        Ok(f) => Ok(pages::see_other(&format!(
            "/console/brands/{brand}/fences?saved={}",
            f.id
        ))),
        Err(ApiError::Validation { errors, .. }) => {
            let why = errors
                .into_iter()
                .map(|e| e.reason)
                .collect::<Vec<_>>()
                .join("; ");
            render(&state, &who, &brand, &Filter::default(), refused(why)).await
        }
        Err(e) => Err(e.into()),
    }
}
