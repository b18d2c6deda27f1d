//! `/v1/users/{user_id}`: apps record what their users allow, and erase them on request.

use super::UserPath;
use super::extract::ValidJson;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::people::{Consent, ConsentInput};
pub use crate::services::people::ErasureReceipt;
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// Set a user's consent (app). Withdrawing stops processing at once and erases what it covered:
/// personalization takes habits and the profile with it; location takes the history too.
#[utoipa::path(put, path = "/v1/users/{user_id}/consent", tag = "people", security(("bearer" = [])),
    params(UserPath), request_body = ConsentInput,
    responses((status = 200, description = "The consent as recorded", body = Consent),
              (status = 503, description = "The change could not be recorded; retry")))]
pub async fn put_consent(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<UserPath>,
    body: ValidJson<ConsentInput>,
) -> Result<HttpResponse, ApiError> {
    let consent = state
        .services
        .people
        .put_consent(&who, &path.user_id, &body.0)
        .await?;
    Ok(HttpResponse::Ok().json(consent))
}

/// Read a user's consent (app). Someone who never answered has everything off.
#[utoipa::path(get, path = "/v1/users/{user_id}/consent", tag = "people", security(("bearer" = [])),
    params(UserPath), responses((status = 200, description = "The consent", body = Consent),
                                (status = 422, description = "The user id is not 1–128 printable characters")))]
pub async fn get_consent(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let consent = state.services.people.consent(&who, &path.user_id).await?;
    Ok(HttpResponse::Ok().json(consent))
}

/// Erase a user (app): visits, habits, follows, interests, purchases, events, decision traces
/// and consent, in the store and in Redis. Deliveries remain only as de-identified counts.
/// Later check-ins from the id are unconsented until consent is given again.
#[utoipa::path(delete, path = "/v1/users/{user_id}", tag = "people", security(("bearer" = [])),
    params(UserPath), responses((status = 202, description = "Erased", body = ErasureReceipt),
                                (status = 422, description = "The user id is not 1–128 printable characters"),
                                (status = 503, description = "The erasure could not be completed; retry")))]
pub async fn delete(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ApiError> {
    let receipt = state
        .services
        .people
        .erase_user(&who, &path.user_id)
        .await?;
    Ok(HttpResponse::Accepted().json(receipt))
}
