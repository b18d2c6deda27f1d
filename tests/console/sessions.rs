//! Tenancy and forms: a brand cannot open another brand's pages; a form without the
//! session's CSRF token is refused.

use crate::browser::{WIDTHS, browser};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_brand_cannot_open_another_brands_fences_page() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let other = app.brand_with_key("beanline").await;
    app.seed_fences("beanline", &other).await;
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        b.goto(&app.base, "/console/brands/beanline/fences").await;
        let page = b.find("#error-page").await;
        assert_eq!(
            page.attr("data-status").await.unwrap().as_deref(),
            Some("404")
        );
        let body = b.text("main").await;
        assert!(body.contains("Not found"), "{body}");
        assert!(
            !body.contains("Corner Store"),
            "nothing of the other brand shows"
        );
        b.assert_no_sideways_scroll("404 page").await;
        b.screenshot("other-brand-404", width).await;
    }
    b.close().await;
}

#[tokio::test]
async fn a_form_posted_without_the_csrf_token_is_refused_and_changes_nothing() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.seed_fences("chillco", &key).await;
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        // Strip the token from the first fence's delete form, then submit it.
        b.client
            .execute(
                "document.querySelector('#fence-list form.delete input[name=csrf]').remove();",
                vec![],
            )
            .await
            .unwrap();
        b.find("#fence-list form.delete button")
            .await
            .click()
            .await
            .unwrap();
        let page = b.find("#error-page").await;
        assert_eq!(
            page.attr("data-status").await.unwrap().as_deref(),
            Some("403")
        );
        let body = b.text("main").await;
        assert!(body.contains("security token"), "{body}");
        b.assert_no_sideways_scroll("403 page").await;
        b.screenshot("csrf-refused", width).await;
        // Nothing was deleted.
        let (_, page) = app.get("/v1/brands/chillco/geofences", &key).await;
        assert_eq!(page["features"].as_array().unwrap().len(), 2, "{page}");
        // A forged token is refused too.
        b.goto(&app.base, "/console/brands/chillco/fences").await;
        b.client
            .execute(
                "document.querySelector('#fence-list form.delete input[name=csrf]').value = 'forged';",
                vec![],
            )
            .await
            .unwrap();
        b.find("#fence-list form.delete button")
            .await
            .click()
            .await
            .unwrap();
        let page = b.find("#error-page").await;
        assert_eq!(
            page.attr("data-status").await.unwrap().as_deref(),
            Some("403")
        );
    }
    let (_, page) = app.get("/v1/brands/chillco/geofences", &key).await;
    assert_eq!(page["features"].as_array().unwrap().len(), 2, "{page}");
    // With its token, the same form deletes the fence.
    b.goto(&app.base, "/console/brands/chillco/fences").await;
    b.find("#fence-list form.delete button")
        .await
        .click()
        .await
        .unwrap();
    assert!(b.text("#notice").await.contains("deleted"));
    assert_eq!(b.text("#fence-count").await, "1 fence");
    let (_, page) = app.get("/v1/brands/chillco/geofences", &key).await;
    assert_eq!(page["features"].as_array().unwrap().len(), 1, "{page}");
    b.close().await;
}
