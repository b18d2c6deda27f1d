//! "Try it": a brand clicks a point in its store's fence, tries a regular on a hot clear
//! day and sees the weather-and-habit offer it would send — and nothing is recorded.

use crate::browser::{WIDTHS, browser};
use crate::helpers::spawn_app;
use crate::http::{client, csrf_of, sign_in};
use serde_json::json;

#[tokio::test]
async fn a_brand_clicks_its_store_on_the_map_and_sees_the_offer_a_regular_would_get() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let store = json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-73.9857, 40.7484]},
        "properties": {"name": "Corner Store 5th Ave", "radius_m": 120,
            "timezone": "America/New_York", "tags": ["corner-store"]}});
    let (s, body) = app.post("/v1/brands/chillco/geofences", &key, store).await;
    assert_eq!(s, 201, "{body}");
    let offer = json!({"name": "Cold one for regulars", "title": "Ice-cold and waiting",
        "body": "{{ weather.temp_c | int }}°C out: your usual {{ habit.usual_item }} is at {{ fence.name }}.",
        "value": 1.0,
        "targeting": {"weather": {"min_temp_c": 25, "conditions": ["clear"]},
                      "habit": {"min_visits_per_week": 2}}});
    let (s, body) = app.post("/v1/brands/chillco/offers", &key, offer).await;
    assert_eq!(s, 201, "{body}");
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        b.find("#try-link").await.click().await.unwrap();
        assert_eq!(b.path().await, "/console/brands/chillco/try");
        b.find("#map[data-ready] .leaflet-pane").await;
        // The map is fitted to the one fence: its centre is the store.
        let map = b.find("#map").await;
        b.click_at(&map, 0.0, 0.0).await;
        b.find("#map[data-point]").await;
        b.fill("#usual_item", "cola-330").await;
        b.fill("#temp_c", "31").await;
        b.assert_no_sideways_scroll("the try form").await;
        b.find("#try-submit").await.click().await.unwrap();
        let verdict = b.text("#verdict").await;
        assert!(
            verdict.starts_with("Would send: Cold one for regulars"),
            "{verdict}"
        );
        let copy = b.text("#copy").await;
        assert!(
            copy.contains("31°C out: your usual cola-330 is at Corner Store 5th Ave."),
            "{copy}"
        );
        let candidates = b.text("#candidates").await;
        assert!(candidates.contains("would send"), "{candidates}");
        b.find("#map[data-ready][data-point]").await;
        b.assert_no_sideways_scroll("the answer").await;
        if width < 800 {
            // On a phone the answer is under the map.
            b.scroll_to("#verdict").await;
        }
        b.screenshot("try-it", width).await;
        // The same person in the rain: nothing, and the weather rule says why.
        b.find("#condition option[value=rain]")
            .await
            .click()
            .await
            .unwrap();
        b.find("#try-submit").await.click().await.unwrap();
        let verdict = b.text("#verdict").await;
        assert!(
            verdict.starts_with("Would send nothing: “Cold one for regulars” did not qualify"),
            "{verdict}"
        );
        let candidates = b.text("#candidates").await;
        assert!(candidates.contains("weather"), "{candidates}");
        b.find("#map[data-ready][data-point]").await;
        b.assert_no_sideways_scroll("the answer in the rain").await;
        if width < 800 {
            // On a phone the answer is under the map.
            b.scroll_to("#verdict").await;
        }
        b.screenshot("try-it-rain", width).await;
    }
    // Nothing was recorded: no delivery for anyone.
    let (s, page) = app.get("/v1/deliveries", &app.admin_key).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["items"], json!([]), "{page}");
    b.close().await;
}

#[tokio::test]
async fn support_cannot_try_and_a_try_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let support = app.key("support", None).await;
    let (session, _) = sign_in(&app.base, &support, false).await;
    let page = client()
        .get(format!("{}/console/brands/chillco/try", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    let (session, _) = sign_in(&app.base, &key, false).await;
    let page = client()
        .get(format!("{}/console/brands/chillco/try", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(!csrf_of(&page.text().await.unwrap()).is_empty());
    let posted = client()
        .post(format!("{}/console/brands/chillco/try", app.base))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("lat=40.7484&lon=-73.9857")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 403);
    assert!(posted.text().await.unwrap().contains("security token"));
}
