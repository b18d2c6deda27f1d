//! `/console/brands/{brand}/fences`: the brand's fences on a map with a list beside it; draw
//! a circle or polygon and save it, delete one. Saving goes through the same
//! `CatalogService` as `POST /v1/brands/{brand}/geofences`, so the rules are the API's.

use super::pages;
use super::session::Signed;
use super::{ConsoleError, sign_in::CsrfForm};
use crate::auth::Role;
use crate::error::{ApiError, FieldError};
use crate::fences::{
    FeatureInput, FenceFeature, FenceGeometry, FencePropertiesInput, GeometryInput,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The most fences the page loads (ten pages of the service's largest page).
const MAX_SHOWN: usize = 10_000;

/// `?tag=&q=` of the fences page.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    /// Only fences with this tag.
    #[serde(default)]
    tag: String,
    /// Only fences whose name or external id contains this (any case).
    #[serde(default)]
    q: String,
    /// Set after a save: the new fence's id.
    #[serde(default)]
    saved: String,
    /// Set after a delete.
    #[serde(default)]
    deleted: String,
    /// Set after an import: how many fences were new and how many replaced.
    #[serde(default)]
    imported: String,
}

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

/// One row of the list.
#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    external_id: Option<String>,
    tags: Vec<String>,
    shape: String,
    /// Circles and single polygons can be reshaped on the map.
    reshapable: bool,
}

/// `GET /console/brands`: the brands a staff key may open (a brand key goes to its own).
pub async fn brands(state: web::Data<AppState>, who: Signed) -> Result<HttpResponse, ConsoleError> {
    if let Some(b) = &who.who.brand {
        return Ok(pages::see_other(&format!("/console/brands/{b}/fences")));
    }
    let brands = state.services.catalog.list_brands(&who.who).await?;
    let brands: Vec<_> = brands
        .iter()
        .map(|b| context! { id => b.id.to_string(), name => &b.name })
        .collect();
    Ok(pages::ok(
        "brands.html",
        context! { who => role(&who), csrf => &who.csrf, brands },
    ))
}

/// `GET /console/brands/{brand}/fences`.
pub async fn page(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    filter: web::Query<Filter>,
) -> Result<HttpResponse, ConsoleError> {
    render(&state, &who, &brand, &filter, FormState::default()).await
}

/// What the page shows again after a refused save.
#[derive(Default)]
pub(super) struct FormState {
    /// The new-fence form as sent.
    pub values: Option<FenceForm>,
    /// The new-fence form's errors by field.
    pub errors: BTreeMap<&'static str, Vec<String>>,
    /// Why a reshaped fence was not saved.
    pub shape_error: Option<String>,
    /// Why an import was refused, one line per problem.
    pub import_errors: Vec<String>,
    /// The answer's status (200 when unset).
    pub status: Option<StatusCode>,
}

/// The fences page of `raw` (filtered), with `form` after a refused save.
pub(super) async fn render(
    state: &AppState,
    who: &Signed,
    raw: &str,
    filter: &Filter,
    form: FormState,
) -> Result<HttpResponse, ConsoleError> {
    let catalog = &state.services.catalog;
    let brand = catalog.brand(&who.who, raw).await?;
    let mut all: Vec<FenceFeature> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = catalog
            .list_fences(&who.who, raw, None, cursor.as_deref(), Some(1000))
            .await?;
        all.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() || all.len() >= MAX_SHOWN {
            break;
        }
    }
    let truncated = cursor.is_some();
    let tags: BTreeSet<String> = all
        .iter()
        .flat_map(|f| f.properties.tags.iter().cloned())
        .collect();
    let needle = filter.q.trim().to_lowercase();
    let shown: Vec<FenceFeature> = all
        .into_iter()
        .filter(|f| filter.tag.is_empty() || f.properties.tags.contains(&filter.tag))
        .filter(|f| {
            needle.is_empty()
                || f.properties.name.to_lowercase().contains(&needle)
                || f.properties
                    .external_id
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(&needle))
        })
        .collect();
    let rows: Vec<Row> = shown.iter().map(row).collect();
    let settings = &state.settings;
    let map = pages::script_json(&serde_json::json!({
        "tile_url": settings.console_tile_url,
        "attribution": settings.console_tile_attribution,
        "can_write": who.who.role != Role::Support,
    }));
    let ctx = context! {
        who => role(who),
        csrf => &who.csrf,
        brand => context! { id => brand.id.to_string(), name => &brand.name },
        rows => Value::from(Serde(&rows)),
        features => pages::script_json(&shown),
        map,
        tags,
        filter => context! { tag => &filter.tag, q => &filter.q },
        notice => if !filter.saved.is_empty() {
            Some("The fence is saved; check-ins find it within a second.".to_string())
        } else if !filter.deleted.is_empty() {
            Some("The fence is deleted.".to_string())
        } else if let Some((new, replaced)) = filter.imported.split_once(',') {
            Some(format!("Imported: {new} new, {replaced} replaced (matched by your id for the place)."))
        } else {
            None
        },
        saved => &filter.saved,
        truncated,
        can_write => who.who.role != Role::Support,
        form => Value::from(Serde(form.values.unwrap_or_default())),
        errors => Value::from(Serde(&form.errors)),
        shape_error => form.shape_error,
        import_errors => form.import_errors,
    };
    Ok(pages::render(
        form.status.unwrap_or(StatusCode::OK),
        "fences.html",
        ctx,
    ))
}

fn role(who: &Signed) -> minijinja::Value {
    context! {
        role => who.who.role.as_str(),
        brand => who.who.brand.as_ref().map(ToString::to_string),
    }
}

fn row(f: &FenceFeature) -> Row {
    let shape = match &f.geometry {
        FenceGeometry::Point(_) => format!(
            "circle, {} m",
            f.properties.radius_m.unwrap_or_default().round()
        ),
        FenceGeometry::Polygon(rings) => holes("polygon", rings.len() - 1),
        FenceGeometry::MultiPolygon(polys) => holes(
            &format!("{} polygons", polys.len()),
            polys.iter().map(|p| p.len() - 1).sum(),
        ),
    };
    Row {
        reshapable: !matches!(f.geometry, FenceGeometry::MultiPolygon(_)),
        id: f.id.to_string(),
        name: f.properties.name.clone(),
        external_id: f.properties.external_id.clone(),
        tags: f.properties.tags.clone(),
        shape,
    }
}

fn holes(what: &str, n: usize) -> String {
    match n {
        0 => what.to_string(),
        1 => format!("{what}, 1 hole"),
        n => format!("{what}, {n} holes"),
    }
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

/// `POST /console/brands/{brand}/fences/{id}/delete`.
pub async fn delete(
    state: web::Data<AppState>,
    who: Signed,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    who.check_csrf(&form.csrf)?;
    let (brand, id) = path.into_inner();
    state
        .services
        .catalog
        .delete_fence(&who.who, &brand, &id)
        .await?;
    Ok(pages::see_other(&format!(
        "/console/brands/{brand}/fences?deleted=1"
    )))
}
