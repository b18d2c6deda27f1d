//! The support pages: a delivered offer found in the deliveries search, its decision told in
//! sentences with the fence on a small map (never the person's position), the person's
//! timeline; brand scoping and the read log over HTTP.

use crate::browser::{WIDTHS, browser};
use crate::helpers::spawn_app;
use crate::http::{client, sign_in};
use geoffer::clock::Clock;

/// Inside the seeded circle (Corner Store 5th Ave, 120 m around 40.7484, -73.9857), and
/// written so neither number appears in the fence's own coordinates.
const AT: (f64, f64) = (40.7489, -73.9851);

fn assert_no_position(html: &str, what: &str) {
    for n in ["40.7489", "73.9851"] {
        assert!(
            !html.contains(n),
            "{what}: the check-in's position {n} is in the page"
        );
    }
}

#[tokio::test]
async fn support_finds_a_delivery_and_reads_its_decision_with_the_fence_on_a_map() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (_, checkin) = app
        .delivered_offer("chillco", "c-support", "u-support", AT)
        .await;
    let support = app.key("support", None).await;
    let (s, api) = app
        .get(&format!("/v1/decisions/{checkin}"), &app.admin_key)
        .await;
    assert_eq!(s, 200, "{api}");
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &support).await;
        b.find("#nav-deliveries").await.click().await.unwrap();
        b.fill("#user_id", "u-support").await;
        b.find("#search-submit").await.click().await.unwrap();
        b.find("#deliveries .decision-link").await;
        assert_eq!(b.text("#delivery-count").await, "1 delivery on this page");
        let list = b.text("#deliveries").await;
        assert!(list.contains("Hello"), "{list}");
        assert!(list.contains("At Corner Store 5th Ave"), "{list}");
        let csv = b.find("#export-csv").await.attr("href").await.unwrap();
        assert_eq!(
            csv.as_deref(),
            Some(
                "/console/deliveries/export.csv?user_id=u-support&app=&brand=&offer_id=&fence_id=&status=&from=&to="
            )
        );
        b.assert_no_sideways_scroll("deliveries page").await;
        b.screenshot("deliveries", width).await;

        b.find("#deliveries .decision-link")
            .await
            .click()
            .await
            .unwrap();
        b.find("#decision-map[data-ready] path.leaflet-interactive")
            .await;
        // The API's explanation, told as it is: summary, steps, candidates.
        assert_eq!(b.text("#summary").await, api["summary"].as_str().unwrap());
        let steps = b.text("#explanation").await;
        for line in api["explanation"].as_array().unwrap() {
            assert!(steps.contains(line.as_str().unwrap()), "{line} in {steps}");
        }
        assert!(
            steps.contains("place: Corner Store 5th Ave (chillco)"),
            "{steps}"
        );
        let candidates = b.text("#candidates").await;
        assert!(
            candidates.contains("delivered: every rule passed"),
            "{candidates}"
        );
        let distance = b.text("#edge-distance").await;
        assert!(distance.ends_with("m inside its edge"), "{distance}");
        assert_no_position(&b.client.source().await.unwrap(), "decision page");
        b.assert_no_sideways_scroll("decision page").await;
        b.screenshot("decision", width).await;

        b.find("#timeline-link").await.click().await.unwrap();
        let timeline = b.text("#timeline").await;
        assert!(timeline.contains("consent: location on"), "{timeline}");
        assert!(timeline.contains("delivery: “Hello”"), "{timeline}");
        assert!(b.count("#timeline .decision-link").await >= 2);
        assert_no_position(&b.client.source().await.unwrap(), "timeline");
        b.assert_no_sideways_scroll("timeline page").await;
        b.screenshot("timeline", width).await;
    }
    b.close().await;
}

async fn page(base: &str, cookie: &str, path: &str) -> (u16, String) {
    let res = client()
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_brand_cannot_open_another_brands_decision() {
    let app = spawn_app().await;
    let (own, checkin) = app.delivered_offer("chillco", "c-own", "u-own", AT).await;
    let other = app.brand_with_key("otherco").await;
    let path = format!("/console/decisions/{checkin}");
    let (ours, _) = sign_in(&app.base, &own, false).await;
    let (status, html) = page(&app.base, &ours, &path).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("delivered: every rule passed"), "{html}");
    assert_no_position(&html, "the brand's own decision");
    let (theirs, _) = sign_in(&app.base, &other, false).await;
    let (status, html) = page(&app.base, &theirs, &path).await;
    assert_eq!(status, 404, "{html}");
    assert!(!html.contains("Corner Store"), "{html}");
    // Nor the person's timeline entries, nor the delivery in a search.
    let (status, html) = page(&app.base, &theirs, "/console/deliveries").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("No deliveries match."), "{html}");
    let (status, _) = page(&app.base, &theirs, "/console/deliveries?brand=chillco").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_deliveries_search_filters_by_status_and_names_an_unknown_one() {
    let app = spawn_app().await;
    let (own, _) = app.delivered_offer("chillco", "c-st", "u-st", AT).await;
    let (cookie, _) = sign_in(&app.base, &own, false).await;
    let (status, html) = page(&app.base, &cookie, "/console/deliveries?status=delivered").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("1 delivery on this page"), "{html}");
    assert!(
        html.contains(r#"<option value="delivered" selected>"#),
        "{html}"
    );
    let (status, html) = page(&app.base, &cookie, "/console/deliveries?status=redeemed").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("No deliveries match."), "{html}");
    let (status, html) = page(&app.base, &cookie, "/console/deliveries?status=lost").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("`lost` is not a status"), "{html}");
}

