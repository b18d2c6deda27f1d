//! About 470 lines: 14 scenarios of fences, imports and the live index behind them.

use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_brand_creates_reads_updates_and_deletes_a_circle_fence() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let created = app
        .post("/v1/brands/chillco/geofences", &key, &circle_fence())
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["properties"]["radius_m"], 120.0);
    let path = format!("/v1/brands/chillco/geofences/{id}");
    assert_eq!(
        app.get(&path, &key).await.body["properties"]["name"],
        "Corner Store 5th Ave"
    );

    let mut changed = circle_fence();
    changed["properties"]["name"] = json!("Corner Store (renamed)");
    let updated = app.put(&path, &key, &changed).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["properties"]["version"], 2);

    assert_eq!(app.delete(&path, &key).await.status, 204);
    assert_problem(&app.get(&path, &key).await, 404);
    assert_problem(&app.delete(&path, &key).await, 404);
}

#[tokio::test]
async fn a_brand_creates_a_polygon_fence_with_a_hole() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let mut f = polygon_fence(square_ring());
    f["geometry"]["coordinates"]
        .as_array_mut()
        .unwrap()
        .push(json!([
            [-73.988, 40.752],
            [-73.986, 40.752],
            [-73.986, 40.754],
            [-73.988, 40.752]
        ]));
    let a = app.post("/v1/brands/chillco/geofences", &key, &f).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["geometry"]["type"], "Polygon");
}

#[tokio::test]
async fn another_brands_fence_is_not_found() {
    let app = spawn_app().await;
    let chill = app.brand_with_key("chillco").await;
    let bean = app.brand_with_key("beanline").await;
    let created = app
        .post(
            "/v1/brands/chillco/geofences",
            &chill,
            &polygon_fence(square_ring()),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    let theirs = format!("/v1/brands/chillco/geofences/{id}");
    assert_problem(&app.get(&theirs, &bean).await, 404);
    assert_problem(&app.put(&theirs, &bean, &circle_fence()).await, 404);
    assert_problem(&app.delete(&theirs, &bean).await, 404);
    assert_problem(&app.get("/v1/brands/chillco/geofences", &bean).await, 404);
    assert_problem(
        &app.post("/v1/brands/chillco/geofences", &bean, &circle_fence())
            .await,
        404,
    );
    // Asking through its own brand's path does not find it either.
    assert_problem(
        &app.get(&format!("/v1/brands/beanline/geofences/{id}"), &bean)
            .await,
        404,
    );
    assert_eq!(app.get(&theirs, &chill).await.status, 200);
}

#[tokio::test]
async fn support_reads_fences_but_cannot_write_and_apps_cannot_read() {
    let app = spawn_app().await;
    let chill = app.brand_with_key("chillco").await;
    app.post("/v1/brands/chillco/geofences", &chill, &circle_fence())
        .await;
    let support = app.key("support", None).await;
    let app_key = app.key("app", None).await;
    assert_eq!(
        app.get("/v1/brands/chillco/geofences", &support)
            .await
            .status,
        200
    );
    assert_problem(
        &app.post("/v1/brands/chillco/geofences", &support, &circle_fence())
            .await,
        403,
    );
    assert_problem(
        &app.get("/v1/brands/chillco/geofences", &app_key).await,
        403,
    );
}

async fn rejected(app: &TestApp, key: &str, body: &Value, status: u16) -> Vec<String> {
    let before = app.audit_count().await;
    let a = app.post("/v1/brands/chillco/geofences", key, body).await;
    let p = pointers(assert_problem(&a, status));
    let list = app.get("/v1/brands/chillco/geofences", key).await;
    assert_eq!(
        list.body["features"].as_array().unwrap().len(),
        0,
        "store changed"
    );
    assert_eq!(app.audit_count().await, before, "audit changed");
    p
}

#[tokio::test]
async fn every_geometry_rule_is_enforced_and_changes_nothing() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let bow_tie = polygon_fence(json!([
        [-73.99, 40.75],
        [-73.98, 40.76],
        [-73.98, 40.75],
        [-73.99, 40.76],
        [-73.99, 40.75]
    ]));
    assert_eq!(
        rejected(&app, &key, &bow_tie, 422).await,
        vec!["/geometry/coordinates/0"]
    );
    let open = polygon_fence(json!([
        [-73.99, 40.75],
        [-73.98, 40.75],
        [-73.98, 40.76],
        [-73.99, 40.76]
    ]));
    assert_eq!(
        rejected(&app, &key, &open, 422).await,
        vec!["/geometry/coordinates/0"]
    );
    let three = polygon_fence(json!([[-73.99, 40.75], [-73.98, 40.75], [-73.99, 40.75]]));
    assert_eq!(
        rejected(&app, &key, &three, 422).await,
        vec!["/geometry/coordinates/0"]
    );
    let flat = polygon_fence(json!([
        [-73.99, 40.75],
        [-73.98, 40.75],
        [-73.97, 40.75],
        [-73.99, 40.75]
    ]));
    assert_eq!(
        rejected(&app, &key, &flat, 422).await,
        vec!["/geometry/coordinates/0"]
    );
    let mut outside_hole = polygon_fence(square_ring());
    outside_hole["geometry"]["coordinates"]
        .as_array_mut()
        .unwrap()
        .push(json!([
            [-73.90, 40.70],
            [-73.89, 40.70],
            [-73.89, 40.71],
            [-73.90, 40.70]
        ]));
    assert_eq!(
        rejected(&app, &key, &outside_hole, 422).await,
        vec!["/geometry/coordinates/1"]
    );
    let mut lat91 = circle_fence();
    lat91["geometry"]["coordinates"] = json!([-73.98, 91.0]);
    assert_eq!(
        rejected(&app, &key, &lat91, 422).await,
        vec!["/geometry/coordinates/1"]
    );
    let mut lon181 = circle_fence();
    lon181["geometry"]["coordinates"] = json!([181.0, 40.0]);
    assert_eq!(
        rejected(&app, &key, &lon181, 422).await,
        vec!["/geometry/coordinates/0"]
    );
    let mut line = circle_fence();
    line["geometry"]["type"] = json!("LineString");
    assert_eq!(
        rejected(&app, &key, &line, 422).await,
        vec!["/geometry/type"]
    );
}

