//! `POST /v1/events`: feedback from apps, in batches; each event gets its own outcome.

use super::extract::ValidJson;
use crate::auth::Principal;
use crate::error::ApiError;
pub use crate::services::events::{BatchResult, EventBatch, EventResult};
use crate::state::AppState;
use actix_web::{HttpResponse, web};

/// Record feedback events (app). A bad event does not sink the good ones; replaying a batch
/// changes nothing.
#[utoipa::path(post, path = "/v1/events", tag = "events", security(("bearer" = [])), request_body = EventBatch,
    responses((status = 200, description = "One result per event", body = BatchResult)))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<EventBatch>,
) -> Result<HttpResponse, ApiError> {
    let result = state.services.events.ingest(&who, &body.0.events).await?;
    Ok(HttpResponse::Ok().json(result))
}
