//! The fences page: a brand signs in and sees its fences; draws a polygon and saves it, and
//! a check-in through the API then finds it.

use crate::browser::{WIDTHS, browser};
use crate::helpers::spawn_app;
use std::time::Duration;

#[tokio::test]
async fn a_brand_signs_in_and_sees_its_fences_on_the_map_and_in_the_list() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.seed_fences("chillco", &key).await;
    for width in WIDTHS {
        b.resize(width).await;
        b.client.delete_all_cookies().await.ok();
        b.goto(&app.base, "/console").await;
        assert_eq!(
            b.path().await,
            "/console/sign-in",
            "signed out: sign in first"
        );
        b.find("#sign-in").await;
        b.assert_no_sideways_scroll("sign-in page").await;
        b.screenshot("sign-in", width).await;
        b.sign_in(&app.base, &key).await;
        assert_eq!(b.path().await, "/console/brands/chillco/fences");
        b.find("#map .leaflet-pane").await;
        // The circle and the polygon (its hole is part of the same path) are drawn.
        assert!(
            b.count("#map path.leaflet-interactive").await >= 2,
            "both fences are on the map"
        );
        let list = b.text("#fence-list").await;
        assert!(list.contains("Corner Store 5th Ave"), "{list}");
        assert!(list.contains("store-0042"), "{list}");
        assert!(list.contains("polygon, 1 hole"), "{list}");
        assert_eq!(b.text("#fence-count").await, "2 fences");
        // Search by external id narrows the list.
        b.fill("#q", "plaza-1").await;
        b.find("#filter button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        b.find("#map .leaflet-pane").await;
        assert_eq!(b.text("#fence-count").await, "1 fence match");
        b.assert_no_sideways_scroll("fences page").await;
        b.goto(&app.base, "/console/brands/chillco/fences").await;
        b.find("#map .leaflet-pane").await;
        b.assert_no_sideways_scroll("fences page").await;
        b.screenshot("fences", width).await;
    }
    b.close().await;
}

#[tokio::test]
async fn a_polygon_drawn_on_the_map_is_saved_and_a_checkin_inside_finds_it() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let app_key = app.key("app", None).await;
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        let map = b.find("#map").await;
        b.find(".leaflet-pm-icon-polygon")
            .await
            .click()
            .await
            .unwrap();
        // A square around the map's centre; clicking the first corner again closes it.
        let corners = [(-60.0, -50.0), (60.0, -50.0), (60.0, 50.0), (-60.0, 50.0)];
        for (x, y) in corners {
            b.click_at(&map, x, y).await;
        }
        b.click_at(&map, corners[0].0, corners[0].1).await;
        b.find("#fence-form:not(.hidden)").await;
        let name = format!("Drawn at {width}");
        let external = format!("drawn-{width}");
        b.fill("#name", &name).await;
        b.fill("#external_id", &external).await;
        b.fill("#tags", "corner-store, drawn").await;
        b.fill("#timezone", "America/New_York").await;
        b.assert_no_sideways_scroll("the new-fence form").await;
        b.screenshot("draw-polygon", width).await;
        b.find("#save-fence").await.click().await.unwrap();
        let notice = b.text("#notice").await;
        assert!(notice.contains("saved"), "{notice}");
        assert!(b.text("#fence-list").await.contains(&name));
        b.assert_no_sideways_scroll("fences page after saving")
            .await;
        b.screenshot("saved-polygon", width).await;

        // The API lists it, as a polygon with the four corners drawn.
        let (s, page) = app.get("/v1/brands/chillco/geofences", &key).await;
        assert_eq!(s, 200, "{page}");
        let fence = page["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["properties"]["external_id"] == external.as_str())
            .unwrap_or_else(|| panic!("the drawn fence is listed: {page}"))
            .clone();
        assert_eq!(fence["geometry"]["type"], "Polygon");
        let ring = fence["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.len(), 5, "four corners and the closing point: {fence}");
        let (mut lon, mut lat) = (0.0, 0.0);
        for p in &ring[..4] {
            lon += p[0].as_f64().unwrap() / 4.0;
            lat += p[1].as_f64().unwrap() / 4.0;
        }
        // A check-in at its centre matches it (the catalog follows the save within a second).
        let mut reason = String::new();
        for n in 0..40 {
            let a = app
                .checkin(
                    &app_key,
                    &format!("c-{width}-{n}"),
                    &format!("u-{width}"),
                    lat,
                    lon,
                )
                .await;
            reason = a["reason"].as_str().unwrap_or_default().to_string();
            if reason != "no-fence" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            reason, "no-eligible-offer",
            "a check-in inside the drawn fence matches it (no offer is attached)"
        );
    }
    b.close().await;
}

#[tokio::test]
async fn a_circle_with_an_unknown_time_zone_is_refused_at_the_field_and_saves_once_fixed() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        let map = b.find("#map").await;
        b.find(".leaflet-pm-icon-circle")
            .await
            .click()
            .await
            .unwrap();
        b.click_at(&map, 0.0, 0.0).await;
        b.click_at(&map, 45.0, 0.0).await;
        b.find("#fence-form:not(.hidden)").await;
        let summary = b.text("#shape-summary").await;
        assert!(summary.starts_with("A circle of"), "{summary}");
        b.fill("#name", &format!("Kiosk {width}")).await;
        b.fill("#timezone", "Mars/Olympus_Mons").await;
        b.find("#save-fence").await.click().await.unwrap();
        let error = b.text("#error-timezone").await;
        assert!(error.contains("not a known IANA time zone"), "{error}");
        // The form comes back as sent, with the shape still drawn.
        assert_eq!(
            b.find("#name")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some(format!("Kiosk {width}").as_str())
        );
        // The drawn shape (orange) is back on the map.
        assert_eq!(b.count("#map path[stroke='#d9641e']").await, 1);
        b.assert_no_sideways_scroll("a refused save").await;
        b.screenshot("field-error", width).await;
        b.fill("#timezone", "America/New_York").await;
        b.find("#save-fence").await.click().await.unwrap();
        assert!(b.text("#notice").await.contains("saved"));
        let (_, page) = app.get("/v1/brands/chillco/geofences", &key).await;
        let saved = page["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["properties"]["name"] == format!("Kiosk {width}").as_str())
            .unwrap_or_else(|| panic!("saved: {page}"))
            .clone();
        assert_eq!(saved["geometry"]["type"], "Point");
        assert!(saved["properties"]["radius_m"].as_f64().unwrap() >= 10.0);
    }
    b.close().await;
}

#[tokio::test]
async fn an_admin_picks_a_brand_from_the_list_and_can_draw_there() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.brand_with_key("beanline").await;
    app.seed_fences("chillco", &key).await;
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &app.admin_key).await;
        assert_eq!(b.path().await, "/console/brands");
        let list = b.text("main").await;
        assert!(
            list.contains("beanline Co") && list.contains("chillco Co"),
            "{list}"
        );
        b.assert_no_sideways_scroll("brand list").await;
        b.screenshot("brands", width).await;
        b.find("a[href='/console/brands/chillco/fences']")
            .await
            .click()
            .await
            .unwrap();
        assert_eq!(b.text("#fence-count").await, "2 fences");
        b.find(".leaflet-pm-icon-polygon").await;
        b.assert_no_sideways_scroll("an admin on a brand's fences")
            .await;
    }
    b.close().await;
}
