//! The support pages: deliveries search (`/console/deliveries`, with CSV and NDJSON
//! exports), one decision explained (`/console/decisions/{checkin_id}`) and a person's
//! timeline (`/console/users/{user_id}/timeline`). Every page calls the same
//! `SupportService` reads as the API's support endpoints, with the session's key, so the
//! scopes are the API's and every read lands in the read log.

use super::pages;
use super::session::Signed;
use super::{ConsoleError, fences::role};
use crate::auth::{DEFAULT_APP, Role};
use crate::decisions::trace::Trace;
use crate::error::ApiError;
use crate::services::support::{DeliveryAsk, PageAsk, Reader, Window};
use crate::state::AppState;
use crate::support::export::Format;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_DISPOSITION;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures_util::TryStreamExt;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Rows on one page of the deliveries search.
const PAGE_SIZE: u32 = 50;

/// Who reads, and the request as the read log shows it (path and query, as the API's).
fn reader<'a>(who: &'a Signed, req: &HttpRequest) -> Reader<'a> {
    Reader {
        who: &who.who,
        query: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_string(), |p| p.to_string()),
    }
}

/// The deliveries search's filters, as the form sends them (empty means "any").
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Search {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    app: String,
    #[serde(default)]
    brand: String,
    #[serde(default)]
    offer_id: String,
    #[serde(default)]
    fence_id: String,
    /// One of `decisions::deliveries::STATUSES`; the service names anything else.
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    cursor: String,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A time as typed: RFC 3339, or a `datetime-local` field's `YYYY-MM-DDTHH:MM[:SS]` in UTC.
fn time(field: &str, s: &str, errors: &mut Vec<String>) -> Option<DateTime<Utc>> {
    let s = some(s)?;
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&s, f) {
            return Some(t.and_utc());
        }
    }
    errors.push(format!(
        "{field}: “{s}” is not a time; use 2026-07-14T19:00 (UTC)"
    ));
    None
}

fn id(field: &str, s: &str, errors: &mut Vec<String>) -> Option<Uuid> {
    let s = some(s)?;
    match Uuid::parse_str(&s) {
        Ok(u) => Some(u),
        Err(_) => {
            errors.push(format!("{field}: “{s}” is not an id (a UUID)"));
            None
        }
    }
}

impl Search {
    /// The service's question, or what is wrong with the form, field by field.
    fn ask(&self) -> Result<DeliveryAsk, Vec<String>> {
        let mut errors = Vec::new();
        let ask = DeliveryAsk {
            app: some(&self.app),
            user_id: some(&self.user_id),
            brand: some(&self.brand),
            offer_id: id("Offer", &self.offer_id, &mut errors),
            fence_id: id("Fence", &self.fence_id, &mut errors),
            status: some(&self.status),
            from: time("From", &self.from, &mut errors),
            to: time("To", &self.to, &mut errors),
        };
        if errors.is_empty() {
            Ok(ask)
        } else {
            Err(errors)
        }
    }

    /// These filters as a query string, starting at `cursor`.
    fn query(&self, cursor: Option<&str>) -> String {
        let mut s = self.clone();
        s.cursor = cursor.unwrap_or_default().to_string();
        serde_urlencoded::to_string(&s).unwrap_or_default()
    }
}

/// The words of a service refusal, for the form's error list.
fn refusal(e: ApiError) -> Result<Vec<String>, ConsoleError> {
    match e {
        ApiError::BadRequest { errors, detail } => Ok(if errors.is_empty() {
            vec![detail]
        } else {
            errors.into_iter().map(|f| f.reason).collect()
        }),
        other => Err(other.into()),
    }
}

