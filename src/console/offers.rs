//! `/console/brands/{brand}/offers`: the brand's offers with their status and schedule; a
//! form for a new offer or an existing one, saved through `CatalogService::create_offer` /
//! `update_offer` (the API's `POST` and `PUT`), refused fields shown at the field; a preview
//! of the copy rendered for a sample moment by the check-in's own template code; retire.

use super::offer_form::{DAYS, OfferForm, field_of};
use super::pages;
use super::session::Signed;
use super::{ConsoleError, sign_in::CsrfForm};
use crate::auth::Role;
use crate::error::{ApiError, FieldError};
use crate::fences::FenceFeature;
use crate::offers::creative::{self, Part};
use crate::offers::validate::CONDITIONS;
use crate::offers::{OfferSpec, OfferStatus, OfferView};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most offers and fences the pages load.
const MAX_SHOWN: u32 = 1000;

/// `?saved=&deleted=` of the list.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    deleted: String,
}

/// One row of the list.
#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    status: &'static str,
    schedule: String,
    targeting: String,
}

/// `GET /console/brands/{brand}/offers`.
pub async fn list(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    notice: web::Query<Notice>,
) -> Result<HttpResponse, ConsoleError> {
    let catalog = &state.services.catalog;
    let b = catalog.brand(&who.who, &brand).await?;
    let page = catalog
        .list_offers(&who.who, &brand, None, Some(MAX_SHOWN))
        .await?;
    let rows: Vec<Row> = page.items.iter().map(row).collect();
    let hook_alerts = super::webhooks::alerts(&state, &who, &brand).await?;
    let notice = if !notice.saved.is_empty() {
        Some("The offer is saved; check-ins use it within a second.")
    } else if !notice.deleted.is_empty() {
        Some("The offer is retired: check-ins no longer offer it.")
    } else {
        None
    };
    Ok(pages::ok(
        "offers.html",
        context! {
            who => role(&who),
            csrf => &who.csrf,
            brand => context! { id => b.id.to_string(), name => &b.name },
            rows => Value::from(Serde(&rows)),
            truncated => page.next_cursor.is_some(),
            can_write => who.who.role != Role::Support,
            notice,
            hook_alerts => Value::from(Serde(&hook_alerts)),
        },
    ))
}

fn row(o: &OfferView) -> Row {
    let t = &o.spec.targeting;
    let mut what = Vec::new();
    if let Some(f) = &t.fences {
        let mut s = Vec::new();
        if !f.ids.is_empty() {
            s.push(format!(
                "{} fence{}",
                f.ids.len(),
                if f.ids.len() == 1 { "" } else { "s" }
            ));
        }
        if !f.tags.is_empty() {
            s.push(format!("tagged {}", f.tags.join(", ")));
        }
        what.push(s.join(" or "));
    } else {
        what.push("all fences".into());
    }
    if let Some(w) = &t.weather {
        let mut s = Vec::new();
        match (w.min_temp_c, w.max_temp_c) {
            (Some(lo), Some(hi)) => s.push(format!("{lo}–{hi} °C")),
            (Some(lo), None) => s.push(format!("≥ {lo} °C")),
            (None, Some(hi)) => s.push(format!("≤ {hi} °C")),
            (None, None) => {}
        }
        if let Some(c) = &w.conditions {
            s.push(c.join("/"));
        }
        what.push(s.join(", "));
    }
    if let Some(h) = &t.habit
        && let Some(v) = h.min_visits_per_week
    {
        what.push(format!("regulars ({v}+ visits a week)"));
    }
    Row {
        id: o.id.to_string(),
        name: o.spec.name.clone(),
        status: match o.spec.status {
            OfferStatus::Active => "active",
            OfferStatus::Paused => "paused",
        },
        schedule: schedule_summary(&o.spec),
        targeting: what.join(" · "),
    }
}

/// "Mon, Fri · 11:00–19:00" or "Every day, all day".
fn schedule_summary(spec: &OfferSpec) -> String {
    let s = spec.targeting.schedule.as_ref();
    let days = match s.and_then(|s| s.days.as_ref()) {
        Some(d) if d.len() < 7 => {
            let f = OfferForm::from_spec(spec);
            DAYS.iter()
                .filter(|(k, _)| f.days.iter().any(|d| d == k))
                .map(|(_, label)| *label)
                .collect::<Vec<_>>()
                .join(", ")
        }
        _ => "Every day".into(),
    };
    let hours = match s.and_then(|s| s.hours.as_ref()) {
        Some(h) if !h.is_empty() => h
            .iter()
            .map(|r| format!("{}–{}", r.from, r.to))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "all day".into(),
    };
    format!("{days} · {hours}")
}

