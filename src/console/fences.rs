//! `/console/brands/{brand}/fences`: the brand's fences on a map with a list beside it,
//! filtered by tag or a search; delete one. Drawing a new fence (`fence_new`), reshaping
//! one (`fence_shape`) and importing a file (`fence_import`) come back to this page.

use super::fence_new::FenceForm;
use super::pages;
use super::session::Signed;
use super::{ConsoleError, sign_in::CsrfForm};
use crate::auth::Role;
use crate::fences::{FenceFeature, FenceGeometry};
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
    let brand = state.services.catalog.brand(&who.who, raw).await?;
    let (all, truncated) = all_fences(state, who, raw).await?;
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
    let hook_alerts = super::webhooks::alerts(state, who, raw).await?;
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
        hook_alerts => Value::from(Serde(&hook_alerts)),
    };
    Ok(pages::render(
        form.status.unwrap_or(StatusCode::OK),
        "fences.html",
        ctx,
    ))
}

/// The brand's fences, up to [`MAX_SHOWN`], and whether there are more.
pub(super) async fn all_fences(
    state: &AppState,
    who: &Signed,
    raw: &str,
) -> Result<(Vec<FenceFeature>, bool), ConsoleError> {
    let mut all: Vec<FenceFeature> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .services
            .catalog
            .list_fences(&who.who, raw, None, cursor.as_deref(), Some(1000))
            .await?;
        all.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() || all.len() >= MAX_SHOWN {
            return Ok((all, cursor.is_some()));
        }
    }
}

pub(super) fn role(who: &Signed) -> minijinja::Value {
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
