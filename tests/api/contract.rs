//! The contract checks itself: the published OpenAPI document is valid OpenAPI 3.1, declares
//! every parameter where clients send it, documents every error as problem+json, and real
//! answers match the status, content type and schema it documents.
//!
//! About 430 lines: the document's checks and the real answers checked against it.

use crate::helpers::{Answer, TestApp, assert_problem, circle_fence, pointers, spawn_app};
use geoffer::clock::Clock;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The official OpenAPI 3.1 schema (OAI, 2022-10-07, Apache-2.0), vendored so the test runs
/// offline.
const OAS_31_SCHEMA: &str = include_str!("openapi-3.1-schema.json");

const METHODS: [&str; 4] = ["get", "put", "post", "delete"];

async fn document(app: &TestApp) -> Value {
    let res = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("request sent");
    assert_eq!(res.status(), 200);
    res.json().await.expect("the document is JSON")
}

/// Every operation as (path, method, operation).
fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |m| item.get(*m).map(|op| (path.as_str(), *m, op)))
        })
        .collect()
}

/// A validator for `schema`, resolving `#/components/...` against the document.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    let obj = root.as_object_mut().expect("schemas here are objects");
    obj.insert("components".into(), doc["components"].clone());
    jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"))
}

/// Asserts that `answer` is one of the answers the published document gives `method path`.
pub(crate) async fn conforms_to_document(app: &TestApp, path: &str, method: &str, answer: &Answer) {
    conforms(&document(app).await, path, method, answer);
}

/// Asserts that `answer` is one of the answers documented for `method path`.
fn conforms(doc: &Value, path: &str, method: &str, answer: &Answer) {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let status = answer.status.as_u16().to_string();
    let response = &op["responses"][&status];
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which it does not document: {}",
        answer.body
    );
    let media = answer.content_type.split(';').next().unwrap_or("").trim();
    let content = &response["content"][media];
    assert!(
        content.is_object(),
        "{method} {path} {status} answered `{media}`, documented: {}",
        response["content"]
    );
    let v = validator(doc, &content["schema"]);
    let errors: Vec<String> = v
        .iter_errors(&answer.body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match its schema: {errors:#?}\nbody: {:#}",
        answer.body
    );
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_and_its_schemas_compile() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let meta: Value = serde_json::from_str(OAS_31_SCHEMA).expect("vendored schema is JSON");
    let oas = jsonschema::draft202012::new(&meta).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = oas
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not valid OpenAPI 3.1: {errors:#?}");
    // Compiling each schema checks what the OpenAPI schema leaves open: patterns are
    // regular expressions and every reference resolves.
    for name in doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        validator(
            &doc,
            &json!({ "$ref": format!("#/components/schemas/{name}") }),
        );
    }
}

#[tokio::test]
async fn parameters_are_declared_where_they_are_sent() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (path, method, op) in operations(&doc) {
        let template: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let mut in_path = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for p in &params {
            let (name, place) = (p["name"].as_str().unwrap(), p["in"].as_str().unwrap());
            assert!(
                seen.insert((name.to_string(), place.to_string())),
                "{method} {path} declares {place} parameter `{name}` twice"
            );
            if place == "path" {
                assert!(
                    template.contains(name),
                    "{method} {path} declares `{name}` in: path, but the path has no {{{name}}}"
                );
                assert_eq!(
                    p["required"], true,
                    "{method} {path}: `{name}` must be required"
                );
                in_path.insert(name.to_string());
            }
        }
        for var in template {
            assert!(
                in_path.contains(var),
                "{method} {path} does not declare its path variable `{var}`"
            );
        }
    }
}

#[tokio::test]
async fn every_v1_operation_documents_its_errors_as_problem_json() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (path, method, op) in operations(&doc)
        .into_iter()
        .filter(|(p, ..)| p.starts_with("/v1/"))
    {
        let responses = op["responses"].as_object().unwrap();
        let mut expected = vec!["401", "403", "500"];
        if op.get("requestBody").is_some() {
            expected.extend(["400", "413", "415", "422"]);
        }
        if path.contains('{') {
            expected.push("404");
        }
        for status in expected {
            assert!(
                responses.contains_key(status),
                "{method} {path} does not document {status}"
            );
        }
        for (status, response) in responses.iter().filter(|(s, _)| s.as_str() >= "400") {
            let content = response["content"].as_object().unwrap();
            let types: Vec<&String> = content.keys().collect();
            assert_eq!(
                types,
                ["application/problem+json"],
                "{method} {path} {status}"
            );
            assert_eq!(
                content["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem"
            );
        }
    }
}

