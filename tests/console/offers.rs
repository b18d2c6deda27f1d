//! The offers pages: a brand writes an offer with a field the service refuses, sees the
//! reason at that field with what it typed kept, previews the copy, fixes it and saves; the
//! API then lists the offer with the targeting entered. Over HTTP: another brand's offer
//! is a 404 and a form without the CSRF token is refused.

use crate::browser::{WIDTHS, browser};
use crate::helpers::spawn_app;
use crate::http::{client, csrf_of, sign_in};
use serde_json::json;

#[tokio::test]
async fn a_refused_offer_shows_the_reason_at_the_field_and_saves_once_fixed() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.seed_fences("chillco", &key).await;
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        b.find("#offers-link").await.click().await.unwrap();
        assert_eq!(b.path().await, "/console/brands/chillco/offers");
        b.find("#new-offer").await.click().await.unwrap();
        let name = format!("Hot days at {width}");
        b.fill("#name", &name).await;
        b.fill("#title", "Ice-cold at {{ fence.name }}").await;
        b.fill(
            "#body",
            "It's {{ weather.temp_c | round | int }}°C. Your usual {{ habit.usual_item }} is {{ distance_m | int }} m away.",
        )
        .await;
        b.fill("#fence_tags", "corner-store").await;
        for day in ["#day-sat", "#day-sun"] {
            b.find(day).await.click().await.unwrap();
        }
        b.fill("#hours", "11:00-19:00").await;
        b.fill("#min_temp_c", "80").await;
        b.find("#cond-clear").await.click().await.unwrap();
        b.fill("#min_visits_per_week", "2").await;
        b.fill("#cap_count", "1").await;
        b.fill("#cap_period_days", "30").await;
        b.fill("#budget_total", "10000").await;
        b.fill("#holdout_pct", "10").await;
        b.fill("#code_prefix", "CHILL").await;
        b.fill("#code_valid_hours", "4").await;
        b.find("#save-offer").await.click().await.unwrap();

        // Refused: the reason at the temperature, in words, and every value kept.
        let error = b.text("#error-min_temp_c").await;
        assert!(error.contains("not a plausible temperature"), "{error}");
        assert!(b.text("#not-saved").await.contains("Not saved"));
        let kept = b.find("#min_temp_c").await.prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("80"));
        let kept = b.find("#name").await.prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some(name.as_str()));
        assert_eq!(
            b.find("#day-sat")
                .await
                .prop("checked")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            b.count("#offer-form p.error:not([hidden])").await,
            1,
            "one error only"
        );
        b.scroll_to("#min_temp_c").await;
        b.assert_no_sideways_scroll("the refused offer form").await;
        b.screenshot("offer-field-error", width).await;

        // An unknown template variable is named while typing (the live preview)...
        b.fill("#body", "Hi {{ user.first_name }}").await;
        b.wait_for_text_containing(
            "#preview-problems",
            "Body: unknown template variable(s) user.first_name",
        )
        .await;
        // ...and at the body by the Preview button (the path without script).
        b.find("#preview-button").await.click().await.unwrap();
        let error = b.text("#error-body").await;
        assert!(error.contains("user.first_name"), "{error}");
        b.fill(
            "#body",
            "It's {{ weather.temp_c | round | int }}°C. Your usual {{ habit.usual_item }} is {{ distance_m | int }} m away.",
        )
        .await;
        b.fill("#sample_fence", "Corner Store 5th Ave").await;
        b.fill("#sample_temp_c", "31").await;
        // The copy follows the typing, rendered by the server's template code.
        b.wait_for_text(
            "#preview-body",
            "It's 31°C. Your usual cola-330 is 80 m away.",
        )
        .await;
        b.find("#preview-button").await.click().await.unwrap();
        assert_eq!(
            b.text("#preview-title").await,
            "Ice-cold at Corner Store 5th Ave"
        );
        assert_eq!(
            b.text("#preview-body").await,
            "It's 31°C. Your usual cola-330 is 80 m away."
        );
        b.scroll_to("#preview").await;
        b.assert_no_sideways_scroll("the copy preview").await;
        b.screenshot("offer-preview", width).await;

        // Fixed and saved.
        b.fill("#min_temp_c", "28").await;
        b.find("#save-offer").await.click().await.unwrap();
        let notice = b.text("#notice").await;
        assert!(notice.contains("saved"), "{notice}");
        let list = b.text("#offer-list").await;
        assert!(list.contains(&name), "{list}");
        assert!(list.contains("Sat, Sun · 11:00–19:00"), "{list}");
        b.assert_no_sideways_scroll("the offers list").await;
        b.screenshot("offers", width).await;

        // The API lists it with the targeting entered.
        let (s, page) = app.get("/v1/brands/chillco/offers", &key).await;
        assert_eq!(s, 200, "{page}");
        let offer = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name.as_str())
            .unwrap_or_else(|| panic!("the offer is listed: {page}"))
            .clone();
        let t = &offer["targeting"];
        assert_eq!(t["fences"]["tags"], json!(["corner-store"]), "{offer}");
        assert_eq!(t["schedule"]["days"], json!(["sat", "sun"]), "{offer}");
        assert_eq!(
            t["schedule"]["hours"],
            json!([{"from": "11:00", "to": "19:00"}])
        );
        assert_eq!(t["weather"]["min_temp_c"], json!(28.0), "{offer}");
        assert_eq!(t["weather"]["conditions"], json!(["clear"]));
        assert_eq!(t["habit"]["min_visits_per_week"], json!(2.0));
        assert_eq!(
            offer["caps"]["per_person"],
            json!({"count": 1, "period_days": 30})
        );
        assert_eq!(offer["budget"]["total"], json!(10000));
        assert_eq!(offer["holdout_pct"], json!(10.0));
        assert_eq!(offer["redemption"]["code_prefix"], "CHILL");

        // Opened again, the form shows what was saved.
        b.find(&format!(
            "#offer-list li[data-id='{}'] a",
            offer["id"].as_str().unwrap()
        ))
        .await
        .click()
        .await
        .unwrap();
        let temp = b.find("#min_temp_c").await.prop("value").await.unwrap();
        assert_eq!(temp.as_deref(), Some("28"));
        b.assert_no_sideways_scroll("an offer opened to edit").await;
    }
    b.close().await;
}