#[tokio::test]
async fn a_polygon_over_ten_thousand_vertices_is_refused() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let n = 10_001;
    let mut ring: Vec<Value> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            json!([-73.98 + 0.01 * a.cos(), 40.75 + 0.01 * a.sin()])
        })
        .collect();
    ring.push(ring[0].clone());
    let p = rejected(&app, &key, &polygon_fence(Value::Array(ring)), 422).await;
    assert_eq!(p, vec!["/geometry/coordinates"]);
}

#[tokio::test]
async fn every_property_rule_is_enforced_and_changes_nothing() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "timezone",
            json!("Mars/Olympus_Mons"),
            "/properties/timezone",
        ),
        ("radius_m", json!(9), "/properties/radius_m"),
        ("radius_m", json!(50_001), "/properties/radius_m"),
        ("max_accuracy_m", json!(4), "/properties/max_accuracy_m"),
        ("max_accuracy_m", json!(5_001), "/properties/max_accuracy_m"),
        ("tags", json!(["Corner Store"]), "/properties/tags/0"),
        ("name", json!("  "), "/properties/name"),
    ];
    for (field, value, pointer) in cases {
        let mut f = circle_fence();
        f["properties"][field] = value;
        assert_eq!(
            rejected(&app, &key, &f, 422).await,
            vec![pointer],
            "{field}"
        );
    }
    let mut poly_with_radius = polygon_fence(square_ring());
    poly_with_radius["properties"]["radius_m"] = json!(100);
    assert_eq!(
        rejected(&app, &key, &poly_with_radius, 422).await,
        vec!["/properties/radius_m"]
    );
    let mut no_tz = circle_fence();
    no_tz["properties"]
        .as_object_mut()
        .unwrap()
        .remove("timezone");
    assert_eq!(rejected(&app, &key, &no_tz, 422).await, vec!["/properties"]);
}

#[tokio::test]
async fn unknown_fields_are_refused_with_their_place() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let mut f = circle_fence();
    f["properties"]["colour"] = json!("red");
    let p = rejected(&app, &key, &f, 422).await;
    assert!(p[0].starts_with("/properties"), "{p:?}");
}

#[tokio::test]
async fn a_duplicate_external_id_is_a_conflict() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    assert_eq!(
        app.post("/v1/brands/chillco/geofences", &key, &circle_fence())
            .await
            .status,
        201
    );
    assert_problem(
        &app.post("/v1/brands/chillco/geofences", &key, &circle_fence())
            .await,
        409,
    );
}

