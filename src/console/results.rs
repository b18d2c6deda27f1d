//! `/console/brands/{brand}/offers/{id}/results`: an offer's results through the same
//! `SupportService::results` as the API's `GET …/offers/{id}/results`: the lift against the
//! holdout in one sentence, the totals, and deliveries, opens, redemptions and conversions per
//! day as a chart (uPlot, `static/results.js`) and as a table (brand, admin, support).

use super::pages;
use super::session::Signed;
use super::{ConsoleError, fences::role};
use crate::error::ApiError;
use crate::offers::results::{DayResults, OfferResults};
use crate::services::support::DaysAsk;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};

/// The period as the form sends it (`YYYY-MM-DD`, empty for the default).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct PeriodForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// A day as typed, or what is wrong with it.
fn date(field: &str, s: &str, errors: &mut Vec<String>) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(format!("{field}: “{s}” is not a day; use 2026-07-14"));
            None
        }
    }
}

/// What the chart script reads: the days and one column per series.
#[derive(Serialize)]
struct Chart {
    days: Vec<String>,
    deliveries: Vec<u64>,
    opens: Vec<u64>,
    redemptions: Vec<u64>,
    conversions: Vec<u64>,
}

impl Chart {
    fn of(daily: &[DayResults]) -> Self {
        let col = |f: fn(&DayResults) -> u64| daily.iter().map(f).collect();
        Self {
            days: daily.iter().map(|d| d.date.to_string()).collect(),
            deliveries: col(|d| d.deliveries),
            opens: col(|d| d.opens),
            redemptions: col(|d| d.redemptions),
            conversions: col(|d| d.conversions),
        }
    }
}

/// A share as a percentage with one decimal, or a dash when there is nothing to divide by.
fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".into(), |r| format!("{:.1}%", r * 100.0))
}

/// The period's sums, for the table's last row.
fn sums(daily: &[DayResults]) -> DayResults {
    daily.iter().fold(DayResults::default(), |a, d| DayResults {
        date: a.date,
        deliveries: a.deliveries + d.deliveries,
        opens: a.opens + d.opens,
        dismissals: a.dismissals + d.dismissals,
        redemptions: a.redemptions + d.redemptions,
        conversions: a.conversions + d.conversions,
    })
}

/// `GET /console/brands/{brand}/offers/{id}/results[?from=&to=]`.
pub async fn page(
    state: web::Data<AppState>,
    who: Signed,
    path: web::Path<(String, String)>,
    form: web::Query<PeriodForm>,
) -> Result<HttpResponse, ConsoleError> {
    let (raw, id) = path.into_inner();
    let catalog = &state.services.catalog;
    let support = &state.services.support;
    let brand = catalog.brand(&who.who, &raw).await?;
    let offer = catalog.offer(&who.who, &raw, &id).await?;
    let mut errors = Vec::new();
    let ask = DaysAsk {
        from: date("From", &form.from, &mut errors),
        to: date("To", &form.to, &mut errors),
    };
    // A period the service refuses is said in words, and the default period shown instead.
    let results: OfferResults = match support.results(&who.who, &raw, &id, ask).await {
        Ok(r) => r,
        Err(ApiError::BadRequest { errors: e, detail }) => {
            if e.is_empty() {
                errors.push(detail);
            }
            errors.extend(e.into_iter().map(|f| f.reason));
            support
                .results(&who.who, &raw, &id, DaysAsk::default())
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let t = &results.treated;
    let c = &results.control;
    let total = sums(&results.daily);
    let ctx = context! {
        who => role(&who),
        csrf => &who.csrf,
        brand => context! { id => brand.id.to_string(), name => &brand.name },
        offer => context! { id => offer.id.to_string(), name => &offer.spec.name },
        errors,
        summary => &results.summary,
        verdict => Value::from(Serde(results.verdict)),
        window_days => results.attribution_window_days,
        treated => Value::from(Serde(t)),
        control => Value::from(Serde(c)),
        open_rate => percent((t.deliveries > 0).then(|| t.opens as f64 / t.deliveries as f64)),
        treated_rate => percent(t.conversion_rate),
        control_rate => percent(c.conversion_rate),
        period => Value::from(Serde(&results.period)),
        daily => Value::from(Serde(&results.daily)),
        total => Value::from(Serde(total)),
        chart => pages::script_json(&Chart::of(&results.daily)),
    };
    Ok(pages::render(status, "results.html", ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_read_as_typed_or_named_in_words() {
        let mut errors = Vec::new();
        assert_eq!(
            date("From", " 2026-07-14 ", &mut errors),
            NaiveDate::from_ymd_opt(2026, 7, 14)
        );
        assert_eq!(date("From", "", &mut errors), None);
        assert!(errors.is_empty());
        assert_eq!(date("To", "14/07/2026", &mut errors), None);
        assert_eq!(errors, ["To: “14/07/2026” is not a day; use 2026-07-14"]);
    }

    #[test]
    fn rates_are_percentages_or_a_dash() {
        assert_eq!(percent(Some(0.125)), "12.5%");
        assert_eq!(percent(None), "–");
    }
}