fn role(who: &Signed) -> Value {
    context! {
        role => who.who.role.as_str(),
        brand => who.who.brand.as_ref().map(ToString::to_string),
    }
}

/// What the form page shows.
struct FormPage {
    /// `None` for a new offer.
    id: Option<String>,
    form: OfferForm,
    errors: Vec<FieldError>,
    preview: Option<Preview>,
    status: StatusCode,
}

/// The copy rendered for the sample moment.
#[derive(Serialize)]
struct Preview {
    title: String,
    body: String,
}

async fn render_form(
    state: &AppState,
    who: &Signed,
    raw: &str,
    page: FormPage,
) -> Result<HttpResponse, ConsoleError> {
    let catalog = &state.services.catalog;
    let brand = catalog.brand(&who.who, raw).await?;
    let fences: Vec<FenceFeature> = catalog
        .list_fences(&who.who, raw, None, None, Some(MAX_SHOWN))
        .await?
        .items;
    let fences: Vec<_> = fences
        .iter()
        .map(|f| {
            let id = f.id.to_string();
            context! {
                checked => page.form.fence_ids.contains(&id),
                id,
                name => &f.properties.name,
                tags => &f.properties.tags,
            }
        })
        .collect();
    let mut errors: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for e in &page.errors {
        errors
            .entry(field_of(&e.pointer))
            .or_default()
            .push(e.reason.clone());
    }
    let days: Vec<_> = DAYS
        .iter()
        .map(|(k, label)| context! { key => *k, label => *label, checked => page.form.days.iter().any(|d| d == k) })
        .collect();
    let conditions: Vec<_> = CONDITIONS
        .iter()
        .map(|c| context! { key => *c, checked => page.form.conditions.iter().any(|d| d == c) })
        .collect();
    let action = match &page.id {
        Some(id) => format!("/console/brands/{}/offers/{id}", brand.id),
        None => format!("/console/brands/{}/offers", brand.id),
    };
    Ok(pages::render(
        page.status,
        "offer_form.html",
        context! {
            who => role(who),
            csrf => &who.csrf,
            brand => context! { id => brand.id.to_string(), name => &brand.name },
            id => page.id,
            action,
            form => Value::from(Serde(&page.form)),
            errors => Value::from(Serde(&errors)),
            fences,
            days,
            conditions,
            variables => creative::VARIABLES.to_vec(),
            preview => page.preview.map(|p| Value::from(Serde(p))),
            can_write => who.who.role != Role::Support,
        },
    ))
}

/// `GET /console/brands/{brand}/offers/new`.
pub async fn new(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let page = FormPage {
        id: None,
        form: OfferForm::default(),
        errors: Vec::new(),
        preview: None,
        status: StatusCode::OK,
    };
    render_form(&state, &who, &brand, page).await
}

/// `GET /console/brands/{brand}/offers/{id}`: the offer in the form.
pub async fn edit(
    state: web::Data<AppState>,
    who: Signed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let (brand, id) = path.into_inner();
    let offer = state.services.catalog.offer(&who.who, &brand, &id).await?;
    let page = FormPage {
        id: Some(offer.id.to_string()),
        form: OfferForm::from_spec(&offer.spec),
        errors: Vec::new(),
        preview: None,
        status: StatusCode::OK,
    };
    render_form(&state, &who, &brand, page).await
}

/// `POST /console/brands/{brand}/offers`: a new offer (or its preview).
pub async fn create(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    submit(&state, &who, &brand, None, form.into_inner()).await
}

/// `POST /console/brands/{brand}/offers/{id}`: the offer replaced (or its preview).
pub async fn update(
    state: web::Data<AppState>,
    who: Signed,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    let (brand, id) = path.into_inner();
    // A stranger's (or a missing) offer is a 404 before anything else.
    state.services.catalog.offer(&who.who, &brand, &id).await?;
    submit(&state, &who, &brand, Some(id), form.into_inner()).await
}

