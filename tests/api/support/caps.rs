//! Caps, holdout and the early exits (stale, in motion, quiet hours), explained.

use super::world::*;
use crate::helpers::*;
use chrono::Duration;
use geoffer::clock::Clock;
use serde_json::json;

#[tokio::test]
async fn each_personal_cap_names_its_limit_and_the_delivery_that_used_it() {
    let w = world(
        Options::default(),
        &[place_offer("First", 2.0), place_offer("Second", 1.0)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let start = w.app.clock.now();
    assert_eq!(
        w.checkin("c-1", "u-1", json!({})).await["offer"]["title"],
        "First"
    );

    // An hour later: the person's one offer a day is used, so nothing else is tried.
    w.app.clock.set(start + Duration::hours(1));
    assert_eq!(w.checkin("c-2", "u-1", json!({})).await["reason"], "capped");
    let d = w.decision("c-2").await;
    assert_eq!(
        lines(candidate(&d, "First")),
        [
            "cap: 1 per 24 h across all brands, used at 15:00 by offer “First” (check-in c-1); free again at 2026-07-15 15:00"
        ]
    );
    assert_eq!(candidate(&d, "Second")["outcome"], "not-tried");
    assert_eq!(
        d["summary"],
        "No offer: “First” hit the limit of 1 per 24 h across all brands."
    );

    // A day later the day is free, but the brand's one offer a week is not.
    w.app.clock.set(start + Duration::hours(25));
    assert_eq!(w.checkin("c-3", "u-1", json!({})).await["reason"], "capped");
    let d = w.decision("c-3").await;
    let brand_cap = "cap: 1 per 7 days from chillco, used at 2026-07-14 15:00 by offer “First” (check-in c-1); free again at 2026-07-21 15:00";
    assert_eq!(lines(candidate(&d, "First")), [brand_cap]);
    assert_eq!(lines(candidate(&d, "Second")), [brand_cap]);

    // Eight days on, the brand is free again; "First" is still within its 14-day offer cap.
    w.app.clock.set(start + Duration::days(8));
    let answer = w.checkin("c-4", "u-1", json!({})).await;
    assert_eq!(answer["offer"]["title"], "Second", "{answer}");
    let d = w.decision("c-4").await;
    assert_eq!(
        lines(candidate(&d, "First")),
        [
            "cap: 1 per 14 days for this offer, used at 2026-07-14 15:00 by offer “First” (check-in c-1); free again at 2026-07-28 15:00"
        ]
    );
    assert_eq!(candidate(&d, "Second")["outcome"], "delivered");
}

#[tokio::test]
async fn the_fence_cap_names_the_store_when_wider_caps_allow_more() {
    let w = world(
        Options {
            tweak: |s| {
                s.cap_person_day = 5;
                s.cap_person_week = 5;
                s.cap_person_brand = 5;
            },
            ..Default::default()
        },
        &[place_offer("A", 2.0), place_offer("B", 1.0)],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    assert_eq!(
        w.checkin("c-1", "u-1", json!({})).await["offer"]["title"],
        "A"
    );
    w.app.clock.advance(std::time::Duration::from_secs(3_600));
    assert_eq!(w.checkin("c-2", "u-1", json!({})).await["reason"], "capped");
    let d = w.decision("c-2").await;
    assert!(lines(candidate(&d, "A"))[0].starts_with("cap: 1 per 14 days for this offer"));
    assert_eq!(
        lines(candidate(&d, "B")),
        [
            "cap: 1 per 24 h at Corner Store 5th Ave, used at 15:00 by offer “A” (check-in c-1); free again at 2026-07-15 15:00"
        ]
    );
}

#[tokio::test]
async fn a_person_in_the_holdout_reads_as_held_out() {
    let mut held = place_offer("Two-for-one", 1.0);
    held["holdout_pct"] = json!(10);
    let w = world(Options::default(), &[held]).await;
    let offers = w.app.get("/v1/brands/chillco/offers", &w.brand_key).await;
    let offer_id = offers.body["items"][0]["id"].as_str().unwrap().to_string();
    let user = (0..1000)
        .map(|i| format!("u-{i}"))
        .find(|u| {
            let person = geoffer::people::PersonId::of("default", u);
            geoffer::checkins::scoring::held_out(person.as_str(), &offer_id, 10.0)
        })
        .unwrap();
    w.app.consent(&w.app_key, &user, true, true).await;
    assert_eq!(
        w.checkin("h-1", &user, json!({})).await["reason"],
        "held-out"
    );
    let d = w.decision("h-1").await;
    let c = candidate(&d, "Two-for-one");
    assert_eq!(
        (c["outcome"].as_str(), lines(c)),
        (Some("held-out"), vec!["held out (10% holdout)".to_string()])
    );
    assert_eq!(
        d["summary"],
        "No offer: the person is in the 10% holdout of “Two-for-one”."
    );
}

#[tokio::test]
async fn stale_reports_drivers_and_quiet_hours_are_explained_in_words() {
    let w = world(Options::default(), &[place_offer("Two-for-one", 1.0)]).await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let late = (w.app.clock.now() - Duration::minutes(14)).to_rfc3339();
    assert_eq!(
        w.checkin("old", "u-1", json!({"recorded_at": late})).await["reason"],
        "stale"
    );
    let d = w.decision("old").await;
    assert_eq!(
        strings(&d["explanation"]).last().unwrap(),
        "stale: reported 14 min after it was recorded"
    );
    assert_eq!(
        d["summary"],
        "No offer: the report arrived 14 min after it was recorded; after 10 min it is too late to act on."
    );

    w.checkin("car", "u-1", json!({"activity": "automotive"}))
        .await;
    let d = w.decision("car").await;
    assert_eq!(d["reason"], "in-motion");
    assert_eq!(
        strings(&d["explanation"]).last().unwrap(),
        "in motion: the phone reported driving"
    );

    w.checkin("fast", "u-1", json!({"speed_mps": 20.0})).await;
    let d = w.decision("fast").await;
    assert_eq!(d["reason"], "in-motion");
    assert_eq!(
        strings(&d["explanation"]).last().unwrap(),
        "in motion: moving at 20 m/s, faster than every offer allows"
    );
    assert_eq!(
        lines(candidate(&d, "Two-for-one")),
        ["speed: needs ≤ 7 m/s, was 20 m/s"]
    );

    // 03:00 UTC is 23:00 in New York.
    w.app.clock.set("2026-07-15T03:00:00Z".parse().unwrap());
    assert_eq!(
        w.checkin("late", "u-1", json!({})).await["reason"],
        "quiet-hours"
    );
    let d = w.decision("late").await;
    assert_eq!(
        strings(&d["explanation"]).last().unwrap(),
        "quiet hours: 23:00 local at Corner Store 5th Ave; no offers are sent in quiet hours"
    );
    assert_eq!(
        d["summary"],
        "No offer: it was 23:00 local time, inside quiet hours."
    );
}