#[tokio::test]
async fn real_answers_match_what_the_document_promises() {
    let app = spawn_app().await;
    let doc = document(&app).await;

    let brand = app
        .post(
            "/v1/brands",
            &app.admin_key,
            &json!({"id": "chillco", "name": "ChillCo"}),
        )
        .await;
    conforms(&doc, "/v1/brands", "post", &brand);
    let key = app.key("brand", Some("chillco")).await;
    let app_key = app.key("app", None).await;

    let fence = app
        .post("/v1/brands/chillco/geofences", &key, &circle_fence())
        .await;
    conforms(&doc, "/v1/brands/{brand}/geofences", "post", &fence);
    let fences = app.get("/v1/brands/chillco/geofences?limit=1", &key).await;
    conforms(&doc, "/v1/brands/{brand}/geofences", "get", &fences);

    let spec = json!({"name": "Cold drinks", "title": "Ice-cold ChillCo",
                      "body": "{{ distance_m }} m away at {{ fence.name }}",
                      "targeting": {"fences": {"tags": ["corner-store"]}},
                      "redemption": {"code_prefix": "CHILL", "valid_hours": 4}});
    let offer = app.post("/v1/brands/chillco/offers", &key, &spec).await;
    conforms(&doc, "/v1/brands/{brand}/offers", "post", &offer);
    let id = offer.body["id"].as_str().unwrap();
    let one = app
        .get(&format!("/v1/brands/chillco/offers/{id}"), &key)
        .await;
    conforms(&doc, "/v1/brands/{brand}/offers/{id}", "get", &one);
    let page = app.get("/v1/brands/chillco/offers", &key).await;
    conforms(&doc, "/v1/brands/{brand}/offers", "get", &page);

    let consent = app
        .put(
            "/v1/users/u-1/consent",
            &app_key,
            &json!({"location": true, "personalization": true}),
        )
        .await;
    conforms(&doc, "/v1/users/{user_id}/consent", "put", &consent);
    let at = app.clock.now().to_rfc3339();
    for (id, lat, lon) in [("c-1", 40.7484, -73.9857), ("c-2", 0.0, 0.0)] {
        let answer = app
            .post(
                "/v1/checkins",
                &app_key,
                &json!({"checkin_id": id, "user_id": "u-1", "lat": lat, "lon": lon,
                        "accuracy_m": 10, "recorded_at": at}),
            )
            .await;
        conforms(&doc, "/v1/checkins", "post", &answer);
    }
    // The same check-in id for another report: 409 checkin-id-reused, as documented.
    let reused = app
        .post(
            "/v1/checkins",
            &app_key,
            &json!({"checkin_id": "c-1", "user_id": "u-1", "lat": 40.7484, "lon": -73.9857,
                    "accuracy_m": 11, "recorded_at": at}),
        )
        .await;
    assert_eq!(reused.status, 409, "{}", reused.body);
    conforms(&doc, "/v1/checkins", "post", &reused);

    // Results: totals, the sentence and the daily series; a backwards period is a 400.
    let results_path = format!("/v1/brands/chillco/offers/{id}/results");
    let results = app.get(&results_path, &key).await;
    assert_eq!(results.status, 200, "{}", results.body);
    assert_eq!(results.body["daily"].as_array().map(Vec::len), Some(30));
    conforms(
        &doc,
        "/v1/brands/{brand}/offers/{id}/results",
        "get",
        &results,
    );
    let backwards = app
        .get(
            &format!("{results_path}?from=2026-07-14&to=2026-07-01"),
            &key,
        )
        .await;
    assert_eq!(backwards.status, 400, "{}", backwards.body);
    conforms(
        &doc,
        "/v1/brands/{brand}/offers/{id}/results",
        "get",
        &backwards,
    );

    // Problems: a rule broken, nothing there, no key, a malformed query.
    let invalid = app
        .post(
            "/v1/brands/chillco/offers",
            &key,
            &json!({"name": "", "title": "t", "body": "b"}),
        )
        .await;
    conforms(&doc, "/v1/brands/{brand}/offers", "post", &invalid);
    let missing = app
        .get(
            "/v1/brands/chillco/offers/00000000-0000-0000-0000-000000000000",
            &key,
        )
        .await;
    conforms(&doc, "/v1/brands/{brand}/offers/{id}", "get", &missing);
    let anonymous = app
        .send(reqwest::Method::GET, "/v1/brands", None, None)
        .await;
    conforms(&doc, "/v1/brands", "get", &anonymous);
    let bad_limit = app.get("/v1/brands/chillco/offers?limit=0", &key).await;
    conforms(&doc, "/v1/brands/{brand}/offers", "get", &bad_limit);
}

// What schema-driven fuzzing (loadtest/fuzz.sh) found: requests the schema allows that were
// refused, and requests it refuses that were accepted.