#[tokio::test]
async fn listing_pages_with_a_cursor_and_filters_by_tag() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let features: Vec<Value> = (0..25)
        .map(|i| {
            let mut f = circle_fence();
            f["properties"]["external_id"] = json!(format!("s-{i}"));
            f["properties"]["tags"] = if i % 5 == 0 {
                json!(["flagship"])
            } else {
                json!(["corner-store"])
            };
            f
        })
        .collect();
    let imp = app
        .post(
            "/v1/brands/chillco/geofences/import",
            &key,
            &json!({"type": "FeatureCollection", "features": features}),
        )
        .await;
    assert_eq!(imp.status, 200, "{}", imp.body);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/brands/chillco/geofences?limit=10&cursor={c}"),
            None => "/v1/brands/chillco/geofences?limit=10".to_string(),
        };
        let page = app.get(&path, &key).await;
        assert_eq!(page.body["type"], "FeatureCollection");
        for f in page.body["features"].as_array().unwrap() {
            seen.push(f["id"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (25, 25));
    let flagship = app
        .get("/v1/brands/chillco/geofences?tag=flagship", &key)
        .await;
    assert_eq!(flagship.body["features"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn bad_paging_parameters_are_named() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let a = app
        .get("/v1/brands/chillco/geofences?limit=abc", &key)
        .await;
    assert_eq!(pointers(assert_problem(&a, 400)), vec!["/query/limit"]);
    let b = app
        .get("/v1/brands/chillco/geofences?limit=5000", &key)
        .await;
    assert_eq!(pointers(assert_problem(&b, 400)), vec!["/query/limit"]);
    let c = app
        .get("/v1/brands/chillco/geofences?cursor=%%%", &key)
        .await;
    assert_eq!(pointers(assert_problem(&c, 400)), vec!["/query/cursor"]);
}

#[tokio::test]
async fn import_is_all_or_nothing_and_upserts_by_external_id() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let good = circle_fence();
    let mut bad = circle_fence();
    bad["properties"]["external_id"] = json!("other");
    bad["geometry"]["coordinates"] = json!([-73.98, 91.0]);
    let a = app
        .post(
            "/v1/brands/chillco/geofences/import",
            &key,
            &json!({"type": "FeatureCollection", "features": [good, bad]}),
        )
        .await;
    assert_eq!(
        pointers(assert_problem(&a, 422)),
        vec!["/features/1/geometry/coordinates/1"]
    );
    assert_eq!(
        app.get("/v1/brands/chillco/geofences", &key).await.body["features"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let first = app
        .post(
            "/v1/brands/chillco/geofences/import",
            &key,
            &json!({"type": "FeatureCollection", "features": [circle_fence()]}),
        )
        .await;
    assert_eq!(
        (
            first.body["created"].as_u64(),
            first.body["updated"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let again = app
        .post(
            "/v1/brands/chillco/geofences/import",
            &key,
            &json!({"type": "FeatureCollection", "features": [circle_fence()]}),
        )
        .await;
    assert_eq!(
        (
            again.body["created"].as_u64(),
            again.body["updated"].as_u64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(first.body["ids"], again.body["ids"]);

    let dup = app
        .post(
            "/v1/brands/chillco/geofences/import",
            &key,
            &json!({"type": "FeatureCollection", "features": [circle_fence(), circle_fence()]}),
        )
        .await;
    assert_eq!(
        pointers(assert_problem(&dup, 422)),
        vec!["/features/1/properties/external_id"]
    );
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_with_before_and_after() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let created = app
        .post("/v1/brands/chillco/geofences", &key, &circle_fence())
        .await;
    let id = created.body["id"].as_str().unwrap();
    let mut changed = circle_fence();
    changed["properties"]["name"] = json!("Renamed");
    app.put(
        &format!("/v1/brands/chillco/geofences/{id}"),
        &key,
        &changed,
    )
    .await;
    let log = app.get("/v1/audit/changes?brand=chillco", &key).await;
    let items = log.body["items"].as_array().unwrap();
    let update = items
        .iter()
        .find(|e| e["action"] == "update" && e["entity"] == "geofence")
        .unwrap();
    assert_eq!(
        update["before"]["properties"]["name"],
        "Corner Store 5th Ave"
    );
    assert_eq!(update["after"]["properties"]["name"], "Renamed");
    assert_eq!(update["role"], "brand");
    assert!(update["key_id"].as_str().is_some_and(|k| key.contains(k)));
}

#[tokio::test]
async fn accepted_changes_are_published_on_the_change_feed_and_rejected_ones_are_not() {
    use geoffer::changes::Change;
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let mut feed = app.state.feed.subscribe();
    let mut bad = circle_fence();
    bad["properties"]["timezone"] = json!("Nowhere/Land");
    app.post("/v1/brands/chillco/geofences", &key, &bad).await;
    let created = app
        .post("/v1/brands/chillco/geofences", &key, &circle_fence())
        .await;
    let id = created.body["id"].as_str().unwrap().to_string();
    match feed.recv().await.unwrap() {
        Change::FenceUpserted(f) => assert_eq!(f.id.to_string(), id),
        other => panic!("unexpected first change {other:?}"),
    }
    app.delete(&format!("/v1/brands/chillco/geofences/{id}"), &key)
        .await;
    assert!(matches!(
        feed.recv().await.unwrap(),
        Change::FenceRemoved { .. }
    ));
}