/// `GET /console/deliveries`: every offer sent, newest first, filtered and paged.
pub async fn deliveries(
    state: web::Data<AppState>,
    who: Signed,
    req: HttpRequest,
    search: web::Query<Search>,
) -> Result<HttpResponse, ConsoleError> {
    let support = &state.services.support;
    let r = reader(&who, &req);
    let (rows, next, errors) = match search.ask() {
        Err(errors) => (Vec::new(), None, errors),
        Ok(ask) => {
            let page = match support.delivery_request(&r, ask) {
                Ok(asked) => {
                    let cursor = some(&search.cursor);
                    support
                        .deliveries(&r, &asked, cursor.as_deref(), Some(PAGE_SIZE))
                        .await
                }
                Err(e) => Err(e),
            };
            match page {
                Ok(p) => (p.items, p.next_cursor, Vec::new()),
                Err(e) => (Vec::new(), None, refusal(e)?),
            }
        }
    };
    let filters = search.query(None);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let ctx = context! {
        who => role(&who),
        csrf => &who.csrf,
        staff => who.who.role != Role::Brand,
        search => Value::from(Serde(&search.0)),
        statuses => crate::decisions::deliveries::STATUSES.to_vec(),
        rows => Value::from(Serde(&rows)),
        errors,
        first_page => search.cursor.is_empty(),
        first => format!("/console/deliveries?{filters}"),
        next => next.map(|c| format!("/console/deliveries?{}", search.query(Some(&c)))),
        csv => format!("/console/deliveries/export.csv?{filters}"),
        ndjson => format!("/console/deliveries/export.ndjson?{filters}"),
    };
    Ok(pages::render(status, "deliveries.html", ctx))
}

/// `GET /console/deliveries/export.{csv,ndjson}`: every matching delivery streamed, through
/// the same service call as the API's export, with the session's rights.
pub async fn export(
    state: web::Data<AppState>,
    who: Signed,
    req: HttpRequest,
    format: web::Path<String>,
    search: web::Query<Search>,
) -> Result<HttpResponse, ConsoleError> {
    let format = match format.as_str() {
        "csv" => Format::Csv,
        "ndjson" => Format::Ndjson,
        other => {
            return Err(ApiError::NotFound(format!("no export as `{other}`")).into());
        }
    };
    let ask = search.ask().map_err(|errors| ApiError::BadRequest {
        detail: errors.join(" "),
        errors: Vec::new(),
    })?;
    let support = &state.services.support;
    let r = reader(&who, &req);
    let asked = support.delivery_request(&r, ask)?;
    let cursor = some(&search.cursor);
    let chunks = support
        .export(&r, asked, cursor.as_deref(), None, format)
        .await?
        .map_ok(Bytes::from);
    let name = if format == Format::Csv {
        "csv"
    } else {
        "ndjson"
    };
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"deliveries.{name}\""),
        ))
        .streaming(chunks))
}

/// `?app=` of the decision page.
#[derive(Debug, Default, Deserialize)]
pub struct AppParam {
    #[serde(default)]
    app: String,
}

