//! The use cases without HTTP, as the console will call them: a change made through a
//! service is validated like the API's, and the live catalog follows it.

use crate::helpers::*;
use geoffer::auth::{Principal, Role};
use geoffer::clock::Clock;
use geoffer::services::catalog::NewBrand;
use serde_json::json;

fn admin() -> Principal {
    Principal {
        key_id: "console-admin".into(),
        role: Role::Admin,
        brand: None,
        app: None,
    }
}

#[tokio::test]
async fn a_brand_created_through_the_service_is_live_for_events_and_visible_over_http() {
    let app = spawn_app().await;
    let catalog = &app.state.services.catalog;
    let new = NewBrand {
        id: "chillco".into(),
        name: "ChillCo".into(),
    };
    catalog.create_brand(&admin(), new).await.unwrap();
    let got = app.get("/v1/brands/chillco", &app.admin_key).await;
    assert_eq!(got.body["name"], "ChillCo");

    // A follow names a brand the live catalog knows: the service published the change.
    let key = app.key("app", None).await;
    app.consent(&key, "u-1", true, true).await;
    let at = app.clock.now().to_rfc3339();
    let mut answer = json!(null);
    for _ in 0..50 {
        answer = app
            .post(
                "/v1/events",
                &key,
                &json!({"events": [{"event_id": "f-1", "user_id": "u-1", "occurred_at": at,
                                     "type": "follow", "brand": "chillco"}]}),
            )
            .await
            .body;
        if answer["accepted"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(answer["accepted"], 1, "{answer:#}");
}

#[tokio::test]
async fn the_service_refuses_what_the_api_refuses_and_names_the_field() {
    let app = spawn_app().await;
    let blank = NewBrand {
        id: "chillco".into(),
        name: "   ".into(),
    };
    let err = app
        .state
        .services
        .catalog
        .create_brand(&admin(), blank)
        .await
        .unwrap_err();
    let p = err.to_problem();
    assert_eq!(p.status, 422);
    assert_eq!(p.errors[0].pointer, "/name");
    let not_admin = Principal {
        role: Role::Support,
        ..admin()
    };
    let new = NewBrand {
        id: "chillco".into(),
        name: "ChillCo".into(),
    };
    let err = app
        .state
        .services
        .catalog
        .create_brand(&not_admin, new)
        .await
        .unwrap_err();
    assert_eq!(err.to_problem().status, 403);
}