/// An offer of `brand` made through the API; its id.
async fn api_offer(app: &crate::helpers::TestApp, brand: &str, key: &str) -> String {
    let (s, b) = app
        .post(
            &format!("/v1/brands/{brand}/offers"),
            key,
            json!({"name": "Beans", "title": "Coffee", "body": "At {{ fence.name }}"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn another_brands_offers_are_not_found_and_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let other = app.brand_with_key("beanline").await;
    let theirs = api_offer(&app, "beanline", &other).await;
    let ours = api_offer(&app, "chillco", &key).await;
    let (session, _) = sign_in(&app.base, &key, false).await;
    let get = |path: String| {
        client()
            .get(format!("{}{path}", app.base))
            .header("cookie", &session)
            .send()
    };
    for path in [
        "/console/brands/beanline/offers".to_string(),
        "/console/brands/beanline/offers/new".to_string(),
        format!("/console/brands/beanline/offers/{theirs}"),
        format!("/console/brands/chillco/offers/{theirs}"),
    ] {
        let res = get(path.clone()).await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        assert!(!res.text().await.unwrap().contains("Beans"), "{path}");
    }
    let page = get("/console/brands/chillco/offers".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Beans"));
    let csrf = csrf_of(&page);
    let post = |path: String, form: Vec<(&'static str, String)>| {
        client()
            .post(format!("{}{path}", app.base))
            .header("cookie", &session)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
    };
    let offer = |csrf: Option<&str>| {
        let mut f = vec![
            ("name", "Forged".to_string()),
            ("title", "Hi".to_string()),
            ("body", "There".to_string()),
            ("action", "save".to_string()),
        ];
        if let Some(c) = csrf {
            f.push(("csrf", c.to_string()));
        }
        f
    };
    // Without the token, or with a wrong one: 403, nothing created, updated or retired.
    for sent in [None, Some("forged")] {
        let res = post("/console/brands/chillco/offers".into(), offer(sent))
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("security token"));
        let res = post(
            format!("/console/brands/chillco/offers/{ours}"),
            offer(sent),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 403);
        let mut retire = vec![];
        if let Some(c) = sent {
            retire.push(("csrf", c.to_string()));
        }
        let res = post(
            format!("/console/brands/chillco/offers/{ours}/delete"),
            retire,
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 403);
    }
    let (_, list) = app.get("/v1/brands/chillco/offers", &key).await;
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Beans"], "{list}");
    // Another brand's offer cannot be changed or retired with a valid token either.
    let res = post(
        format!("/console/brands/chillco/offers/{theirs}/delete"),
        vec![("csrf", csrf.clone())],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 404);
    let res = post(
        format!("/console/brands/beanline/offers/{theirs}"),
        offer(Some(&csrf)),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 404);
    // With the token, the form saves; and retiring takes it off the list.
    let res = post("/console/brands/chillco/offers".into(), offer(Some(&csrf)))
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = post(
        format!("/console/brands/chillco/offers/{ours}/delete"),
        vec![("csrf", csrf.clone())],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    let (_, list) = app.get("/v1/brands/chillco/offers", &key).await;
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Forged"], "{list}");
    let (_, theirs_now) = app.get("/v1/brands/beanline/offers", &other).await;
    assert_eq!(theirs_now["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn support_reads_a_brands_offers_but_cannot_save_or_retire_one() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let ours = api_offer(&app, "chillco", &key).await;
    let support = app.key("support", None).await;
    let (session, _) = sign_in(&app.base, &support, false).await;
    let page = client()
        .get(format!("{}/console/brands/chillco/offers/{ours}", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("value=\"Beans\""), "the offer is shown");
    assert!(!html.contains("id=\"save-offer\"") && !html.contains("id=\"retire-offer\""));
    let res = client()
        .post(format!(
            "{}/console/brands/chillco/offers/{ours}/delete",
            app.base
        ))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("csrf", csrf_of(&html).as_str())]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (_, list) = app.get("/v1/brands/chillco/offers", &key).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}
