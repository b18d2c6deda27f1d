//! Importing a GeoJSON file: every problem listed per feature, in words, and nothing
//! imported until the file is right; then imported, and imported again as replacements.

use crate::browser::{WIDTHS, browser};
use crate::helpers::spawn_app;
use serde_json::json;

fn collection(timezone: &str) -> String {
    json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-73.9857, 40.7484]},
         "properties": {"name": "Kiosk A", "radius_m": 60, "timezone": "America/New_York",
                        "external_id": "kiosk-a", "tags": ["kiosk"]}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
            [-73.99, 40.75], [-73.98, 40.75], [-73.98, 40.76], [-73.99, 40.76], [-73.99, 40.75]]]},
         "properties": {"name": "Kiosk B", "timezone": timezone, "external_id": "kiosk-b"}}
    ]})
    .to_string()
}

#[tokio::test]
async fn an_import_lists_each_features_problem_and_imports_once_the_file_is_right() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.geojson");
    let good = dir.path().join("good.geojson");
    std::fs::write(&bad, collection("Atlantis/Central")).unwrap();
    std::fs::write(&good, collection("America/New_York")).unwrap();
    for (n, width) in WIDTHS.into_iter().enumerate() {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        let before = b.text("#fence-count").await;
        b.find("#import-file")
            .await
            .send_keys(bad.to_str().unwrap())
            .await
            .unwrap();
        b.find("#import-submit").await.click().await.unwrap();
        let errors = b.text("#import-errors").await;
        assert!(errors.contains("Nothing was imported"), "{errors}");
        assert!(
            errors.contains("Feature 2 (“Kiosk B”), time zone:"),
            "{errors}"
        );
        assert!(errors.contains("Atlantis/Central"), "{errors}");
        assert_eq!(b.text("#fence-count").await, before, "nothing imported");
        b.assert_no_sideways_scroll("a refused import").await;
        b.screenshot("import-refused", width).await;

        b.find("#import-file")
            .await
            .send_keys(good.to_str().unwrap())
            .await
            .unwrap();
        b.find("#import-submit").await.click().await.unwrap();
        let notice = b.text("#notice").await;
        let expected = if n == 0 {
            "Imported: 2 new, 0 replaced"
        } else {
            "Imported: 0 new, 2 replaced"
        };
        assert!(notice.contains(expected), "{notice}");
        assert_eq!(b.text("#fence-count").await, "2 fences");
        b.assert_no_sideways_scroll("after an import").await;
    }
    let (_, page) = app.get("/v1/brands/chillco/geofences", &key).await;
    assert_eq!(page["features"].as_array().unwrap().len(), 2, "{page}");
    b.close().await;
}
