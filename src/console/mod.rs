//! The web console at `/console`: server-rendered pages over the same services as the API
//! (docs/console.md). A handler layer like `api/`: it parses the request, calls one use case
//! and renders the answer; it never reaches the store.

pub mod assets;
mod backtest;
pub mod error;
pub mod fence_import;
pub mod fence_new;
pub mod fence_shape;
pub mod fences;
pub mod offer_form;
pub mod offers;
pub mod pages;
pub mod results;
pub mod session;
pub mod sign_in;
pub mod support;
pub mod try_it;
pub mod webhooks;

use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpResponse, web};
pub use error::ConsoleError;

/// Registers the console's routes under `/console`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(from_fn(security_headers))
            .app_data(
                web::FormConfig::default()
                    .limit(1 << 20)
                    .error_handler(|e, _| ConsoleError::BadForm(e.to_string()).into()),
            )
            .service(web::resource("").route(web::get().to(home)))
            .service(web::resource("/").route(web::get().to(home)))
            .service(
                web::resource("/sign-in")
                    .route(web::get().to(sign_in::form))
                    .route(web::post().to(sign_in::submit)),
            )
            .service(web::resource("/sign-out").route(web::post().to(sign_in::sign_out)))
            .service(web::resource("/assets/{name:.+}").route(web::get().to(assets::serve)))
            .service(web::resource("/brands").route(web::get().to(fences::brands)))
            .service(
                web::resource("/brands/{brand}/fences")
                    .route(web::get().to(fences::page))
                    .route(web::post().to(fence_new::create)),
            )
            .service(
                web::resource("/brands/{brand}/fences/import")
                    // A FeatureCollection of thousands of fences, URL-encoded.
                    .app_data(
                        web::FormConfig::default()
                            .limit(64 << 20)
                            .error_handler(|e, _| ConsoleError::BadForm(e.to_string()).into()),
                    )
                    .route(web::post().to(fence_import::import)),
            )
            .service(
                web::resource("/brands/{brand}/fences/{id}/shape")
                    .route(web::post().to(fence_shape::save)),
            )
            .service(
                web::resource("/brands/{brand}/fences/{id}/delete")
                    .route(web::post().to(fences::delete)),
            )
            .service(
                web::resource("/brands/{brand}/try")
                    .route(web::get().to(try_it::page))
                    .route(web::post().to(try_it::submit)),
            )
            .service(web::resource("/brands/{brand}/webhooks").route(web::get().to(webhooks::page)))
            .service(
                web::resource("/brands/{brand}/webhooks/{id}/enable")
                    .route(web::post().to(webhooks::enable)),
            )
            .service(web::resource("/deliveries").route(web::get().to(support::deliveries)))
            .service(
                web::resource("/deliveries/export.{format}").route(web::get().to(support::export)),
            )
            .service(
                web::resource("/decisions/{checkin_id}").route(web::get().to(support::decision)),
            )
            .service(
                web::resource("/users/{user_id}/timeline").route(web::get().to(support::timeline)),
            )
            .service(
                web::resource("/brands/{brand}/offers")
                    .route(web::get().to(offers::list))
                    .route(web::post().to(offers::create)),
            )
            .service(web::resource("/brands/{brand}/offers/new").route(web::get().to(offers::new)))
            // Before `/offers/{id}`, which would take "preview" for an id.
            .service(
                web::resource("/brands/{brand}/offers/preview")
                    .route(web::post().to(offers::live_preview)),
            )
            .service(
                web::resource("/brands/{brand}/offers/backtest")
                    .route(web::post().to(backtest::run)),
            )
            .service(
                web::resource("/brands/{brand}/offers/{id}")
                    .route(web::get().to(offers::edit))
                    .route(web::post().to(offers::update)),
            )
            .service(
                web::resource("/brands/{brand}/offers/{id}/results")
                    .route(web::get().to(results::page)),
            )
            .service(
                web::resource("/brands/{brand}/offers/{id}/delete")
                    .route(web::post().to(offers::delete)),
            )
            .default_service(web::to(not_found)),
    );
}

/// `/console`: a brand goes to its fences, staff to the brand list, strangers to sign-in.
async fn home(who: session::Signed) -> HttpResponse {
    let to = match &who.who.brand {
        Some(b) => format!("/console/brands/{b}/fences"),
        None => "/console/brands".to_string(),
    };
    pages::see_other(&to)
}

async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::Api(crate::error::ApiError::NotFound(
        format!("there is no console page at {}", req.path()),
    )))
}

/// Every console answer: a strict Content-Security-Policy (scripts only from this origin),
/// no framing, no sniffing, and pages never cached (they show one person's session).
async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let tiles = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.settings.console_tile_url.as_deref().map(tile_origin));
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:{}; connect-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
        tiles.map(|t| format!(" {t}")).unwrap_or_default()
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// The origin a tile URL template loads from, as a CSP source: `{s}.` subdomains become `*.`.
fn tile_origin(template: &str) -> String {
    let (scheme, rest) = template.split_once("://").unwrap_or(("https", template));
    let host = rest.split('/').next().unwrap_or("");
    let host = host.replace("{s}.", "*.");
    // Anything else templated in the host (rare) cannot be a CSP source; allow the scheme.
    if host.contains('{') || host.is_empty() {
        format!("{scheme}:")
    } else {
        format!("{scheme}://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::tile_origin;

    #[test]
    fn a_tile_template_becomes_the_origin_the_policy_allows() {
        assert_eq!(
            tile_origin("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"),
            "https://*.tile.openstreetmap.org"
        );
        assert_eq!(
            tile_origin("https://tiles.example.com/v1/{z}/{x}/{y}.png?key=1"),
            "https://tiles.example.com"
        );
        assert_eq!(tile_origin("https://{host}/{z}/{x}/{y}.png"), "https:");
    }
}