async fn submit(
    state: &AppState,
    who: &Signed,
    brand: &str,
    id: Option<String>,
    pairs: Vec<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let (form, csrf, action) = OfferForm::from_pairs(pairs);
    who.check_csrf(&csrf)?;
    if action == "preview" {
        // Read-only keys may preview too: nothing is written.
        let b = state.services.catalog.brand(&who.who, brand).await?;
        let (preview, errors) = preview(&form, &b.name);
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let page = FormPage {
            id,
            form,
            errors,
            preview,
            status,
        };
        return render_form(state, who, brand, page).await;
    }
    let spec = match form.to_spec() {
        Ok(spec) => spec,
        Err(errors) => return refused(state, who, brand, id, form, errors).await,
    };
    let catalog = &state.services.catalog;
    let saved = match &id {
        Some(id) => catalog.update_offer(&who.who, brand, id, spec).await,
        None => catalog.create_offer(&who.who, brand, spec).await,
    };
    match saved {
        Ok(o) => Ok(pages::see_other(&format!(
            "/console/brands/{brand}/offers?saved={}",
            o.id
        ))),
        Err(ApiError::Validation { errors, .. }) => {
            refused(state, who, brand, id, form, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn refused(
    state: &AppState,
    who: &Signed,
    brand: &str,
    id: Option<String>,
    form: OfferForm,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, ConsoleError> {
    let page = FormPage {
        id,
        form,
        errors,
        preview: None,
        status: StatusCode::UNPROCESSABLE_ENTITY,
    };
    render_form(state, who, brand, page).await
}

/// `POST /console/brands/{brand}/offers/preview`: the copy preview as JSON, for the form's
/// script to show while the user types (`offer_form.js`). The same form and the same
/// `preview` as the **Preview** button, which stays for browsers without script; nothing is
/// written, so read-only keys may call it too.
pub async fn live_preview(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    let (form, csrf, _) = OfferForm::from_pairs(form.into_inner());
    who.check_csrf(&csrf)?;
    let b = state.services.catalog.brand(&who.who, &brand).await?;
    let (preview, errors) = preview(&form, &b.name);
    let mut by_field: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for e in &errors {
        by_field
            .entry(field_of(&e.pointer))
            .or_default()
            .push(e.reason.clone());
    }
    // A 200 either way: the preview was made, and a template's problems are its answer (an
    // error status would be turned into problem+json by the API's error handler).
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(LivePreview {
            preview,
            errors: by_field,
        }))
}

/// The live preview's answer: the copy, or the reasons by form field.
#[derive(Serialize)]
struct LivePreview {
    preview: Option<Preview>,
    errors: BTreeMap<&'static str, Vec<String>>,
}

/// The title and body rendered for the form's sample moment, through the check-in's own
/// template code (`offers::creative`): checked as a save would check them, then rendered.
fn preview(form: &OfferForm, brand: &str) -> (Option<Preview>, Vec<FieldError>) {
    let mut errors = Vec::new();
    for (pointer, src, part) in [
        ("/title", &form.title, Part::Title),
        ("/body", &form.body, Part::Body),
    ] {
        if let Err(e) = creative::check(src, part) {
            errors.push(FieldError::new(pointer, e));
        }
    }
    if !errors.is_empty() {
        return (None, errors);
    }
    let temp: Option<f64> = form.sample_temp_c.trim().parse().ok();
    let distance: f64 = form.sample_distance_m.trim().parse().unwrap_or(0.0);
    let fence = match form.sample_fence.trim() {
        "" => "Corner Store 5th Ave",
        f => f,
    };
    let item = Some(form.sample_item.trim()).filter(|i| !i.is_empty());
    let condition = Some(form.sample_condition.trim()).filter(|c| !c.is_empty());
    let ctx = context! {
        fence => context! { name => fence },
        brand => context! { name => brand },
        weather => context! { temp_c => temp, feels_like_c => temp, condition },
        habit => context! { usual_item => item, visits_per_week => 3.0 },
        distance_m => distance.round(),
        local_time => "15:00",
    };
    let title = creative::render(&form.title, &ctx, Part::Title);
    let body = creative::render(&form.body, &ctx, Part::Body);
    match (title, body) {
        (Ok(title), Ok(body)) => (Some(Preview { title, body }), errors),
        (t, b) => {
            if let Err(e) = t {
                errors.push(FieldError::new("/title", e));
            }
            if let Err(e) = b {
                errors.push(FieldError::new("/body", e));
            }
            (None, errors)
        }
    }
}

/// `POST /console/brands/{brand}/offers/{id}/delete`: retires the offer.
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
        .delete_offer(&who.who, &brand, &id)
        .await?;
    Ok(pages::see_other(&format!(
        "/console/brands/{brand}/offers?deleted=1"
    )))
}
