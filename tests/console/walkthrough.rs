//! Issue 17's "done when", end to end in the browser on the demo world: a marketer signs in,
//! draws a new store fence, creates a weather-and-habit offer for it, sees it fire with
//! "Try it", and — once a regular has come by on a hot afternoon — reads its results; a
//! support person then finds that delivery and reads why it happened. No step uses curl:
//! the API is called only where a phone would call it (consent and check-ins) and to read
//! the id of what the marketer just made.

use crate::browser::{Browser, WIDTHS, browser};
use crate::helpers::{TestApp, spawn_demo_app};
use geoffer::clock::Clock;
use serde_json::{Value, json};
use std::time::Duration;

/// The demo brand whose marketer walks through: 25 stores, none within 400 m of the middle
/// of their map, where the new store is drawn.
const BRAND: &str = "lumen";

#[tokio::test]
async fn a_marketer_launches_a_weather_and_habit_offer_and_support_reads_why_it_fired() {
    let Some(b) = browser().await else { return };
    let (app, demo) = spawn_demo_app().await;
    for width in WIDTHS {
        b.resize(width).await;
        let brand = BRAND;
        let key = demo
            .brand_keys
            .iter()
            .find(|(id, _)| id == brand)
            .map(|(_, k)| k.clone())
            .expect("a demo brand key");

        // 1. Sign in, and draw the new store on the fences page.
        b.sign_in(&app.base, &key).await;
        b.find("#nav-deliveries").await;
        assert_eq!(b.path().await, format!("/console/brands/{brand}/fences"));
        let fence_name = format!("Walkthrough store {width}");
        let fence = draw_store(&b, &app, brand, &key, &fence_name).await;
        let (lat, lon) = centre_of(&fence);
        let fence_id = fence["id"].as_str().unwrap().to_string();

        // 2. A weather-and-habit offer for that store, through the offer form.
        b.goto(&app.base, &format!("/console/brands/{brand}/offers"))
            .await;
        b.find("#new-offer").await.click().await.unwrap();
        let offer_name = format!("Hot day, regulars {width}");
        b.fill("#name", &offer_name).await;
        b.fill("#title", "Ice-cold and two minutes away").await;
        b.fill(
            "#body",
            "{{ weather.temp_c | round | int }}°C out. Your usual is waiting at {{ fence.name }}.",
        )
        .await;
        b.find(&format!("input[name=fence_ids][value=\"{fence_id}\"]"))
            .await
            .click()
            .await
            .unwrap();
        b.fill("#min_temp_c", "25").await;
        b.fill("#min_visits_per_week", "2").await;
        b.fill("#holdout_pct", "0").await;
        b.find("#save-offer").await.click().await.unwrap();
        let notice = b.text("#notice").await;
        assert!(notice.contains("saved"), "{notice}");
        let offer_id = offer_id_named(&app, brand, &key, &offer_name).await;

        // 3. Try it: the store on the map, a regular, a hot clear afternoon → it fires.
        b.find("#try-link").await.click().await.unwrap();
        b.find("#map[data-ready] .leaflet-pane").await;
        // The map is fitted to the brand's fences, as the fences page was, and the new store
        // was drawn at that view's centre.
        let map = b.find("#map").await;
        b.click_at(&map, 0.0, 0.0).await;
        b.find("#map[data-point]").await;
        b.fill("#temp_c", "31").await;
        b.find("#try-submit").await.click().await.unwrap();
        let verdict = b.text("#verdict").await;
        assert!(
            verdict.starts_with(&format!("Would send: {offer_name}")),
            "{verdict}"
        );
        b.assert_no_sideways_scroll("Try it on the new store").await;
        if width < 800 {
            b.scroll_to("#verdict").await;
        }
        b.screenshot("walkthrough-try-it", width).await;

        // 4. A regular comes by: two mornings a week for four weeks (reported late, so they
        //    count as visits and nothing more), then now, on the recorded hot afternoon.
        let person = format!("u-walk-{width}");
        let delivered = regular_comes_by(&app, &demo.app_key, &person, lat, lon).await;
        assert_eq!(
            delivered["offer"]["offer_id"],
            offer_id.as_str(),
            "{delivered}"
        );

        // 5. The marketer reads the results: one delivery, day by day.
        b.goto(&app.base, &format!("/console/brands/{brand}/offers"))
            .await;
        b.find(&format!(
            "a.results-link[href=\"/console/brands/{brand}/offers/{offer_id}/results\"]"
        ))
        .await
        .click()
        .await
        .unwrap();
        assert_eq!(b.text("#total-deliveries").await, "1");
        b.find("#results-chart canvas").await;
        b.assert_no_sideways_scroll("the new offer's results").await;
        b.screenshot("walkthrough-results", width).await;

        // 6. Support finds the delivery and reads why it happened.
        b.sign_in(&app.base, &demo.support_key).await;
        b.find("#nav-deliveries").await.click().await.unwrap();
        b.fill("#offer_id", &offer_id).await;
        b.find("#search-submit").await.click().await.unwrap();
        // The page before the search has a count too: read the one the search answered.
        wait_for_url(&b, &format!("offer_id={offer_id}")).await;
        assert_eq!(b.text("#delivery-count").await, "1 delivery on this page");
        b.find("#deliveries .decision-link")
            .await
            .click()
            .await
            .unwrap();
        let summary = b.text("#summary").await;
        assert!(summary.contains(&offer_name), "{summary}");
        let why = b.text("#explanation").await.to_lowercase();
        assert!(why.contains("weather"), "{why}");
        assert!(why.contains(&fence_name.to_lowercase()), "{why}");
        // The delivered offer's own lines say which signals of the moment it matched.
        let considered = b.text("main").await;
        for signal in [
            "weather: needs ≥ 25 °C, was 31.4 °C",
            "habit: needs ≥ 2 visits/week at this store, had",
        ] {
            assert!(considered.contains(signal), "{signal}: {considered}");
        }
        b.assert_no_sideways_scroll("support reads the decision")
            .await;
        b.scroll_to("#candidates").await;
        b.screenshot("walkthrough-support", width).await;

        // The marketer retires the offer, so that the next walkthrough (at the same spot)
        // starts from the demo as it was...
        b.sign_in(&app.base, &key).await;
        // Signed in (the header's links show) before going anywhere else.
        b.find("#nav-deliveries").await;
        b.goto(
            &app.base,
            &format!("/console/brands/{brand}/offers/{offer_id}"),
        )
        .await;
        b.find("#retire-offer").await.click().await.unwrap();
        let notice = b.text("#notice").await;
        assert!(notice.contains("retired"), "{notice}");
        // ...and deletes the store, found by name in the fences list.
        b.goto(
            &app.base,
            &format!("/console/brands/{brand}/fences?q=Walkthrough"),
        )
        .await;
        b.find(&format!("button[aria-label=\"Delete {fence_name}\"]"))
            .await
            .click()
            .await
            .unwrap();
        let notice = b.text("#notice").await;
        assert!(notice.contains("deleted"), "{notice}");
    }
    b.close().await;
}

