//! `POST /console/brands/{brand}/fences`: the shape drawn on the map, saved as a new fence
//! through `CatalogService::create_fence` (the API's `POST …/geofences`); a refusal comes
//! back as the page with the form as sent and each reason at its field.

use super::ConsoleError;
use super::fences::{Filter, FormState, render};
use super::pages;
use super::session::Signed;
use crate::error::{ApiError, FieldError};
use crate::fences::{FeatureInput, FencePropertiesInput, GeometryInput};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The new-fence form, as posted (the map fills `geometry` and `radius_m`).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct FenceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    external_id: String,
    /// Tags separated by commas or spaces.
    #[serde(default)]
    tags: String,
    #[serde(default)]
    timezone: String,
    /// The drawn shape as a GeoJSON geometry (JSON text).
    #[serde(default)]
    geometry: String,
    /// For circles, the radius in metres.
    #[serde(default)]
    radius_m: String,
}

/// `POST /console/brands/{brand}/fences`: saves the drawn shape as a new fence.
pub async fn create(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    form: web::Form<FenceForm>,
) -> Result<HttpResponse, ConsoleError> {
    who.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let input = match feature_input(&form) {
        Ok(input) => input,
        Err(errors) => return refused(&state, &who, &brand, form, errors).await,
    };
    match state
        .services
        .catalog
        .create_fence(&who.who, &brand, &input)
        .await
    {
        Ok(f) => Ok(pages::see_other(&format!(
            "/console/brands/{brand}/fences?saved={}",
            f.id
        ))),
        Err(ApiError::Validation { errors, .. }) => {
            refused(&state, &who, &brand, form, errors).await
        }
        Err(ApiError::Conflict(why)) => {
            let errors = vec![FieldError::new("/properties/external_id", why)];
            refused(&state, &who, &brand, form, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The page again, with the form as sent and each error at its field.
async fn refused(
    state: &AppState,
    who: &Signed,
    brand: &str,
    mut form: FenceForm,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, ConsoleError> {
    let mut by_field: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for e in errors {
        by_field
            .entry(field_of(&e.pointer))
            .or_default()
            .push(e.reason);
    }
    form.csrf.clear();
    let status = Some(StatusCode::UNPROCESSABLE_ENTITY);
    let values = Some(form);
    let form = FormState {
        values,
        errors: by_field,
        status,
        ..FormState::default()
    };
    render(state, who, brand, &Filter::default(), form).await
}

/// Which form field a service error's JSON pointer names; the shape's problems belong to
/// the map.
fn field_of(pointer: &str) -> &'static str {
    let p = pointer.strip_prefix("/properties/").unwrap_or("");
    match p.split('/').next().unwrap_or("") {
        "name" => "name",
        "external_id" => "external_id",
        "tags" => "tags",
        "timezone" => "timezone",
        _ => "map",
    }
}

/// The form as the API's Feature; a missing or unreadable shape is named in words.
fn feature_input(f: &FenceForm) -> Result<FeatureInput, Vec<FieldError>> {
    if f.geometry.trim().is_empty() {
        return Err(vec![FieldError::new(
            "/geometry",
            "draw a circle or a polygon on the map first",
        )]);
    }
    let geometry: GeometryInput = serde_json::from_str(&f.geometry).map_err(|_| {
        vec![FieldError::new(
            "/geometry",
            "the drawn shape could not be read; draw it again",
        )]
    })?;
    let radius_m = match f.radius_m.trim() {
        "" => None,
        r => Some(r.parse::<f64>().map_err(|_| {
            vec![FieldError::new(
                "/properties/radius_m",
                "the circle's radius is not a number; draw it again",
            )]
        })?),
    };
    let tags = f
        .tags
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let external_id = Some(f.external_id.trim())
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    Ok(FeatureInput {
        type_: "Feature".into(),
        geometry,
        properties: FencePropertiesInput {
            name: f.name.clone(),
            radius_m,
            timezone: f.timezone.trim().to_string(),
            tags,
            external_id,
            max_accuracy_m: None,
        },
        id: None,
        bbox: None,
    })
}
