//! The OpenAPI document, generated from the handlers' annotations.
//!
//! Handlers declare what is theirs: parameters, bodies, success answers and the errors only
//! they produce (a 409, a 406, a 503). [`ErrorResponses`] adds, in one place, the errors that
//! follow from an operation's shape — every keyed operation can answer 401 and 403, every body
//! 400/413/415/422, every path id 404, every query 400 — and documents each as
//! `application/problem+json` with the [`Problem`](crate::error::Problem) schema, which is what
//! [`ApiError`](crate::error::ApiError) sends.

use crate::error::PROBLEM_JSON;
use actix_web::HttpResponse;
use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
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
        super::offers::delete, super::offers::try_it, super::offers::backtest,
        super::audit::changes, super::audit::reads,
        super::users::put_consent, super::users::get_consent,
        super::checkins::create, super::checkins::batch, super::nearby::get,
        super::decisions::get,
        super::events::create,
        super::users::delete,
        super::results::get,
        super::deliveries::list, super::deliveries::get,
        super::timeline::get,
        super::webhooks::create, super::webhooks::list, super::webhooks::get,
        super::webhooks::update, super::webhooks::delete, super::webhooks::rotate_secret, super::webhooks::attempts,
        super::webhooks::replay,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError, crate::events::EventInput)),
    modifiers(&BearerAuth, &ErrorResponses, &FlattenedViews),
    tags(
        (name = "brands", description = "Brands (admin)"),
        (name = "keys", description = "API keys (admin)"),
        (name = "geofences", description = "A brand's geofences"),
        (name = "offers", description = "A brand's offers"),
        (name = "audit", description = "Audit logs: changes and support reads"),
        (name = "people", description = "Consent (app)"),
        (name = "checkins", description = "Location reports and decisions (app)"),
        (name = "events", description = "Feedback events (app)"),
        (name = "support", description = "Decision trails: deliveries, explained decisions, timelines (support, admin; brand keys their own)"),
        (name = "webhooks", description = "A brand's webhook endpoints: signed event messages, attempts, replay (docs/webhooks.md)"),
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

/// Documents the errors each `/v1` operation can answer from its shape, all as problem+json.
struct ErrorResponses;

/// What each common error means, by status.
const COMMON: &[(u16, &str)] = &[
    (
        400,
        "The body is not JSON, or a query parameter is malformed; `errors` names it",
    ),
    (
        401,
        "No key, or a key this service does not know (`WWW-Authenticate: Bearer`)",
    ),
    (403, "The key's role may not do this"),
    (404, "Nothing there, or nothing this key may see"),
    (413, "The body is larger than this endpoint accepts"),
    (415, "The body is not `application/json`"),
    (422, "The request breaks a rule; `errors` names each field"),
    (500, "Internal error; the cause is logged, never sent"),
    (
        503,
        "A dependency is down (the database cannot record) or the service is overloaded; retry after `Retry-After` seconds",
    ),
];

impl ErrorResponses {
    /// The statuses an operation can answer because of what it takes.
    fn statuses(op: &Operation) -> Vec<u16> {
        let takes = |place: ParameterIn| {
            op.parameters.iter().flatten().any(|p| match p {
                RefOr::T(p) => p.parameter_in == place,
                RefOr::Ref(_) => false,
            })
        };
        let mut statuses = vec![401, 403, 500, 503];
        if op.request_body.is_some() {
            statuses.extend([400, 413, 415, 422]);
        }
        if takes(ParameterIn::Query) {
            statuses.push(400);
        }
        if takes(ParameterIn::Path) {
            statuses.push(404);
        }
        statuses
    }

    fn document(op: &mut Operation) {
        for status in Self::statuses(op) {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::T(Response::new("")));
        }
        for (status, response) in op.responses.responses.iter_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            let code: u16 = status.parse().unwrap_or(0);
            if response.description.is_empty() {
                response.description = describe(code);
            }
            if code == 503 || code == 429 {
                response
                    .headers
                    .entry("Retry-After".to_string())
                    .or_insert_with(|| {
                        let mut h = utoipa::openapi::header::Header::new(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::schema::Type::Integer)
                                .minimum(Some(0)),
                        );
                        h.description = Some("Seconds to wait before retrying".into());
                        RefOr::T(h)
                    });
            }
            if code >= 400 {
                response.content.clear();
                response.content.insert(
                    PROBLEM_JSON.to_string(),
                    RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))),
                );
            }
        }
    }
}

/// The description of a response that names none.
fn describe(code: u16) -> String {
    COMMON.iter().find(|(c, _)| *c == code).map_or_else(
        || {
            actix_web::http::StatusCode::from_u16(code)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Answer")
                .to_string()
        },
        |(_, d)| d.to_string(),
    )
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Operations endpoints (`/healthz`, …) answer plain JSON or text and take no key.
        let api = openapi
            .paths
            .paths
            .iter_mut()
            .filter(|(p, _)| p.starts_with("/v1/"));
        for (_, item) in api {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                Self::document(op);
            }
        }
    }
}

/// utoipa renders a `#[serde(flatten)]` field as `allOf: [<flattened type>, <own fields>]`.
/// When the flattened type is closed (`deny_unknown_fields`, as input shapes are), no answer
/// could match both parts: `OfferView` would forbid its own `id`. This merges such an `allOf`
/// into one closed object with the properties of both, which is exactly what is serialized.
struct FlattenedViews;

impl Modify for FlattenedViews {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let objects: BTreeMap<String, Object> = components
            .schemas
            .iter()
            .filter_map(|(name, s)| match s {
                RefOr::T(Schema::Object(o)) => Some((name.clone(), o.clone())),
                _ => None,
            })
            .collect();
        let part = |s: &RefOr<Schema>| match s {
            RefOr::T(Schema::Object(o)) => Some(o.clone()),
            RefOr::Ref(r) => {
                let name = r.ref_location.rsplit('/').next().unwrap_or_default();
                objects.get(name).cloned()
            }
            _ => None,
        };
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::AllOf(all)) = schema else {
                continue;
            };
            let Some(parts) = all.items.iter().map(part).collect::<Option<Vec<_>>>() else {
                continue;
            };
            let mut merged = ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(all.description.clone())
                .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
                .build();
            for o in parts {
                merged.properties.extend(o.properties);
                merged.required.extend(o.required);
            }
            *schema = RefOr::T(Schema::Object(merged));
        }
    }
}

/// `GET /openapi.json`.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