#[tokio::test]
async fn whole_numbers_written_as_floats_are_accepted() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let spec = json!({"name": "n", "title": "t", "body": "b",
                      "caps": {"per_person": {"count": 2.0, "period_days": 7.0}},
                      "budget": {"total": 100.0, "daily": 10.0},
                      "redemption": {"code_prefix": "C", "valid_hours": 4.0}});
    let a = app.post("/v1/brands/chillco/offers", &key, &spec).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["redemption"]["valid_hours"], 4);
    let half = json!({"name": "n", "title": "t", "body": "b",
                      "redemption": {"code_prefix": "C", "valid_hours": 4.5}});
    let a = app.post("/v1/brands/chillco/offers", &key, &half).await;
    assert_eq!(
        pointers(assert_problem(&a, 422)),
        ["/redemption/valid_hours"]
    );
}

#[tokio::test]
async fn a_position_whose_altitude_is_not_a_number_is_refused() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let mut fence = circle_fence();
    fence["geometry"]["coordinates"] = json!([-73.9857, 40.7484, "high"]);
    let a = app.post("/v1/brands/chillco/geofences", &key, &fence).await;
    assert_eq!(
        pointers(assert_problem(&a, 422)),
        ["/geometry/coordinates/2"]
    );
}

#[tokio::test]
async fn malformed_brand_and_tag_filters_are_bad_requests_not_empty_lists() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let a = app.get("/v1/audit/changes?brand=", &app.admin_key).await;
    assert_eq!(pointers(assert_problem(&a, 400)), ["/query/brand"]);
    let a = app
        .get("/v1/brands/chillco/geofences?tag=Corner%20Store", &key)
        .await;
    assert_eq!(pointers(assert_problem(&a, 400)), ["/query/tag"]);
}

/// Whether a validator of the service accepts a string.
type Accepts = fn(&str) -> bool;

/// The schema's patterns and the service's validators agree on strings chosen to sit on the
/// edges: lengths, case, separators, control characters, multi-byte characters, newlines.
#[tokio::test]
async fn schema_patterns_agree_with_the_validators() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let samples: Vec<String> = [
        "",
        "a",
        "ab",
        "a-b",
        "-ab",
        "ab-",
        "AB",
        "a b",
        "a_b",
        "é",
        "ab\n",
        "a\u{85}",
        "\u{7f}",
        "a/b",
        "\t",
        "u-123",
        "corner-store",
        " ",
        "\u{a0}",
        "\u{feff}",
        "\u{3000}x",
        "\u{85}",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([63, 64, 65, 128, 129].map(|n| "x".repeat(n)))
    .chain([128, 129].map(|n| "é".repeat(n)))
    .collect();
    let rules: [(&Value, Accepts); 5] = [
        (&schemas["NewBrand"]["properties"]["id"], |s| {
            geoffer::domain::BrandId::parse(s).is_ok()
        }),
        (&schemas["NewKeyRequest"]["properties"]["app"], |s| {
            geoffer::domain::check_tag(s).is_ok()
        }),
        (&schemas["CheckinInput"]["properties"]["user_id"], |s| {
            geoffer::people::check_user_id(s).is_ok()
        }),
        (&schemas["HourRange"]["properties"]["from"], |s| {
            geoffer::offers::validate::parse_hhmm(s).is_some()
        }),
        // Names are trimmed by Rust's idea of white space, which is not ECMAScript's `\s`.
        (&schemas["NewBrand"]["properties"]["name"], |s| {
            !s.trim().is_empty() && s.chars().count() <= 200
        }),
    ];
    let non_blank = &schemas["NewBrand"]["properties"]["name"]["pattern"];
    for (schema, field) in [
        ("OfferSpec", "name"),
        ("OfferSpec", "title"),
        ("OfferSpec", "body"),
        ("FencePropertiesInput", "name"),
        ("FencePropertiesInput", "external_id"),
    ] {
        let pattern = &schemas[schema]["properties"][field]["pattern"];
        assert_eq!(pattern, non_blank, "{schema}.{field}");
    }
    for (schema, accepts) in rules {
        let v = validator(&doc, schema);
        for s in samples
            .iter()
            .chain(&["24:00".into(), "23:59".into(), "24:01".into()])
        {
            assert_eq!(
                v.is_valid(&json!(s)),
                accepts(s),
                "schema {schema} and the validator disagree on {s:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_event_batch_documents_the_event_type_the_handler_parses() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    // The batch takes items of any shape (a malformed event is rejected in the results, not
    // the batch), so its items promise nothing a fuzzer could break; they point at EventInput.
    let items = &schemas["EventBatch"]["properties"]["events"]["items"];
    assert!(
        items.get("type").is_none() && items.get("properties").is_none(),
        "{items:#}"
    );
    assert!(
        items["description"]
            .as_str()
            .unwrap_or_default()
            .contains("EventInput"),
        "{items:#}"
    );
    let fields = schemas["EventInput"]["properties"]
        .as_object()
        .expect("EventInput names its fields");
    for f in [
        "event_id",
        "user_id",
        "occurred_at",
        "type",
        "delivery_id",
        "brand",
    ] {
        assert!(fields.contains_key(f), "EventInput lacks `{f}`");
    }
}