/// The timeline's query: the app, a time window (`from` included, `to` not; UTC, as the
/// deliveries search reads them) and the page.
#[derive(Debug, Default, Deserialize)]
pub struct TimelineParams {
    #[serde(default)]
    app: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

/// The fence a decision matched, as the small map draws it: its shape, never the person's
/// position.
#[derive(Serialize)]
struct MatchedFence {
    name: String,
    brand: String,
    /// How far inside the edge the check-in was, in words.
    distance: String,
}

/// `GET /console/decisions/{checkin_id}`: the decision told as sentences, candidate by
/// candidate (the API's explanation), and the matched fence on a small map.
pub async fn decision(
    state: web::Data<AppState>,
    who: Signed,
    req: HttpRequest,
    checkin_id: web::Path<String>,
    q: web::Query<AppParam>,
) -> Result<HttpResponse, ConsoleError> {
    let r = reader(&who, &req);
    let view = state
        .services
        .support
        .decision(&r, &checkin_id, some(&q.app).as_deref())
        .await?;
    // The matched fence: the delivered offer's, else the first place the trace names. The
    // trace (which holds the check-in's rounded position) itself never reaches the page.
    let places = Trace::read(&view.trace)
        .map(|t| {
            t.fences
                .iter()
                .map(|f| {
                    (
                        f.id,
                        f.name.to_string(),
                        f.brand.to_string(),
                        f.edge_distance_m,
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let wanted = view.delivery.as_ref().map(|d| d.fence_id);
    let place = wanted
        .and_then(|w| places.iter().find(|p| p.0 == w))
        .or(places.first())
        .cloned();
    let mut matched = None;
    let mut feature = None;
    if let Some((fid, name, brand, edge)) = place {
        let distance = if edge >= 0.0 {
            format!("{edge:.1} m inside its edge")
        } else {
            format!("{:.1} m outside its edge", -edge)
        };
        // A fence deleted since keeps its name and distance, without a shape to draw.
        feature = state
            .services
            .catalog
            .fence(&who.who, &brand, &fid.to_string())
            .await
            .ok();
        matched = Some(MatchedFence {
            name,
            brand,
            distance,
        });
    }
    let settings = &state.settings;
    let ctx = context! {
        who => role(&who),
        csrf => &who.csrf,
        d => context! {
            checkin_id => &view.checkin_id,
            app => &view.app,
            user_id => &view.user_id,
            at => view.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            decision => &view.decision,
            reason => &view.reason,
            summary => &view.summary,
            explanation => &view.explanation,
            candidates => Value::from(Serde(&view.candidates)),
            delivery => Value::from(Serde(&view.delivery)),
            purged => view.trace_purged_at.map(|t| t.format("%Y-%m-%d").to_string()),
            latency_ms => format!("{:.1}", view.latency_us as f64 / 1000.0),
        },
        matched => Value::from(Serde(&matched)),
        has_shape => feature.is_some(),
        fence => pages::script_json(&feature),
        map => pages::script_json(&serde_json::json!({
            "tile_url": settings.console_tile_url,
            "attribution": settings.console_tile_attribution,
        })),
    };
    Ok(pages::ok("decision.html", ctx))
}

/// `GET /console/users/{user_id}/timeline?app=`: a person's consent changes, decisions and
/// deliveries, oldest first, each decision linked to its page.
pub async fn timeline(
    state: web::Data<AppState>,
    who: Signed,
    req: HttpRequest,
    user_id: web::Path<String>,
    q: web::Query<TimelineParams>,
) -> Result<HttpResponse, ConsoleError> {
    let r = reader(&who, &req);
    let cursor = some(&q.cursor);
    let mut errors = Vec::new();
    let window = Window {
        from: time("From", &q.from, &mut errors),
        to: time("To", &q.to, &mut errors),
    };
    let asked = if errors.is_empty() {
        let asked = state
            .services
            .support
            .timeline(
                &r,
                &user_id,
                some(&q.app),
                window,
                PageAsk {
                    cursor: cursor.as_deref(),
                    limit: Some(100),
                },
            )
            .await;
        match asked {
            Ok(found) => Some(found),
            Err(e) => {
                errors = refusal(e)?;
                None
            }
        }
    } else {
        None
    };
    let (app, page) = match asked {
        Some((app, page)) => (app, Some(page)),
        None => (
            some(&q.app).unwrap_or_else(|| DEFAULT_APP.to_string()),
            None,
        ),
    };
    let items: Vec<_> = page
        .iter()
        .flat_map(|p| &p.items)
        .map(|e| {
            let checkin = match e.kind.as_str() {
                "decision" => Some(e.id.clone()),
                _ => e.detail["checkin_id"].as_str().map(str::to_string),
            };
            context! {
                at => e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                kind => &e.kind,
                summary => &e.summary,
                checkin,
            }
        })
        .collect();
    let here = format!("/console/users/{}/timeline", pages::urlencode(&user_id));
    let next = page.and_then(|p| p.next_cursor).map(|c| {
        let query = [
            ("app", app.as_str()),
            ("from", q.from.trim()),
            ("to", q.to.trim()),
            ("cursor", c.as_str()),
        ];
        format!(
            "{here}?{}",
            serde_urlencoded::to_string(query).unwrap_or_default()
        )
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let ctx = context! {
        who => role(&who),
        csrf => &who.csrf,
        user_id => user_id.as_str(),
        app => &app,
        app_q => pages::urlencode(&app),
        here,
        from => q.from.trim(),
        to => q.to.trim(),
        errors,
        items,
        next,
        deliveries => format!("/console/deliveries?{}",
            serde_urlencoded::to_string([("user_id", user_id.as_str()), ("app", app.as_str())]).unwrap_or_default()),
    };
    Ok(pages::render(status, "timeline.html", ctx))
}
