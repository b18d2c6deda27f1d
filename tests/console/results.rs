//! The results page: deliveries and events made through the API, then the page's sentence,
//! totals, chart and day-by-day table; tenancy and a period that cannot be read over HTTP.

use crate::browser::{WIDTHS, browser};
use crate::helpers::{TestApp, spawn_app};
use crate::http::{client, sign_in};
use geoffer::clock::Clock;
use serde_json::{Value, json};

/// Inside the seeded circle (Corner Store 5th Ave).
const AT: (f64, f64) = (40.7489, -73.9851);

/// A consenting user checks in at the corner store until the offer's decision is made for
/// them (the catalog picks a new offer up within a second): `Some(delivery id)` when it was
/// delivered, `None` when they were held out.
async fn decide(app: &TestApp, app_key: &str, user: &str) -> Option<String> {
    let (s, b) = app
        .call(
            reqwest::Method::PUT,
            &format!("/v1/users/{user}/consent"),
            app_key,
            Some(json!({"location": true, "personalization": true})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let mut last = Value::Null;
    for n in 0..60 {
        let (s, b) = app
            .post(
                "/v1/checkins",
                app_key,
                json!({"checkin_id": format!("c-{user}-{n}"), "user_id": user,
                       "lat": AT.0, "lon": AT.1, "accuracy_m": 15,
                       "recorded_at": app.clock.now().to_rfc3339()}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        if b["decision"] == "offer" {
            return Some(b["offer"]["delivery_id"].as_str().unwrap().to_string());
        }
        if b["reason"] == "held-out" {
            return None;
        }
        last = b;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no decision on the offer for {user}: {last}");
}

/// The offer delivered to `user`; returns the delivery id.
async fn deliver(app: &TestApp, app_key: &str, user: &str) -> String {
    decide(app, app_key, user)
        .await
        .unwrap_or_else(|| panic!("{user} was held out of an offer without a holdout"))
}

/// `user` opens (and, with `redeem`, redeems) `delivery` now.
async fn events(app: &TestApp, app_key: &str, user: &str, delivery: &str, redeem: bool) {
    let now = app.clock.now().to_rfc3339();
    let mut evs = vec![
        json!({"event_id": format!("open-{delivery}"), "user_id": user,
                              "occurred_at": now, "type": "offer_opened", "delivery_id": delivery}),
    ];
    if redeem {
        evs.push(
            json!({"event_id": format!("redeem-{delivery}"), "user_id": user,
                        "occurred_at": now, "type": "offer_redeemed", "delivery_id": delivery}),
        );
    }
    let (s, b) = app
        .post("/v1/events", app_key, json!({ "events": evs }))
        .await;
    assert_eq!(s, 200, "{b}");
    for r in b["results"].as_array().unwrap() {
        assert_eq!(r["status"], "accepted", "{b}");
    }
}

/// Per day from 14 July: people the offer reached, how many of them opened it, and how many
/// of those redeemed it.
const DAYS: [(usize, usize, usize); 6] = [
    (3, 2, 1),
    (2, 2, 1),
    (4, 3, 2),
    (5, 4, 2),
    (3, 2, 1),
    (4, 3, 1),
];

/// ChillCo's offer delivered, opened and redeemed through the API as [`DAYS`] says, day by
/// day from 14 July to the 19th. Returns the brand key and the offer id.
async fn a_week_of_results(app: &TestApp) -> (String, String) {
    let key = app.brand_with_key("chillco").await;
    app.seed_fences("chillco", &key).await;
    let (s, offer) = app
        .post(
            "/v1/brands/chillco/offers",
            &key,
            json!({"name": "Cold brew week", "title": "Cold brew", "body": "At {{ fence.name }}", "value": 1.0}),
        )
        .await;
    assert_eq!(s, 201, "{offer}");
    let app_key = app.key("app", None).await;
    for (day, (sent, opened, redeemed)) in DAYS.into_iter().enumerate() {
        if day > 0 {
            app.clock.advance(std::time::Duration::from_secs(24 * 3600));
        }
        for n in 0..sent {
            let user = format!("u-{day}-{n}");
            let delivery = deliver(app, &app_key, &user).await;
            if n < opened {
                events(app, &app_key, &user, &delivery, n < redeemed).await;
            }
        }
    }
    (key, offer["id"].as_str().unwrap().to_string())
}

/// The cells' text of the table row `css`.
async fn cells(b: &crate::browser::Browser, css: &str) -> Vec<String> {
    let cells = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0] + ' > *')).map(c => c.textContent.trim());",
            vec![json!(css)],
        )
        .await
        .unwrap();
    serde_json::from_value(cells).unwrap()
}

/// The table's row for `date`, as its cells' text.
async fn row(b: &crate::browser::Browser, date: &str) -> Vec<String> {
    cells(b, &format!("#daily tr[data-date='{date}']")).await
}

#[tokio::test]
async fn a_brand_reads_its_offers_results_as_a_sentence_a_chart_and_a_table() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let (key, offer) = a_week_of_results(&app).await;
    let (s, api) = app
        .get(&format!("/v1/brands/chillco/offers/{offer}/results"), &key)
        .await;
    assert_eq!(s, 200, "{api}");
    let support = app.key("support", None).await;
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        b.goto(&app.base, "/console/brands/chillco/offers").await;
        b.find("#offer-list .results-link")
            .await
            .click()
            .await
            .unwrap();
        b.find("#results-chart[data-ready] canvas").await;
        assert_eq!(
            b.path().await,
            format!("/console/brands/chillco/offers/{offer}/results")
        );
        // The API's own sentence.
        let summary = b.text("#summary").await;
        assert_eq!(summary, api["summary"].as_str().unwrap());
        assert_eq!(
            summary,
            "Not enough data yet: 21 people got this offer but nobody was held out, so there \
             is no one to compare them with (give the offer a holdout percentage)."
        );
        assert_eq!(b.text("#total-deliveries").await, "21");
        assert_eq!(b.text("#total-opens").await, "16");
        assert_eq!(b.text("#total-redemptions").await, "8");
        assert_eq!(b.text("#total-conversions").await, "8");
        // Day by day, newest first: the last 30 days up to the 19th.
        assert_eq!(b.count("#daily tbody tr").await, 30);
        let first = b.find("#daily tbody tr").await.attr("data-date").await;
        assert_eq!(first.unwrap().as_deref(), Some("2026-07-19"));
        assert_eq!(
            row(&b, "2026-07-19").await,
            ["2026-07-19", "4", "3", "1", "1", "0"]
        );
        assert_eq!(
            row(&b, "2026-07-14").await,
            ["2026-07-14", "3", "2", "1", "1", "0"]
        );
        assert_eq!(
            row(&b, "2026-07-13").await,
            ["2026-07-13", "0", "0", "0", "0", "0"]
        );
        b.assert_no_sideways_scroll("results page").await;
        b.screenshot("results", width).await;

        // The week alone, chosen in the form.
        b.client
            .execute(
                "document.querySelector('#period-form input[name=from]').value = '2026-07-14';
                 document.getElementById('period-form').submit();",
                vec![],
            )
            .await
            .unwrap();
        b.find("#results-chart[data-ready] canvas").await;
        assert_eq!(b.count("#daily tbody tr").await, 6);
        assert_eq!(
            row(&b, "2026-07-17").await,
            ["2026-07-17", "5", "4", "2", "2", "0"]
        );
        assert_eq!(
            cells(&b, "#daily-total").await,
            ["Total", "21", "16", "8", "8", "0"]
        );
        b.assert_no_sideways_scroll("results page, one week").await;
        b.client
            .execute(
                "document.querySelector('.period-head').scrollIntoView({block: 'start'});",
                vec![],
            )
            .await
            .unwrap();
        b.screenshot("results-chart", width).await;

        // Support reads the same page, read-only.
        b.sign_in(&app.base, &support).await;
        b.goto(
            &app.base,
            &format!("/console/brands/chillco/offers/{offer}/results"),
        )
        .await;
        b.find("#results-chart[data-ready] canvas").await;
        assert_eq!(b.text("#offer-link").await, "View this offer");
        assert_eq!(b.text("#total-deliveries").await, "21");
        b.assert_no_sideways_scroll("results page as support").await;
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
async fn another_brands_results_are_not_found_and_a_bad_period_is_said_in_words() {
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    let (s, offer) = app
        .post(
            "/v1/brands/chillco/offers",
            &key,
            json!({"name": "Cold brew week", "title": "Cold brew", "body": "Hi", "value": 1.0}),
        )
        .await;
    assert_eq!(s, 201, "{offer}");
    let id = offer["id"].as_str().unwrap();
    let path = format!("/console/brands/chillco/offers/{id}/results");
    let other = app.brand_with_key("otherco").await;
    let (theirs, _) = sign_in(&app.base, &other, false).await;
    let (status, html) = page(&app.base, &theirs, &path).await;
    assert_eq!(status, 404, "{html}");
    assert!(!html.contains("Cold brew week"), "{html}");
    // Nor under their own brand's URL.
    let (status, _) = page(
        &app.base,
        &theirs,
        &format!("/console/brands/otherco/offers/{id}/results"),
    )
    .await;
    assert_eq!(status, 404);

    let (ours, _) = sign_in(&app.base, &key, false).await;
    let (status, html) = page(&app.base, &ours, &path).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Not enough data yet: nobody has received this offer."),
        "{html}"
    );
    // A day that is not a day, and a period backwards: said above the default period.
    let (status, html) = page(&app.base, &ours, &format!("{path}?from=yesterday")).await;
    assert_eq!(status, 400, "{html}");
    assert!(
        html.contains("From: “yesterday” is not a day; use 2026-07-14"),
        "{html}"
    );
    let (status, html) = page(
        &app.base,
        &ours,
        &format!("{path}?from=2026-07-14&to=2026-07-01"),
    )
    .await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("`to` must not be before `from`"), "{html}");
    assert_eq!(
        html.matches("<tr data-date=").count()
            + html.matches("<tr class=\"quiet\" data-date=").count(),
        30
    );
}