#[tokio::test]
async fn a_timeline_shows_a_time_window_and_names_a_bad_one() {
    let app = spawn_app().await;
    let (own, _) = app.delivered_offer("chillco", "c-tw", "u-tw", AT).await;
    let (cookie, _) = sign_in(&app.base, &own, false).await;
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let now = app.clock.now();
    let base = "/console/users/u-tw/timeline?app=default";
    let path = format!(
        "{base}&from={}&to={}",
        at(now - chrono::Duration::hours(1)),
        at(now + chrono::Duration::hours(1))
    );
    let (status, html) = page(&app.base, &cookie, &path).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("delivery: “Hello”"), "{html}");
    let (status, html) = page(
        &app.base,
        &cookie,
        &format!("{base}&from=2000-01-01T00:00&to=2000-01-02T00:00"),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains("delivery: “Hello”"), "{html}");
    assert!(
        html.contains("Nothing recorded for this person in this window."),
        "{html}"
    );
    let (status, html) = page(
        &app.base,
        &cookie,
        &format!("{base}&from=2000-01-02T00:00&to=2000-01-01T00:00"),
    )
    .await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("must not be before"), "{html}");
    let (status, html) = page(&app.base, &cookie, &format!("{base}&from=yesterday")).await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("is not a time"), "{html}");
}

#[tokio::test]
async fn support_opening_a_decision_is_in_the_read_log() {
    let app = spawn_app().await;
    let (_, checkin) = app.delivered_offer("chillco", "c-read", "u-read", AT).await;
    let support = app.key("support", None).await;
    let reads = || async {
        let (s, b) = app
            .get("/v1/audit/reads?what=decision", &app.admin_key)
            .await;
        assert_eq!(s, 200, "{b}");
        b["items"].as_array().unwrap().clone()
    };
    assert!(reads().await.is_empty());
    let (cookie, _) = sign_in(&app.base, &support, false).await;
    let path = format!("/console/decisions/{checkin}");
    let (status, html) = page(&app.base, &cookie, &path).await;
    assert_eq!(status, 200, "{html}");
    let items = reads().await;
    assert_eq!(items.len(), 1, "{items:?}");
    let e = &items[0];
    assert_eq!(e["role"], "support", "{e}");
    assert_eq!(e["subject"], "u-read", "{e}");
    assert_eq!(e["app"], "default", "{e}");
    assert_eq!(e["query"], path.as_str(), "{e}");
    // The timeline and the search are recorded too.
    page(
        &app.base,
        &cookie,
        "/console/users/u-read/timeline?app=default",
    )
    .await;
    page(&app.base, &cookie, "/console/deliveries?user_id=u-read").await;
    let (_, b) = app.get("/v1/audit/reads", &app.admin_key).await;
    let whats: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert!(whats.contains(&"timeline"), "{whats:?}");
    assert!(whats.contains(&"deliveries"), "{whats:?}");
}

#[tokio::test]
async fn support_reads_why_a_mocked_report_got_nothing() {
    let app = spawn_app().await;
    app.delivered_offer("chillco", "c-real", "u-real", AT).await;
    let app_key = app.key("app", None).await;
    // The helper gives u-mock consent (with a first, real report).
    app.checkin(&app_key, "c-warm", "u-mock", AT.0, AT.1).await;
    let (s, b) = app
        .post(
            "/v1/checkins",
            &app_key,
            serde_json::json!({"checkin_id": "c-mock", "user_id": "u-mock", "lat": AT.0,
                "lon": AT.1, "accuracy_m": 15, "recorded_at": app.clock.now().to_rfc3339(),
                "is_mocked": true}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["reason"].as_str()),
        (200, Some("implausible-location")),
        "{b}"
    );
    let support = app.key("support", None).await;
    let (cookie, _) = sign_in(&app.base, &support, false).await;
    let (status, html) = page(&app.base, &cookie, "/console/decisions/c-mock").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(
            "No offer: the location was implausible: the app reported the location as mocked."
        ),
        "{html}"
    );
    assert!(html.contains("marked as mocked by the app"), "{html}");
    assert_no_position(&html, "the mocked report's decision");
}
