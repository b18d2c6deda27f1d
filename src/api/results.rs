//! `GET /v1/brands/{brand}/offers/{id}/results`: did the offer change behaviour?

use super::BrandItemPath;
use super::extract::ValidQuery;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::offers::results::OfferResults;
use crate::services::support::DaysAsk;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

/// The days of the daily series (UTC, both included; at most 366, from 1970 to 9999).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResultsQuery {
    /// The first day, `YYYY-MM-DD` (default: the 30 days up to `to`).
    #[param(value_type = Option<String>, format = Date, pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub from: Option<NaiveDate>,
    /// The last day, `YYYY-MM-DD`, included (default: today, UTC); not before `from`.
    #[param(value_type = Option<String>, format = Date, pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-")]
    pub to: Option<NaiveDate>,
}

/// Deliveries, opens, dismissals, redemptions and conversions against the holdout, with lift,
/// its 95% interval and a sentence saying what it means, and the same counts per day of a
/// period (brand for its own offers, admin, support).
#[utoipa::path(get, path = "/v1/brands/{brand}/offers/{id}/results", tag = "offers", security(("bearer" = [])),
    params(BrandItemPath, ResultsQuery),
    responses((status = 200, description = "The offer's results", body = OfferResults)))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<BrandItemPath>,
    q: ValidQuery<ResultsQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = DaysAsk {
        from: q.0.from,
        to: q.0.to,
    };
    let results = state
        .services
        .support
        .results(&who, &path.brand, &path.id, days)
        .await?;
    Ok(HttpResponse::Ok().json(results))
}
