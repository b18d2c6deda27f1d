//! Every failure, whoever produces it, is problem+json.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    assert_problem(&app.get("/v1/nothing-here", &app.admin_key).await, 404);
    assert_problem(&app.send(Method::GET, "/", None, None).await, 404);
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = spawn_app().await;
    let a = app
        .send(Method::PATCH, "/v1/brands", Some(&app.admin_key), None)
        .await;
    assert_problem(&a, 405);
    assert_problem(&app.send(Method::DELETE, "/healthz", None, None).await, 405);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_problem() {
    let app = spawn_app().await;
    app.brand_with_key("chillco").await;
    let res = app
        .client
        .post(format!("{}/v1/brands", app.base))
        .bearer_auth(&app.admin_key)
        .header("content-type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    assert_problem(&read(res).await, 400);
}

#[tokio::test]
async fn a_nan_coordinate_is_refused_with_its_pointer_and_changes_nothing() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let body = circle_fence().to_string().replace("-73.9857", "NaN");
    let res = app
        .client
        .post(format!("{}/v1/brands/chillco/geofences", app.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let a = read(res).await;
    assert_eq!(
        pointers(assert_problem(&a, 400)),
        vec!["/geometry/coordinates/0"]
    );
    assert_eq!(
        app.get("/v1/brands/chillco/geofences", &key).await.body["features"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415_problem() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(format!("{}/v1/brands", app.base))
        .bearer_auth(&app.admin_key)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(&read(res).await, 415);
    let none = app
        .client
        .post(format!("{}/v1/brands", app.base))
        .bearer_auth(&app.admin_key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(&read(none).await, 415);
}

#[tokio::test]
async fn a_two_mebibyte_body_is_a_413_problem_and_changes_nothing() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let before = app.audit_count().await;
    let mut f = circle_fence();
    f["properties"]["name"] = json!("x".repeat(2 << 20));
    let a = app.post("/v1/brands/chillco/geofences", &key, &f).await;
    assert_problem(&a, 413);
    // Streamed without a length, too.
    let stream =
        futures_util::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 32 << 10])));
    let res = app
        .client
        .post(format!("{}/v1/brands/chillco/geofences", app.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_problem(&read(res).await, 413);
    assert_eq!(app.audit_count().await, before);
}

#[tokio::test]
async fn an_import_may_be_larger_than_the_general_limit() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let features: Vec<_> = (0..6000)
        .map(|i| {
            let mut f = circle_fence();
            f["properties"]["external_id"] = json!(format!("store-{i:05}"));
            f["properties"]["name"] = json!(format!("Store number {i} on a long avenue name"));
            f
        })
        .collect();
    let body = json!({"type": "FeatureCollection", "features": features});
    assert!(body.to_string().len() > 1 << 20);
    let a = app
        .post("/v1/brands/chillco/geofences/import", &key, &body)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["created"], 6000);
}
