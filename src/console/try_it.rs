//! `/console/brands/{brand}/try`: "Try it" — click a point on the brand's fences map, pick a
//! test person, a moment and the weather, and see the decision geoffer would make there and
//! why. The form goes to `TrialService::try_it`, the call behind
//! `POST /v1/brands/{brand}/offers/try`: the real engine, nothing recorded.

use super::ConsoleError;
use super::fences::{all_fences, role};
use super::pages;
use super::session::Signed;
use crate::error::ApiError;
use crate::services::trial::{Persona, TestPersonInput, TrialInput, TrialView, TrialWeather};
use crate::state::AppState;
use crate::weather::Condition;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The form as sent (and shown again).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct TryForm {
    /// The session's CSRF token.
    #[serde(default, skip_serializing)]
    csrf: String,
    /// The point clicked on the map.
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    /// `first-visit` or `regular`.
    #[serde(default)]
    persona: String,
    /// Checkboxes: present when ticked.
    #[serde(default)]
    personalization: Option<String>,
    #[serde(default)]
    follows_brand: Option<String>,
    /// Comma separated.
    #[serde(default)]
    interests: String,
    #[serde(default)]
    usual_item: String,
    /// `YYYY-MM-DDTHH:MM` in UTC (a `datetime-local` input); empty: now.
    #[serde(default)]
    at: String,
    /// A condition, or `unknown`.
    #[serde(default)]
    condition: String,
    #[serde(default)]
    temp_c: String,
}

/// `GET /console/brands/{brand}/try`.
pub async fn page(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let form = TryForm {
        persona: "regular".into(),
        personalization: Some("on".into()),
        follows_brand: Some("on".into()),
        condition: "clear".into(),
        temp_c: "30".into(),
        ..TryForm::default()
    };
    render(&state, &who, &brand, &form, Shown::default()).await
}

/// `POST /console/brands/{brand}/try`.
pub async fn submit(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    form: web::Form<TryForm>,
) -> Result<HttpResponse, ConsoleError> {
    who.check_csrf(&form.csrf)?;
    let mut errors: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let input = read(&form, &mut errors);
    let shown = match input {
        Some(input) if errors.is_empty() => {
            match state.services.trial.try_it(&who.who, &brand, input).await {
                Ok(view) => Shown {
                    result: Some(view),
                    ..Shown::default()
                },
                Err(ApiError::Validation { errors: found, .. }) => {
                    for e in found {
                        errors
                            .entry(field_of(&e.pointer))
                            .or_default()
                            .push(e.reason);
                    }
                    Shown {
                        errors,
                        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                        ..Shown::default()
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        _ => Shown {
            errors,
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            ..Shown::default()
        },
    };
    render(&state, &who, &brand, &form, shown).await
}

/// The form's field a service pointer names.
fn field_of(pointer: &str) -> &'static str {
    match pointer
        .trim_start_matches('/')
        .split('/')
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["lat" | "lon" | "accuracy_m", ..] => "map",
        ["at", ..] => "at",
        ["weather", "temp_c", ..] => "temp_c",
        ["weather", ..] => "condition",
        ["person", "interests", ..] => "interests",
        ["person", "usual_item", ..] => "usual_item",
        _ => "persona",
    }
}

/// The form read into the service's question; what cannot be read is named by field.
fn read(f: &TryForm, errors: &mut BTreeMap<&'static str, Vec<String>>) -> Option<TrialInput> {
    let mut bad =
        |field: &'static str, why: &str| errors.entry(field).or_default().push(why.into());
    let point = match (f.lat.trim().parse::<f64>(), f.lon.trim().parse::<f64>()) {
        (Ok(lat), Ok(lon)) => Some((lat, lon)),
        _ => {
            bad("map", "Click a point on the map first.");
            None
        }
    };
    let at = match f.at.trim() {
        "" => Some(None),
        s => match NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .map(|t| t.and_utc())
            .or_else(|_| s.parse::<DateTime<Utc>>())
        {
            Ok(t) => Some(Some(t)),
            Err(_) => {
                bad("at", "Give a date and time, e.g. 2026-07-14T15:00 (UTC).");
                None
            }
        },
    };
    let weather = match f.condition.as_str() {
        "" | "unknown" => Some(None),
        c => match (Condition::parse(c), f.temp_c.trim().parse::<f64>()) {
            (Some(condition), Ok(temp_c)) => Some(Some(TrialWeather { condition, temp_c })),
            (None, _) => {
                bad("condition", "Pick a weather condition.");
                None
            }
            (_, Err(_)) => {
                bad("temp_c", "Give the temperature as a number of °C, e.g. 31.");
                None
            }
        },
    };
    let persona = match f.persona.as_str() {
        "regular" => Persona::Regular,
        _ => Persona::FirstVisit,
    };
    let usual = f.usual_item.trim();
    let ((lat, lon), at, weather) = (point?, at?, weather?);
    Some(TrialInput {
        lat,
        lon,
        accuracy_m: None,
        at,
        weather,
        person: TestPersonInput {
            persona,
            personalization: f.personalization.is_some(),
            follows_brand: f.follows_brand.is_some(),
            interests: f
                .interests
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            usual_item: (!usual.is_empty()).then(|| usual.to_string()),
        },
    })
}

/// What the page shows beside the map.
#[derive(Default)]
struct Shown {
    result: Option<TrialView>,
    errors: BTreeMap<&'static str, Vec<String>>,
    status: Option<StatusCode>,
}

async fn render(
    state: &AppState,
    who: &Signed,
    raw: &str,
    form: &TryForm,
    shown: Shown,
) -> Result<HttpResponse, ConsoleError> {
    // Brand and admin keys: support is refused here as the API refuses it.
    state.services.catalog.writable(&who.who, raw).await?;
    let brand = state.services.catalog.brand(&who.who, raw).await?;
    let (fences, _) = all_fences(state, who, raw).await?;
    let settings = &state.settings;
    let map = pages::script_json(&serde_json::json!({
        "tile_url": settings.console_tile_url,
        "attribution": settings.console_tile_attribution,
    }));
    let ctx = context! {
        who => role(who),
        csrf => &who.csrf,
        brand => context! { id => brand.id.to_string(), name => &brand.name },
        features => pages::script_json(&fences),
        map,
        form => Value::from(Serde(form)),
        conditions => Condition::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        errors => Value::from(Serde(&shown.errors)),
        result => shown.result.map(|r| Value::from(Serde(r))),
    };
    Ok(pages::render(
        shown.status.unwrap_or(StatusCode::OK),
        "try.html",
        ctx,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_without_a_point_is_named_at_the_map() {
        let mut errors = BTreeMap::new();
        let form = TryForm {
            condition: "clear".into(),
            temp_c: "warm".into(),
            ..TryForm::default()
        };
        assert!(read(&form, &mut errors).is_none());
        assert!(errors.contains_key("map"));
        assert!(errors.contains_key("temp_c"));
        assert_eq!(field_of("/weather/temp_c"), "temp_c");
        assert_eq!(field_of("/lat"), "map");
    }

    #[test]
    fn a_utc_time_from_the_form_is_read() {
        let mut errors = BTreeMap::new();
        let form = TryForm {
            lat: "40.749".into(),
            lon: "-73.986".into(),
            at: "2026-07-14T15:00".into(),
            condition: "unknown".into(),
            ..TryForm::default()
        };
        let input = read(&form, &mut errors).expect("read");
        assert_eq!(input.at, Some("2026-07-14T15:00:00Z".parse().unwrap()));
        assert!(input.weather.is_none());
    }
}