/// Zooms in on the middle of the fences map, draws a square there and saves it as
/// `name`; returns the fence as the API lists it.
async fn draw_store(b: &Browser, app: &TestApp, brand: &str, key: &str, name: &str) -> Value {
    b.find("#map .leaflet-pane").await;
    let map = b.find("#map").await;
    // From the whole city to a few blocks.
    for _ in 0..3 {
        b.find(".leaflet-control-zoom-in")
            .await
            .click()
            .await
            .unwrap();
        // Leaflet marks the map while a zoom animates; clicks then land on the old view.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for _ in 0..50 {
            if b.count("#map.leaflet-zoom-anim").await == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.find(".leaflet-pm-icon-polygon")
        .await
        .click()
        .await
        .unwrap();
    let corners = [(-30.0, -25.0), (30.0, -25.0), (30.0, 25.0), (-30.0, 25.0)];
    for (x, y) in corners {
        b.click_at(&map, x, y).await;
    }
    b.click_at(&map, corners[0].0, corners[0].1).await;
    b.find("#fence-form:not(.hidden)").await;
    b.fill("#name", name).await;
    b.fill("#timezone", "America/New_York").await;
    b.find("#save-fence").await.click().await.unwrap();
    let notice = b.text("#notice").await;
    assert!(notice.contains("saved"), "{notice}");
    let (s, page) = app
        .get(&format!("/v1/brands/{brand}/geofences?limit=1000"), key)
        .await;
    assert_eq!(s, 200, "{page}");
    page["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["name"] == name)
        .unwrap_or_else(|| panic!("the drawn store is listed: {page}"))
        .clone()
}

/// Waits (up to 10 s) until the page's URL contains `part`: a form submitted or a link
/// followed has loaded its page.
async fn wait_for_url(b: &Browser, part: &str) {
    let mut url = String::new();
    for _ in 0..100 {
        url = b.client.current_url().await.unwrap().to_string();
        if url.contains(part) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page is still {url}, not one with {part}");
}

/// The middle of a drawn square (its four corners' mean).
fn centre_of(fence: &Value) -> (f64, f64) {
    let ring = fence["geometry"]["coordinates"][0].as_array().unwrap();
    let (mut lat, mut lon) = (0.0, 0.0);
    for p in &ring[..4] {
        lon += p[0].as_f64().unwrap() / 4.0;
        lat += p[1].as_f64().unwrap() / 4.0;
    }
    (lat, lon)
}

async fn offer_id_named(app: &TestApp, brand: &str, key: &str, name: &str) -> String {
    let (s, page) = app
        .get(&format!("/v1/brands/{brand}/offers?limit=200"), key)
        .await;
    assert_eq!(s, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .and_then(|o| o["id"].as_str())
        .unwrap_or_else(|| panic!("the new offer is listed: {page}"))
        .to_string()
}

/// What a phone sends for a regular: consent with personalization, a visit every third day
/// of the past four weeks at 09:00 local time (reported now, so late: they teach the habit
/// and are offered nothing), then a check-in now. Returns the answer that delivered an offer.
async fn regular_comes_by(app: &TestApp, app_key: &str, user: &str, lat: f64, lon: f64) -> Value {
    let (s, body) = app
        .call(
            reqwest::Method::PUT,
            &format!("/v1/users/{user}/consent"),
            app_key,
            Some(json!({"location": true, "personalization": true})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let now = app.clock.now();
    // Habits are visits a week over the last four weeks: two a week is eight visits.
    for days in (3..=27).step_by(3) {
        let at = now - chrono::Duration::days(days) - chrono::Duration::hours(6);
        let (s, body) = app
            .post(
                "/v1/checkins",
                app_key,
                json!({"checkin_id": format!("{user}-visit-{days}"), "user_id": user,
                       "lat": lat, "lon": lon, "accuracy_m": 15,
                       "recorded_at": at.to_rfc3339()}),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["decision"], "none", "{body}");
    }
    let mut last = Value::Null;
    // The catalog picks the new fence and offer up within a second.
    for n in 0..60 {
        let (s, body) = app
            .post(
                "/v1/checkins",
                app_key,
                json!({"checkin_id": format!("{user}-now-{n}"), "user_id": user,
                       "lat": lat, "lon": lon, "accuracy_m": 15,
                       "recorded_at": now.to_rfc3339(), "activity": "walking"}),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        if body["decision"] == "offer" {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let id = last["checkin_id"].as_str().unwrap_or_default().to_string();
    let (_, why) = app
        .get(&format!("/v1/decisions/{id}"), &app.admin_key)
        .await;
    panic!("{user} got no offer: {last}; why: {why}");
}
