//! `/v1/users/{user_id}`: apps record what their users allow, and erase them on request.

use super::UserPath;
use super::extract::ValidJson;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::people::erasure::erase;
use crate::people::gate::Allowed;
use crate::people::{Consent, ConsentInput, PersonId, check_user_id};
use crate::state::AppState;
use crate::store::Erase;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

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
    let app = app_user(&who, &path.user_id)?;
    let _turn = state.admission.enter().await?;
    let user = path.user_id.as_str();
    let person = PersonId::of(app, user);
    // Record the withdrawal first: from this moment nothing new is processed.
    let gate = &state.engine.consents();
    gate.begin_change(&person)
        .await
        .map_err(|e| ApiError::Unavailable(format!("could not record consent, try again: {e}")))?;
    let consent = state.store.put_consent(app, user, &body.0).await?;
    gate.publish(&person, Some(Allowed::from(&consent))).await;
    if !body.0.location {
        erase(&state, &person, Erase::History).await?;
    } else if !body.0.personalization {
        erase(&state, &person, Erase::Profile).await?;
    }
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
    let app = app_user(&who, &path.user_id)?;
    let user = path.user_id.as_str();
    let consent = state
        .store
        .get_consent(app, user)
        .await?
        .unwrap_or_else(|| Consent::none(user));
    Ok(HttpResponse::Ok().json(consent))
}

/// The proof of an erasure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureReceipt {
    /// Quote this id; it is kept, the person is not.
    pub receipt: String,
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
    let app = app_user(&who, &path.user_id)?;
    let _turn = state.admission.enter().await?;
    let user = path.user_id.as_str();
    let person = PersonId::of(app, user);
    // The consent record goes with everything else: later check-ins are unconsented.
    let gate = &state.engine.consents();
    gate.begin_change(&person)
        .await
        .map_err(|e| ApiError::Unavailable(format!("could not erase, try again: {e}")))?;
    erase(&state, &person, Erase::Everything).await?;
    gate.publish(&person, None).await;
    let receipt = uuid::Uuid::new_v4().to_string();
    state.store.record_erasure(&receipt).await?;
    Ok(HttpResponse::Accepted().json(ErasureReceipt { receipt }))
}

/// The caller's app, once the key is an app key and the user id is well-formed.
fn app_user<'a>(who: &'a Principal, user_id: &str) -> Result<&'a str, ApiError> {
    let app = who.require_app()?;
    check_user_id(user_id).map_err(|e| ApiError::invalid("/path/user_id", e))?;
    Ok(app)
}
