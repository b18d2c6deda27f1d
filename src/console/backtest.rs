//! The offer form's Backtest button: the form as it stands (saved or not) replayed on the
//! brand's recorded decisions of a period (`BacktestService`, the API's
//! `POST /v1/brands/{brand}/offers/backtest`), answered as JSON for `static/backtest.js`,
//! which shows the sentence and a chart of deliveries per day. Nothing is saved.

use super::ConsoleError;
use super::offer_form::{OfferForm, field_of};
use super::session::Signed;
use crate::error::ApiError;
use crate::services::backtest::{BacktestInput, BacktestView};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Days a backtest covers when the form names no period.
const DEFAULT_DAYS: i64 = 28;

/// The answer: the backtest, or what to fix, by form field.
#[derive(Serialize)]
struct Answer {
    backtest: Option<BacktestView>,
    errors: BTreeMap<&'static str, Vec<String>>,
}

/// `POST /console/brands/{brand}/offers/backtest`: the offer form, plus `offer_id` (an
/// edit), `backtest_from` and `backtest_to` (UTC days, the last one included; default the
/// last 28 days).
pub async fn run(
    state: web::Data<AppState>,
    who: Signed,
    brand: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    let mut period: [Option<String>; 3] = [None, None, None];
    let pairs: Vec<(String, String)> = form
        .into_inner()
        .into_iter()
        .filter(|(k, v)| {
            let slot = ["offer_id", "backtest_from", "backtest_to"]
                .iter()
                .position(|n| n == k);
            if let Some(i) = slot {
                period[i] = Some(v.trim().to_string()).filter(|v| !v.is_empty());
            }
            slot.is_none()
        })
        .collect();
    let (form, csrf, _) = OfferForm::from_pairs(pairs);
    who.check_csrf(&csrf)?;
    let [offer_id, from, to] = period;
    let now = state.engine.clock().now();
    let mut errors: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let day = |s: &Option<String>, name: &'static str, errors: &mut BTreeMap<_, Vec<String>>| {
        let d = s.as_deref()?;
        match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d.and_hms_opt(0, 0, 0)?.and_utc()),
            Err(_) => {
                errors
                    .entry(name)
                    .or_default()
                    .push(format!("`{d}` is not a day (YYYY-MM-DD)"));
                None
            }
        }
    };
    let to: DateTime<Utc> =
        day(&to, "backtest_to", &mut errors).map_or(now, |d| d + Duration::days(1));
    let from =
        day(&from, "backtest_from", &mut errors).unwrap_or(to - Duration::days(DEFAULT_DAYS));
    let offer_id = match offer_id.map(|s| s.parse()) {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            errors
                .entry("form")
                .or_default()
                .push("the offer id cannot be read".into());
            None
        }
        None => None,
    };
    let spec = form.to_spec().map_err(|e| {
        for x in e {
            errors
                .entry(field_of(&x.pointer))
                .or_default()
                .push(x.reason);
        }
    });
    let backtest = match spec {
        Ok(offer) if errors.is_empty() => {
            let input = BacktestInput {
                offer,
                offer_id,
                from,
                to,
            };
            match state
                .services
                .backtest
                .backtest(&who.who, &brand, input)
                .await
            {
                Ok(v) => Some(v),
                Err(ApiError::Validation { errors: e, .. }) => {
                    for x in e {
                        let field = match x.pointer.as_str() {
                            "/from" => "backtest_from",
                            "/to" => "backtest_to",
                            p => field_of(p.strip_prefix("/offer").unwrap_or(p)),
                        };
                        errors.entry(field).or_default().push(x.reason);
                    }
                    None
                }
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Answer { backtest, errors }))
}
