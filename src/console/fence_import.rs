//! `POST /console/brands/{brand}/fences/import`: a GeoJSON FeatureCollection chosen in the
//! browser, imported all or nothing through `CatalogService::import_fences` (the API's
//! `POST …/geofences/import`); every problem is listed per feature, in words.

use super::ConsoleError;
use super::fences::{Filter, FormState, render};
use super::pages;
use super::session::Signed;
use crate::error::{ApiError, FieldError};
use crate::services::catalog::ImportInput;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// The import form: the file's text, read by the page's script.
#[derive(Debug, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    /// The FeatureCollection as JSON text.
    #[serde(default)]
    collection: String,
}

/// Imports the collection, or shows the page again with what to fix.
pub async fn import(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    form: web::Form<ImportForm>,
) -> Result<HttpResponse, ConsoleError> {
    who.check_csrf(&form.csrf)?;
    let refused = |lines: Vec<String>| FormState {
        import_errors: lines,
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        ..FormState::default()
    };
    if form.collection.trim().is_empty() {
        let lines = vec!["Choose a GeoJSON file first.".to_string()];
        return render(&state, &who, &brand, &Filter::default(), refused(lines)).await;
    }
    let input: ImportInput = match serde_json::from_str(&form.collection) {
        Ok(input) => input,
        Err(e) => {
            let lines = vec![format!(
                "The file is not a GeoJSON FeatureCollection geoffer can read: {e}."
            )];
            return render(&state, &who, &brand, &Filter::default(), refused(lines)).await;
        }
    };
    match state
        .services
        .catalog
        .import_fences(&who.who, &brand, &input)
        .await
    {
        Ok(done) => Ok(pages::see_other(&format!(
            "/console/brands/{brand}/fences?imported={},{}",
            done.created, done.updated
        ))),
        Err(ApiError::Validation { errors, .. }) => {
            let lines = errors.iter().map(|e| in_words(e, &input)).collect();
            render(&state, &who, &brand, &Filter::default(), refused(lines)).await
        }
        Err(ApiError::Conflict(why)) => {
            render(&state, &who, &brand, &Filter::default(), refused(vec![why])).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `/features/3/properties/timezone: …` as "Feature 4 (“Name”), time zone: …".
fn in_words(e: &FieldError, input: &ImportInput) -> String {
    let Some(rest) = e.pointer.strip_prefix("/features/") else {
        return e.reason.clone();
    };
    let (index, field) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(i) = index.parse::<usize>() else {
        return e.reason.clone();
    };
    let name = input
        .features
        .get(i)
        .map(|f| f.properties.name.trim())
        .filter(|n| !n.is_empty())
        .map(|n| format!(" (“{n}”)"))
        .unwrap_or_default();
    let field = match field.split('/').nth(1).unwrap_or("") {
        _ if field.starts_with("geometry") => "shape",
        "name" => "name",
        "timezone" => "time zone",
        "tags" => "tags",
        "external_id" => "your id for the place",
        "radius_m" => "radius",
        "max_accuracy_m" => "accuracy",
        _ => "",
    };
    let field = if field.is_empty() {
        String::new()
    } else {
        format!(", {field}")
    };
    format!("Feature {}{name}{field}: {}", i + 1, e.reason)
}
