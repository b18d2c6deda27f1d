use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_brand_creates_lists_updates_and_retires_an_offer() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let a = app.post("/v1/brands/chillco/offers", &key, &offer()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_string();
    assert_eq!(a.body["targeting"]["weather"]["min_temp_c"], 28.0);
    let list = app.get("/v1/brands/chillco/offers", &key).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let path = format!("/v1/brands/chillco/offers/{id}");
    let mut changed = offer();
    changed["status"] = json!("paused");
    let u = app.put(&path, &key, &changed).await;
    assert_eq!(
        (u.status.as_u16(), u.body["status"].as_str()),
        (200, Some("paused"))
    );
    assert_eq!(app.delete(&path, &key).await.status, 204);
    assert_problem(&app.get(&path, &key).await, 404);
}

#[tokio::test]
async fn another_brands_offer_is_not_found() {
    let app = spawn_app().await;
    let chill = app.brand_with_key("chillco").await;
    let bean = app.brand_with_key("beanline").await;
    let a = app
        .post("/v1/brands/chillco/offers", &chill, &offer())
        .await;
    let path = format!(
        "/v1/brands/chillco/offers/{}",
        a.body["id"].as_str().unwrap()
    );
    assert_problem(&app.get(&path, &bean).await, 404);
    assert_problem(&app.put(&path, &bean, &offer()).await, 404);
    assert_problem(&app.delete(&path, &bean).await, 404);
    assert_problem(&app.get("/v1/brands/chillco/offers", &bean).await, 404);
}

async fn rejected(app: &TestApp, key: &str, body: &Value) -> Vec<String> {
    let before = app.audit_count().await;
    let a = app.post("/v1/brands/chillco/offers", key, body).await;
    let p = pointers(assert_problem(&a, 422));
    assert_eq!(
        app.get("/v1/brands/chillco/offers", key).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(app.audit_count().await, before);
    p
}

#[tokio::test]
async fn an_unknown_template_variable_is_refused() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let mut o = offer();
    o["body"] = json!("Hi {{ user.first_name }}, it's {{ weather.temp_c }}°C");
    assert_eq!(rejected(&app, &key, &o).await, vec!["/body"]);
    o["body"] = json!("{{ fence.name ");
    assert_eq!(rejected(&app, &key, &o).await, vec!["/body"]);
}

#[tokio::test]
async fn every_offer_rule_is_enforced_and_changes_nothing() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/targeting/weather/max_temp_c",
            json!(20),
            "/targeting/weather/max_temp_c",
        ),
        (
            "/targeting/weather/min_temp_c",
            json!(99),
            "/targeting/weather/min_temp_c",
        ),
        (
            "/targeting/weather/conditions/0",
            json!("sunny"),
            "/targeting/weather/conditions/0",
        ),
        (
            "/targeting/schedule/hours/0/from",
            json!("25:00"),
            "/targeting/schedule/hours/0/from",
        ),
        (
            "/targeting/schedule/hours/0/to",
            json!("11:00"),
            "/targeting/schedule/hours/0",
        ),
        ("/holdout_pct", json!(75), "/holdout_pct"),
        ("/budget/daily", json!(20000), "/budget/daily"),
        ("/budget/daily", json!(0), "/budget/daily"),
        ("/caps/per_person/count", json!(0), "/caps/per_person/count"),
        (
            "/redemption/code_prefix",
            json!("chill!"),
            "/redemption/code_prefix",
        ),
        (
            "/redemption/valid_hours",
            json!(0),
            "/redemption/valid_hours",
        ),
        (
            "/valid_until",
            json!("2020-01-01T00:00:00Z"),
            "/valid_until",
        ),
        (
            "/targeting/max_speed_mps",
            json!(-1),
            "/targeting/max_speed_mps",
        ),
        ("/value", json!(-5), "/value"),
    ];
    for (at, value, pointer) in cases {
        let mut o = offer();
        *o.pointer_mut(at).unwrap() = value;
        assert_eq!(rejected(&app, &key, &o).await, vec![pointer], "{at}");
    }
}

#[tokio::test]
async fn a_misspelt_block_or_wrong_type_is_named() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let mut o = offer();
    o["targeting"]["wether"] = json!({});
    assert!(rejected(&app, &key, &o).await[0].starts_with("/targeting"));
    let mut t = offer();
    t["targeting"]["schedule"]["days"][0] = json!("someday");
    assert_eq!(
        rejected(&app, &key, &t).await,
        vec!["/targeting/schedule/days/0"]
    );
}

#[tokio::test]
async fn targeting_another_brands_fence_is_refused() {
    let app = spawn_app().await;
    let chill = app.brand_with_key("chillco").await;
    let bean = app.brand_with_key("beanline").await;
    let theirs = app
        .post("/v1/brands/beanline/geofences", &bean, &circle_fence())
        .await;
    let mut o = offer();
    o["targeting"]["fences"]["ids"] = json!([theirs.body["id"]]);
    assert_eq!(
        rejected(&app, &chill, &o).await,
        vec!["/targeting/fences/ids/0"]
    );
    let mine = app
        .post("/v1/brands/chillco/geofences", &chill, &circle_fence())
        .await;
    o["targeting"]["fences"]["ids"] = json!([mine.body["id"]]);
    assert_eq!(
        app.post("/v1/brands/chillco/offers", &chill, &o)
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn a_minimal_place_only_offer_is_accepted() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let a = app
        .post(
            "/v1/brands/chillco/offers",
            &key,
            &json!({"name": "Hello", "title": "Hi", "body": "At {{ fence.name }}"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["status"], "active");
    assert_eq!(a.body["value"], 1.0);
}
