//! The templates (embedded in the binary) and how a page is answered.

use super::assets;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use minijinja::Environment;
use std::sync::LazyLock;

/// Every console template, parsed once.
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("sign_in.html", include_str!("templates/sign_in.html")),
        ("brands.html", include_str!("templates/brands.html")),
        ("fences.html", include_str!("templates/fences.html")),
        ("offers.html", include_str!("templates/offers.html")),
        ("offer_form.html", include_str!("templates/offer_form.html")),
        ("error.html", include_str!("templates/error.html")),
        ("deliveries.html", include_str!("templates/deliveries.html")),
        ("decision.html", include_str!("templates/decision.html")),
        ("timeline.html", include_str!("templates/timeline.html")),
        ("try.html", include_str!("templates/try.html")),
        ("results.html", include_str!("templates/results.html")),
        ("webhooks.html", include_str!("templates/webhooks.html")),
        (
            "webhook_alerts.html",
            include_str!("templates/webhook_alerts.html"),
        ),
    ] {
        // A template that does not parse is a build defect; the unit test below finds it.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "console template does not parse");
        }
    }
    env.add_function("asset", |name: String| assets::url(&name));
    env.add_filter("urlencode", |s: String| urlencode(&s));
    env
});

/// `s` percent-encoded as one URL path segment or query value (spaces as `%20`).
pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .unwrap_or_default()
        .trim_start_matches("x=")
        .replace('+', "%20")
}

/// Renders `name` with `ctx` as an HTML answer with `status`.
pub fn render(status: StatusCode, name: &str, ctx: minijinja::Value) -> HttpResponse {
    match TEMPLATES.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => HttpResponse::build(status)
            .content_type(ContentType::html())
            .body(html),
        Err(e) => {
            tracing::error!(template = name, error = ?e, "console template failed to render");
            HttpResponse::InternalServerError()
                .content_type(ContentType::html())
                .body("<!doctype html><title>Error</title><p>The page could not be drawn.</p>")
        }
    }
}

/// `value` as JSON safe inside a `<script type="application/json">` element: `<`, `>` and
/// `&` are escaped, so no string in it can close the element.
pub fn script_json<T: serde::Serialize>(value: &T) -> minijinja::Value {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    let json = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    minijinja::Value::from_safe_string(json)
}

/// A 200 page.
pub fn ok(name: &str, ctx: minijinja::Value) -> HttpResponse {
    render(StatusCode::OK, name, ctx)
}

/// 303 See Other: after a form, the browser loads `to` with GET.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_element_cannot_close_it() {
        let v = script_json(&serde_json::json!({"name": "</script><b>&"}));
        assert_eq!(
            v.to_string(),
            r#"{"name":"\u003c/script\u003e\u003cb\u003e\u0026"}"#
        );
    }

    #[test]
    fn a_value_is_encoded_for_a_path_or_a_query() {
        assert_eq!(urlencode("u 1/&?=é"), "u%201%2F%26%3F%3D%C3%A9");
    }

    #[test]
    fn every_template_parses() {
        for name in [
            "base.html",
            "sign_in.html",
            "brands.html",
            "fences.html",
            "offers.html",
            "offer_form.html",
            "error.html",
            "deliveries.html",
            "decision.html",
            "timeline.html",
            "try.html",
            "results.html",
            "webhooks.html",
            "webhook_alerts.html",
        ] {
            TEMPLATES.get_template(name).expect(name);
        }
    }
}
