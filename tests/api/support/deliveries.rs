//! The deliveries list: keyset pages that stay stable under inserts, filters, and the read log.

use super::world::*;
use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::HashSet;

/// 300 deliveries in threes sharing a millisecond (so the id breaks ties), two brands.
async fn seed(app: &TestApp, start: DateTime<Utc>) -> Vec<String> {
    let batch: Vec<_> = (0..300)
        .map(|i| {
            let brand = if i % 4 == 0 { "beanline" } else { "chillco" };
            let user = format!("u-{}", i % 5);
            delivered(
                brand,
                &user,
                start + Duration::seconds(i / 3),
                &format!("Offer {i}"),
            )
        })
        .collect();
    app.state.store.save_decisions(batch.clone()).await.unwrap();
    batch
        .iter()
        .map(|d| d.delivery.as_ref().unwrap().id.to_string())
        .collect()
}

async fn all_pages(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/deliveries?{query}&cursor={c}"),
            None => format!("/v1/deliveries?{query}"),
        };
        let page = app.get(&path, key).await;
        assert_eq!(page.status, 200, "{}", page.body);
        out.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_while_new_deliveries_arrive() {
    let app = spawn_app().await;
    let key = app.key("support", None).await;
    let start: DateTime<Utc> = "2026-07-01T12:00:00Z".parse().unwrap();
    let seeded = seed(&app, start).await;
    // New deliveries keep arriving while support pages: some at the newest seeded instant.
    let store = app.state.store.clone();
    let writer = tokio::spawn(async move {
        for i in 0..60 {
            let at = start + Duration::seconds(99 + i64::from(i % 2 == 0) * 1_000);
            store
                .save_decisions(vec![delivered("chillco", "u-new", at, "Late")])
                .await
                .unwrap();
            tokio::task::yield_now().await;
        }
    });
    let items = all_pages(&app, &key, "limit=7").await;
    writer.await.unwrap();

    let ids: Vec<&str> = items.iter().map(|d| d["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a delivery appeared twice");
    for id in &seeded {
        assert!(unique.contains(id.as_str()), "delivery {id} was skipped");
    }
    let keys: Vec<(String, &str)> = items
        .iter()
        .map(|d| {
            (
                d["created_at"].as_str().unwrap().to_string(),
                d["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "not newest first by (created_at, id)"
    );
}

#[tokio::test]
async fn filters_narrow_the_list_and_bad_filters_are_named_and_logged_nowhere() {
    let app = spawn_app().await;
    let key = app.key("support", None).await;
    let start: DateTime<Utc> = "2026-07-01T12:00:00Z".parse().unwrap();
    seed(&app, start).await;
    let count = |q: &'static str| {
        let (app, key) = (&app, &key);
        async move { all_pages(app, key, q).await.len() }
    };
    assert_eq!(count("limit=1000").await, 300);
    assert_eq!(count("brand=beanline").await, 75);
    assert_eq!(count("user_id=u-1").await, 60);
    assert_eq!(count("user_id=u-1&app=other").await, 0);
    assert_eq!(count("status=delivered&brand=chillco").await, 225);
    assert_eq!(count("status=redeemed").await, 0);
    assert_eq!(
        count("from=2026-07-01T12:00:10Z&to=2026-07-01T12:00:20Z").await,
        30
    );
    let fence = uuid::Uuid::from_u128(7);
    assert_eq!(
        all_pages(&app, &key, &format!("fence_id={fence}"))
            .await
            .len(),
        300
    );
    // The seeded offer ids are the brand name's length: beanline's is 8.
    let offer = uuid::Uuid::from_u128(8);
    assert_eq!(
        all_pages(&app, &key, &format!("offer_id={offer}"))
            .await
            .len(),
        75
    );

    let logged = app.count_rows("audit_reads").await;
    for (query, pointer) in [
        ("status=lost", "/query/status"),
        ("offer_id=nope", "/query/offer_id"),
        ("limit=0", "/query/limit"),
        ("cursor=zzz", "/query/cursor"),
        ("from=yesterday", "/query/from"),
        (
            "from=2026-07-02T00:00:00Z&to=2026-07-01T00:00:00Z",
            "/query/to",
        ),
        ("brand=Not%20A%20Brand", "/query/brand"),
        ("colour=red", "/query/colour"),
    ] {
        let a = app.get(&format!("/v1/deliveries?{query}"), &key).await;
        assert_eq!(pointers(assert_problem(&a, 400)), [pointer], "{query}");
    }
    assert_eq!(app.count_rows("audit_reads").await, logged);
}

#[tokio::test]
async fn every_read_of_a_persons_data_is_logged_with_who_what_and_whom() {
    let w = world(Default::default(), &[place_offer("Two-for-one", 1.0)]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let answer = w.checkin("c-1", "u-1", serde_json::json!({})).await;
    let delivery = answer["offer"]["delivery_id"].as_str().unwrap();
    let key = &w.support_key;
    for path in [
        "/v1/decisions/c-1".to_string(),
        "/v1/deliveries?user_id=u-1".into(),
        "/v1/users/u-1/timeline".into(),
        format!("/v1/deliveries/{delivery}"),
        "/v1/deliveries?brand=chillco".into(),
    ] {
        assert_eq!(w.app.get(&path, key).await.status, 200, "{path}");
    }
    let csv = w
        .app
        .client
        .get(format!("{}/v1/deliveries?user_id=u-1", w.app.base))
        .bearer_auth(key)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);

    let log = w.app.get("/v1/audit/reads", &w.app.admin_key).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let key_id = geoffer::auth::split_key(key).unwrap().0;
    let seen: Vec<(String, Option<String>, String)> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|e| {
            assert_eq!(
                (e["key_id"].as_str(), e["role"].as_str()),
                (Some(key_id), Some("support"))
            )
        })
        .map(|e| {
            (
                e["what"].as_str().unwrap().to_string(),
                e["subject"].as_str().map(str::to_string),
                e["query"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let u1 = Some("u-1".to_string());
    assert_eq!(
        seen,
        [
            (
                "export".into(),
                u1.clone(),
                "/v1/deliveries?user_id=u-1".into()
            ),
            (
                "deliveries".into(),
                None,
                "/v1/deliveries?brand=chillco".into()
            ),
            (
                "delivery".into(),
                u1.clone(),
                format!("/v1/deliveries/{delivery}")
            ),
            (
                "timeline".into(),
                u1.clone(),
                "/v1/users/u-1/timeline".into()
            ),
            (
                "deliveries".into(),
                u1.clone(),
                "/v1/deliveries?user_id=u-1".into()
            ),
            ("decision".into(), u1, "/v1/decisions/c-1".into()),
        ]
    );
    // Support may read the log too; reading it is not itself a read of anyone's data.
    let again = w.app.get("/v1/audit/reads?what=decision", key).await;
    assert_eq!(
        again.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        again.body
    );
    assert_eq!(w.app.count_rows("audit_reads").await, 6);
    assert_problem(&w.app.get("/v1/audit/reads", &w.brand_key).await, 403);
    assert_problem(&w.app.get("/v1/audit/reads?what=gossip", key).await, 400);
}