#[tokio::test]
async fn an_offer_that_works_says_so_in_words() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let key = app.brand_with_key("chillco").await;
    app.seed_fences("chillco", &key).await;
    let (s, offer) = app
        .post(
            "/v1/brands/chillco/offers",
            &key,
            json!({"name": "Iced tea at the corner", "title": "Iced tea", "body": "At {{ fence.name }}",
                   "value": 1.0, "holdout_pct": 50}),
        )
        .await;
    assert_eq!(s, 201, "{offer}");
    let id = offer["id"].as_str().unwrap();
    let app_key = app.key("app", None).await;
    // 100 people, about half held out: 3 in 4 who get the offer open it and 3 in 5 redeem
    // it; 1 in 10 of the holdout buy anyway.
    let (mut treated, mut held) = (0, 0);
    let mut evs = Vec::new();
    let now = app.clock.now().to_rfc3339();
    for n in 0..100 {
        let user = format!("u-{n}");
        match decide(&app, &app_key, &user).await {
            Some(delivery) => {
                if treated % 4 != 3 {
                    evs.push(
                        json!({"event_id": format!("o-{n}"), "user_id": user, "occurred_at": now,
                                    "type": "offer_opened", "delivery_id": delivery}),
                    );
                }
                if treated % 5 < 3 {
                    evs.push(
                        json!({"event_id": format!("r-{n}"), "user_id": user, "occurred_at": now,
                                    "type": "offer_redeemed", "delivery_id": delivery}),
                    );
                }
                treated += 1;
            }
            None => {
                if held % 10 == 0 {
                    evs.push(
                        json!({"event_id": format!("p-{n}"), "user_id": user, "occurred_at": now,
                                    "type": "purchase", "brand": "chillco", "category": "drinks", "channel": "in_store"}),
                    );
                }
                held += 1;
            }
        }
    }
    assert!(
        treated >= 30 && held >= 30,
        "{treated} treated, {held} held out"
    );
    let (s, r) = app
        .post("/v1/events", &app_key, json!({ "events": evs }))
        .await;
    assert_eq!(s, 200, "{r}");
    for e in r["results"].as_array().unwrap() {
        assert_eq!(e["status"], "accepted", "{r}");
    }
    let (s, api) = app
        .get(&format!("/v1/brands/chillco/offers/{id}/results"), &key)
        .await;
    assert_eq!(s, 200, "{api}");
    assert_eq!(api["verdict"], "works", "{api}");
    for width in WIDTHS {
        b.resize(width).await;
        b.sign_in(&app.base, &key).await;
        b.goto(
            &app.base,
            &format!("/console/brands/chillco/offers/{id}/results"),
        )
        .await;
        b.find("#results-chart[data-ready] canvas").await;
        let summary = b.text("#summary.verdict-works").await;
        assert_eq!(summary, api["summary"].as_str().unwrap());
        assert!(
            summary.starts_with("People who got this offer bought or redeemed "),
            "{summary}"
        );
        assert!(summary.ends_with(": the offer likely works."), "{summary}");
        assert_eq!(b.text("#total-deliveries").await, treated.to_string());
        assert_eq!(b.text("#total-held-out").await, held.to_string());
        b.assert_no_sideways_scroll("results that work").await;
        b.screenshot("results-works", width).await;
    }
    b.close().await;
}
