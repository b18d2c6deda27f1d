use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn admin_creates_a_brand_and_reads_it_back() {
    let app = spawn_app().await;
    let a = app
        .post(
            "/v1/brands",
            &app.admin_key,
            &json!({"id": "chillco", "name": "ChillCo"}),
        )
        .await;
    assert_eq!(a.status, 201);
    assert_eq!(a.body["id"], "chillco");
    let b = app.get("/v1/brands/chillco", &app.admin_key).await;
    assert_eq!(b.body["name"], "ChillCo");
    let list = app.get("/v1/brands", &app.admin_key).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_duplicate_brand_is_a_conflict() {
    let app = spawn_app().await;
    app.brand_with_key("chillco").await;
    let a = app
        .post(
            "/v1/brands",
            &app.admin_key,
            &json!({"id": "chillco", "name": "Again"}),
        )
        .await;
    assert_problem(&a, 409);
}

#[tokio::test]
async fn an_invalid_brand_id_is_named() {
    let app = spawn_app().await;
    let a = app
        .post(
            "/v1/brands",
            &app.admin_key,
            &json!({"id": "Chill Co", "name": "x"}),
        )
        .await;
    assert_eq!(pointers(assert_problem(&a, 422)), vec!["/id"]);
}

#[tokio::test]
async fn a_missing_or_wrong_key_gets_401() {
    let app = spawn_app().await;
    let none = app.send(Method::GET, "/v1/brands", None, None).await;
    assert_problem(&none, 401);
    let wrong = app
        .get("/v1/brands", "gk_0123456789abcdef_not-the-secret")
        .await;
    assert_problem(&wrong, 401);
    let mangled = app.get("/v1/brands", &format!("{}x", app.admin_key)).await;
    assert_problem(&mangled, 401);
}

#[tokio::test]
async fn only_admins_create_brands_and_keys() {
    let app = spawn_app().await;
    let brand_key = app.brand_with_key("chillco").await;
    let app_key = app.key("app", None).await;
    let support = app.key("support", None).await;
    for key in [&brand_key, &app_key, &support] {
        let a = app
            .post("/v1/brands", key, &json!({"id": "other", "name": "x"}))
            .await;
        assert_problem(&a, 403);
        let k = app.post("/v1/keys", key, &json!({"role": "admin"})).await;
        assert_problem(&k, 403);
    }
}

#[tokio::test]
async fn a_brand_key_needs_an_existing_brand_and_other_keys_take_none() {
    let app = spawn_app().await;
    let a = app
        .post(
            "/v1/keys",
            &app.admin_key,
            &json!({"role": "brand", "brand": "ghost"}),
        )
        .await;
    assert_eq!(pointers(assert_problem(&a, 422)), vec!["/brand"]);
    let b = app
        .post("/v1/keys", &app.admin_key, &json!({"role": "brand"}))
        .await;
    assert_problem(&b, 422);
    let c = app
        .post(
            "/v1/keys",
            &app.admin_key,
            &json!({"role": "app", "brand": "ghost"}),
        )
        .await;
    assert_problem(&c, 422);
    let d = app
        .post("/v1/keys", &app.admin_key, &json!({"role": "wizard"}))
        .await;
    assert_eq!(pointers(assert_problem(&d, 422)), vec!["/role"]);
}

#[tokio::test]
async fn a_brand_key_sees_only_its_own_brand() {
    let app = spawn_app().await;
    let chill = app.brand_with_key("chillco").await;
    app.brand_with_key("beanline").await;
    let list = app.get("/v1/brands", &chill).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_problem(&app.get("/v1/brands/beanline", &chill).await, 404);
}

#[tokio::test]
async fn a_created_key_is_printed_once_and_works() {
    let app = spawn_app().await;
    let support = app.key("support", None).await;
    assert!(support.starts_with("gk_"));
    assert_eq!(app.get("/v1/brands", &support).await.status, 200);
}

#[tokio::test]
async fn a_new_brand_is_stamped_by_the_service_clock_not_the_wall_clock() {
    use geoffer::clock::Clock;
    let app = spawn_app().await;
    let a = app
        .post(
            "/v1/brands",
            &app.admin_key,
            &json!({"id": "chillco", "name": "ChillCo"}),
        )
        .await;
    assert_eq!(a.status, 201);
    let at: chrono::DateTime<chrono::Utc> = a.body["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(at, app.clock.now());
    let b = app.get("/v1/brands/chillco", &app.admin_key).await;
    assert_eq!(b.body["created_at"], a.body["created_at"]);
}
