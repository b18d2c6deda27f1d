//! `GET /v1/fences/nearby`: the fences an SDK should register with the operating system.

use super::extract::ValidQuery;
use crate::auth::Principal;
use crate::checkins::nearby::{DEFAULT_NEARBY, MAX_NEARBY};
use crate::checkins::{NearbyFences, NearbyQuery};
use crate::domain::{Latitude, Longitude};
use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

/// Where the person is, and how many fences the app can watch.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NearbyParams {
    /// The app's user id, 1–128 characters, no control characters.
    #[param(pattern = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")]
    pub user_id: String,
    /// Latitude, degrees.
    #[param(minimum = -90, maximum = 90)]
    pub lat: f64,
    /// Longitude, degrees.
    #[param(minimum = -180, maximum = 180)]
    pub lon: f64,
    /// Most fences to list, 1–100 (default 20; iOS watches 20 regions, Android 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The fences nearest to the person that could yield an offer for them (app).
#[utoipa::path(get, path = "/v1/fences/nearby", tag = "checkins", security(("bearer" = [])), params(NearbyParams),
    responses((status = 200, description = "Fences nearest first, and when to ask again", body = NearbyFences),
              (status = 400, description = "A query parameter is missing or malformed (`bad-request`)"),
              (status = 403, description = "Not an app key, or no location consent (`consent-required`)"),
              (status = 422, description = "The user id is not one (`validation`)"),
              (status = 429, description = "The app is past `app_requests_per_minute` (`app-request-limit`, with `Retry-After`)"),
              (status = 503, description = "The catalog is behind its change log (`unavailable`, with `Retry-After`)")))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<NearbyParams>,
) -> Result<HttpResponse, ApiError> {
    let app = who.require_app()?.to_string();
    let q = q.0;
    let bad = |name: &str, reason: String| ApiError::BadRequest {
        detail: format!("query parameter `{name}`: {reason}"),
        errors: vec![FieldError::new(format!("/query/{name}"), reason)],
    };
    let lat = Latitude::parse(q.lat).map_err(|e| bad("lat", e))?;
    let lon = Longitude::parse(q.lon).map_err(|e| bad("lon", e))?;
    let limit = match q.limit {
        None => DEFAULT_NEARBY,
        Some(n) if (1..=MAX_NEARBY as u32).contains(&n) => n as usize,
        Some(n) => return Err(bad("limit", format!("must be 1-{MAX_NEARBY}, got {n}"))),
    };
    state.quota.take(&app)?;
    let query = NearbyQuery {
        user_id: q.user_id,
        lat,
        lon,
        limit,
    };
    Ok(HttpResponse::Ok().json(state.engine.nearby(&app, query).await?))
}
