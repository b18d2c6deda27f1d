//! Reshaping a fence on the map: a dragged corner is saved, the rest of the fence stays.

use crate::browser::{WIDTHS, browser};
use crate::helpers::spawn_app;
use fantoccini::Locator;

#[tokio::test]
async fn a_dragged_corner_reshapes_the_fence_and_keeps_its_hole_and_properties() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.seed_fences("chillco", &key).await;
    let plaza = |page: &serde_json::Value| {
        page["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["properties"]["external_id"] == "plaza-1")
            .unwrap()
            .clone()
    };
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        let (_, before) = app.get("/v1/brands/chillco/geofences", &key).await;
        let before = plaza(&before);
        b.find("button.reshape[aria-label='Reshape Plaza with a courtyard']")
            .await
            .click()
            .await
            .unwrap();
        b.find("#shape-form:not(.hidden)").await;
        // Let the map settle before grabbing a marker (a busy machine draws late).
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // geoman's vertex markers: the shell's corners come first.
        let corner = b
            .client
            .find(Locator::Css(".marker-icon:not(.marker-icon-middle)"))
            .await
            .unwrap();
        b.drag(&corner, -15.0, 12.0).await;
        b.assert_no_sideways_scroll("reshaping").await;
        b.screenshot("reshape", width).await;
        b.find("#save-shape").await.click().await.unwrap();
        assert!(b.text("#notice").await.contains("saved"));
        let (_, after) = app.get("/v1/brands/chillco/geofences", &key).await;
        let after = plaza(&after);
        let rings =
            |f: &serde_json::Value| f["geometry"]["coordinates"].as_array().unwrap().clone();
        assert_ne!(rings(&after)[0], rings(&before)[0], "the shell moved");
        assert_eq!(rings(&after).len(), 2, "the hole is still there: {after}");
        assert_eq!(rings(&after)[1], rings(&before)[1], "the hole did not move");
        for p in ["name", "tags", "timezone", "external_id"] {
            assert_eq!(after["properties"][p], before["properties"][p], "{p}");
        }
        assert_eq!(
            after["properties"]["version"].as_i64().unwrap(),
            before["properties"]["version"].as_i64().unwrap() + 1
        );
    }
    b.close().await;
}
