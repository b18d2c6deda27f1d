//! The HTTP API; the module tree mirrors the URL tree.

pub mod audit;
pub mod brands;
pub mod checkins;
pub mod decisions;
pub mod deliveries;
pub mod events;
pub mod extract;
pub mod fences;
pub mod keys;
pub mod middleware;
pub mod nearby;
pub mod offers;
pub mod openapi;
pub mod ops;
pub mod results;
pub mod schemas;
pub mod timeline;
pub mod users;
pub mod webhooks;

use crate::error::ApiError;
use actix_web::web;
use extract::BodyLimit;
use serde::Deserialize;
use utoipa::IntoParams;

/// `{brand}` in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BrandPath {
    /// The brand id: 2–64 lowercase letters, digits and `-`, not starting or ending with `-`.
    #[param(pattern = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub brand: String,
}

/// `{user_id}` in a path: the app's user id, 1–128 characters, none of them a control character.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The app's user id.
    #[param(pattern = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$")]
    pub user_id: String,
}

/// `{brand}` and a resource `{id}` under it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BrandItemPath {
    /// The brand id: 2–64 lowercase letters, digits and `-`, not starting or ending with `-`.
    #[param(pattern = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
    pub brand: String,
    /// The resource id (a UUID); anything else names nothing (404).
    #[param(value_type = uuid::Uuid)]
    pub id: String,
}

/// Registers every route. `import_limit` is the body limit of the bulk import.
pub fn configure(cfg: &mut web::ServiceConfig, import_limit: usize) {
    cfg.service(web::resource("/healthz").route(web::get().to(ops::healthz)))
        .service(web::resource("/readyz").route(web::get().to(ops::readyz)))
        .service(web::resource("/metrics").route(web::get().to(ops::metrics)))
        .service(web::resource("/openapi.json").route(web::get().to(openapi::serve)))
        .service(
            web::scope("/v1")
                .service(
                    web::resource("/brands")
                        .route(web::post().to(brands::create))
                        .route(web::get().to(brands::list)),
                )
                .service(web::resource("/brands/{brand}").route(web::get().to(brands::get)))
                .service(web::resource("/keys").route(web::post().to(keys::create)))
                .service(
                    web::resource("/brands/{brand}/geofences")
                        .route(web::post().to(fences::create))
                        .route(web::get().to(fences::list)),
                )
                .service(
                    web::resource("/brands/{brand}/geofences/import")
                        .app_data(BodyLimit(import_limit))
                        .route(web::post().to(fences::import)),
                )
                .service(
                    web::resource("/brands/{brand}/geofences/{id}")
                        .route(web::get().to(fences::get))
                        .route(web::put().to(fences::update))
                        .route(web::delete().to(fences::delete)),
                )
                .service(
                    web::resource("/brands/{brand}/offers")
                        .route(web::post().to(offers::create))
                        .route(web::get().to(offers::list)),
                )
                // Before `{id}`: a resource that matches the path answers 405 for other methods.
                .service(
                    web::resource("/brands/{brand}/offers/try")
                        .route(web::post().to(offers::try_it)),
                )
                .service(
                    web::resource("/brands/{brand}/offers/backtest")
                        .route(web::post().to(offers::backtest)),
                )
                .service(
                    web::resource("/brands/{brand}/offers/{id}")
                        .route(web::get().to(offers::get))
                        .route(web::put().to(offers::update))
                        .route(web::delete().to(offers::delete)),
                )
                .service(
                    web::resource("/brands/{brand}/webhooks")
                        .route(web::post().to(webhooks::create))
                        .route(web::get().to(webhooks::list)),
                )
                .service(
                    web::resource("/brands/{brand}/webhooks/{id}")
                        .route(web::get().to(webhooks::get))
                        .route(web::put().to(webhooks::update))
                        .route(web::delete().to(webhooks::delete)),
                )
                .service(
                    web::resource("/brands/{brand}/webhooks/{id}/rotate-secret")
                        .route(web::post().to(webhooks::rotate_secret)),
                )
                .service(
                    web::resource("/brands/{brand}/webhooks/{id}/attempts")
                        .route(web::get().to(webhooks::attempts)),
                )
                .service(
                    web::resource("/brands/{brand}/webhooks/{id}/attempts/{attempt_id}/replay")
                        .route(web::post().to(webhooks::replay)),
                )
                .service(web::resource("/audit/changes").route(web::get().to(audit::changes)))
                .service(web::resource("/audit/reads").route(web::get().to(audit::reads)))
                .service(web::resource("/deliveries").route(web::get().to(deliveries::list)))
                .service(
                    web::resource("/deliveries/{delivery_id}")
                        .route(web::get().to(deliveries::get)),
                )
                .service(
                    web::resource("/users/{user_id}/timeline").route(web::get().to(timeline::get)),
                )
                .service(
                    web::resource("/users/{user_id}/consent")
                        .route(web::put().to(users::put_consent))
                        .route(web::get().to(users::get_consent)),
                )
                .service(web::resource("/checkins").route(web::post().to(checkins::create)))
                .service(web::resource("/checkins/batch").route(web::post().to(checkins::batch)))
                .service(web::resource("/fences/nearby").route(web::get().to(nearby::get)))
                .service(web::resource("/events").route(web::post().to(events::create)))
                .service(web::resource("/users/{user_id}").route(web::delete().to(users::delete)))
                .service(
                    web::resource("/brands/{brand}/offers/{id}/results")
                        .route(web::get().to(results::get)),
                )
                .service(
                    web::resource("/decisions/{checkin_id}").route(web::get().to(decisions::get)),
                ),
        )
        .default_service(web::to(not_found));
}

async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}

/// The reader of a support request: its key, and the request as the read log keeps it.
pub(crate) fn reader<'a>(
    who: &'a crate::auth::Principal,
    req: &actix_web::HttpRequest,
) -> crate::services::support::Reader<'a> {
    crate::services::support::Reader {
        who,
        query: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_string(), |p| p.to_string()),
    }
}
