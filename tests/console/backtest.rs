//! The offer form's Backtest button: a brand opens its live offer, backtests it on the
//! check-ins recorded at its fences, and sees the answer in words and a chart per day.

use crate::browser::{WIDTHS, browser};
use crate::helpers::spawn_app;
use chrono::Duration;
use geoffer::clock::Clock;

#[tokio::test]
async fn the_offer_form_backtests_the_offer_and_shows_the_answer_with_a_chart() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (key, _) = app
        .delivered_offer("chillco", "c-1", "u-1", (40.7490, -73.9860))
        .await;
    // A second person the next day: two people reached in all.
    let app_key = app.key("app", None).await;
    app.clock.set(app.clock.now() + Duration::days(1));
    let second = app.checkin(&app_key, "c-2", "u-2", 40.7490, -73.9860).await;
    assert_eq!(second["decision"], "offer", "{second}");
    app.clock.set(app.clock.now() + Duration::hours(1));
    let (s, offers) = app.get("/v1/brands/chillco/offers", &key).await;
    assert_eq!(s, 200, "{offers}");
    let id = offers["items"][0]["id"].as_str().unwrap().to_string();
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        b.goto(&app.base, &format!("/console/brands/chillco/offers/{id}"))
            .await;
        b.find("#backtest[data-ready]").await;
        b.scroll_to("#backtest-run").await;
        b.find("#backtest-run").await.click().await.unwrap();
        b.wait_for_text_containing(
            "#backtest-summary",
            "would have reached 2 people with 2 deliveries",
        )
        .await;
        let summary = b.text("#backtest-summary").await;
        assert!(summary.contains("the live offer made 2"), "{summary}");
        // The chart: one uPlot canvas with the deliveries per day.
        assert_eq!(b.count("#backtest-chart canvas").await, 1);
        b.assert_no_sideways_scroll("the backtest").await;
        b.screenshot("backtest", width).await;
    }
    b.close().await;
}
