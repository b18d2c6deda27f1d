//! The OpenAPI document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(title = "geoffer", description = "Decides whether a person should see an offer right now, and which one."),
    paths(
        super::ops::healthz, super::ops::readyz, super::ops::metrics,
        super::brands::create, super::brands::list, super::brands::get,
        super::keys::create,
        super::fences::create, super::fences::list, super::fences::get, super::fences::update,
        super::fences::delete, super::fences::import,
        super::offers::create, super::offers::list, super::offers::get, super::offers::update,
        super::offers::delete,
        super::audit::changes, super::audit::reads,
        super::users::put_consent, super::users::get_consent,
        super::checkins::create,
        super::decisions::get,
        super::events::create,
        super::users::delete,
        super::results::get,
        super::deliveries::list, super::deliveries::get,
        super::timeline::get,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "brands", description = "Brands (admin)"),
        (name = "keys", description = "API keys (admin)"),
        (name = "geofences", description = "A brand's geofences"),
        (name = "offers", description = "A brand's offers"),
        (name = "audit", description = "Audit logs: changes and support reads"),
        (name = "people", description = "Consent (app)"),
        (name = "checkins", description = "Location reports and decisions (app)"),
        (name = "events", description = "Feedback events (app)"),
        (name = "support", description = "Decision trails (support, admin)"),
        (name = "support", description = "Decision trails: deliveries, explained decisions, timelines (support, admin; brand keys their own)"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /openapi.json`.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
