//! The console's static files, embedded in the binary: the vendored map and chart libraries
//! (`vendor/dist/`, refreshed by `vendor/vendor.sh`) and the console's own CSS and scripts.
//! URLs carry a hash of the content, so they are cached for a year and never go stale.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::LazyLock;

/// One embedded file: its name under `/console/assets/`, its bytes and media type.
struct Asset {
    name: &'static str,
    body: &'static [u8],
    mime: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const PNG: &str = "image/png";

const ASSETS: &[Asset] = &[
    Asset {
        name: "leaflet.js",
        body: include_bytes!("vendor/dist/leaflet.js"),
        mime: JS,
    },
    Asset {
        name: "leaflet.css",
        body: include_bytes!("vendor/dist/leaflet.css"),
        mime: CSS,
    },
    Asset {
        name: "leaflet-geoman.min.js",
        body: include_bytes!("vendor/dist/leaflet-geoman.min.js"),
        mime: JS,
    },
    Asset {
        name: "leaflet-geoman.css",
        body: include_bytes!("vendor/dist/leaflet-geoman.css"),
        mime: CSS,
    },
    Asset {
        name: "images/marker-icon.png",
        body: include_bytes!("vendor/dist/images/marker-icon.png"),
        mime: PNG,
    },
    Asset {
        name: "images/marker-icon-2x.png",
        body: include_bytes!("vendor/dist/images/marker-icon-2x.png"),
        mime: PNG,
    },
    Asset {
        name: "images/marker-shadow.png",
        body: include_bytes!("vendor/dist/images/marker-shadow.png"),
        mime: PNG,
    },
    Asset {
        name: "images/layers.png",
        body: include_bytes!("vendor/dist/images/layers.png"),
        mime: PNG,
    },
    Asset {
        name: "images/layers-2x.png",
        body: include_bytes!("vendor/dist/images/layers-2x.png"),
        mime: PNG,
    },
    Asset {
        name: "uPlot.iife.min.js",
        body: include_bytes!("vendor/dist/uPlot.iife.min.js"),
        mime: JS,
    },
    Asset {
        name: "uPlot.min.css",
        body: include_bytes!("vendor/dist/uPlot.min.css"),
        mime: CSS,
    },
    Asset {
        name: "console.css",
        body: include_bytes!("static/console.css"),
        mime: CSS,
    },
    Asset {
        name: "fences.js",
        body: include_bytes!("static/fences.js"),
        mime: JS,
    },
    Asset {
        name: "offer_form.js",
        body: include_bytes!("static/offer_form.js"),
        mime: JS,
    },
    Asset {
        name: "results.js",
        body: include_bytes!("static/results.js"),
        mime: JS,
    },
    Asset {
        name: "backtest.js",
        body: include_bytes!("static/backtest.js"),
        mime: JS,
    },
    Asset {
        name: "decision.js",
        body: include_bytes!("static/decision.js"),
        mime: JS,
    },
    Asset {
        name: "try.js",
        body: include_bytes!("static/try.js"),
        mime: JS,
    },
];

/// Name → (asset, the first 12 hex digits of its SHA-256).
static INDEX: LazyLock<HashMap<&'static str, (&'static Asset, String)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let hash = hex::encode(Sha256::digest(a.body));
            (a.name, (a, hash[..12].to_string()))
        })
        .collect()
});

/// The URL of an embedded file, versioned by its content.
pub fn url(name: &str) -> String {
    match INDEX.get(name) {
        Some((_, v)) => format!("/console/assets/{name}?v={v}"),
        None => format!("/console/assets/{name}"),
    }
}

/// `GET /console/assets/{name}`: the file, cached for a year.
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    match INDEX.get(name.as_str()) {
        Some((a, _)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(a.mime)))
            .insert_header((
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ))
            .body(a.body),
        None => actix_web::ResponseError::error_response(&super::ConsoleError::Api(
            crate::error::ApiError::NotFound(format!("no console asset `{name}`")),
        )),
    }
}
