//! Every rule kind, failing, reads as one line on its candidate; a delivery reads with its copy.

use super::world::*;
use crate::helpers::*;
use serde_json::{Value, json};

fn failing(name: &str, change: impl FnOnce(&mut Value)) -> Value {
    let mut o = place_offer(name, 1.0);
    change(&mut o);
    o
}

async fn bought_soda(app: &TestApp, user: &str) {
    let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
    let person = geoffer::people::PersonId::of("default", user);
    let at = chrono::DateTime::parse_from_rfc3339("2026-07-10T12:00:00Z").unwrap();
    sqlx::query("INSERT INTO purchases (person, brand_id, sku, category, at) VALUES (?, 'chillco', 'cola-330', 'soft-drinks', ?)")
        .bind(person.as_str())
        .bind(at.timestamp_millis())
        .execute(&pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn each_failing_rule_kind_is_one_readable_line_on_its_candidate() {
    let sky = weather(18.0, 1).await;
    let offers = [
        failing("Paused", |o| o["status"] = json!("paused")),
        failing("Ended", |o| {
            o["valid_from"] = json!("2026-01-01T00:00:00Z");
            o["valid_until"] = json!("2026-07-01T00:00:00Z");
        }),
        failing("Not yet", |o| {
            o["valid_from"] = json!("2026-08-01T00:00:00Z")
        }),
        failing("Weekends", |o| {
            o["targeting"]["schedule"] = json!({"days": ["sat", "sun"]})
        }),
        failing("Breakfast", |o| {
            o["targeting"]["schedule"] = json!({"hours": [{"from": "06:00", "to": "09:00"}]})
        }),
        failing("Hot", |o| {
            o["targeting"]["weather"] = json!({"min_temp_c": 28})
        }),
        failing("Mild", |o| {
            o["targeting"]["weather"] = json!({"max_temp_c": 12.5})
        }),
        failing("Snow", |o| {
            o["targeting"]["weather"] = json!({"conditions": ["snow"]})
        }),
        failing("Regulars", |o| {
            o["targeting"]["habit"] = json!({"min_visits_per_week": 3, "scope": "fence"})
        }),
        failing("Followers", |o| {
            o["targeting"]["audience"] = json!({"follows_brand": true})
        }),
        failing("Cold-drink fans", |o| {
            o["targeting"]["audience"] = json!({"interests_any": ["cold-drinks"]})
        }),
        failing("Not after soda", |o| {
            o["targeting"]["exclude"] = json!({"purchased_categories": ["soft-drinks"]})
        }),
        failing("Strollers", |o| o["targeting"]["max_speed_mps"] = json!(1)),
    ];
    let w = world(
        Options {
            weather_url: sky.uri(),
            ..Default::default()
        },
        &offers,
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    bought_soda(&w.app, "u-1").await;
    let answer = w
        .checkin(
            "c-1",
            "u-1",
            json!({"speed_mps": 2.5, "activity": "walking"}),
        )
        .await;
    assert_eq!(answer["reason"], "no-eligible-offer", "{answer}");

    let d = w.decision("c-1").await;
    let now = "it was 2026-07-14T19:00:00+00:00";
    let expected = [
        ("Paused", "status: offer is paused".to_string()),
        (
            "Ended",
            format!("validity: ended 2026-07-01T00:00:00+00:00, {now}"),
        ),
        (
            "Not yet",
            format!("validity: starts 2026-08-01T00:00:00+00:00, {now}"),
        ),
        (
            "Weekends",
            "schedule: runs on sat, sun, local day was tue".into(),
        ),
        (
            "Breakfast",
            "schedule: needs 06:00-09:00 local, was 15:00".into(),
        ),
        ("Hot", "weather: needs ≥ 28 °C, was 18 °C".into()),
        ("Mild", "weather: needs ≤ 12.5 °C, was 18 °C".into()),
        ("Snow", "weather: needs snow, was clear".into()),
        (
            "Followers",
            "audience: must follow chillco, does not".into(),
        ),
        (
            "Cold-drink fans",
            "audience: needs an interest in cold-drinks, has none".into(),
        ),
        (
            "Not after soda",
            "exclude: bought cola-330 on 2026-07-10 (within 30 days)".into(),
        ),
        ("Strollers", "speed: needs ≤ 1 m/s, was 2.5 m/s".into()),
    ];
    for (offer, line) in expected {
        let c = candidate(&d, offer);
        assert_eq!(
            (c["outcome"].as_str(), lines(c)),
            (Some("not-eligible"), vec![line]),
            "{offer}"
        );
    }
    let habit = lines(candidate(&d, "Regulars"));
    assert!(
        habit.len() == 1
            && habit[0].starts_with("habit: needs ≥ 3 visits/week at this store, had "),
        "{habit:?}"
    );
    assert_eq!(
        d["summary"],
        "No offer: none of the 13 offers considered qualified."
    );
    let explanation = strings(&d["explanation"]);
    for line in [
        "weather: 18 °C, clear",
        "no eligible offer: 13 offers considered, none passed every rule",
    ] {
        assert!(
            explanation.iter().any(|l| l == line),
            "{line} in {explanation:?}"
        );
    }
    assert!(
        explanation[0].starts_with("place: Corner Store 5th Ave (chillco), ")
            && explanation[0].ends_with("local time Tue 15:00"),
        "{explanation:?}"
    );
}

#[tokio::test]
async fn unknown_weather_and_withheld_personalization_say_why_their_rules_cannot_pass() {
    let offers = [
        failing("Hot", |o| {
            o["targeting"]["weather"] = json!({"min_temp_c": 28})
        }),
        failing("Regulars", |o| {
            o["targeting"]["habit"] = json!({"min_visits_per_week": 1, "scope": "brand"})
        }),
        failing("Followers", |o| {
            o["targeting"]["audience"] = json!({"follows_brand": true})
        }),
    ];
    // The default weather URL is a closed port: weather is unknown.
    let w = world(Options::default(), &offers).await;
    w.app.consent(&w.app_key, "u-1", true, false).await;
    w.checkin("c-1", "u-1", json!({})).await;
    let d = w.decision("c-1").await;
    let hot = lines(candidate(&d, "Hot"));
    assert!(
        hot.len() == 1
            && hot[0].starts_with("weather: unknown (")
            && hot[0].ends_with("), so weather rules cannot pass"),
        "{hot:?}"
    );
    assert_eq!(
        lines(candidate(&d, "Regulars")),
        ["habit: no personalization consent, so habits are not used"]
    );
    assert_eq!(
        lines(candidate(&d, "Followers")),
        ["audience: no personalization consent"]
    );
    let explanation = strings(&d["explanation"]);
    assert!(
        explanation
            .iter()
            .any(|l| l.starts_with("weather: unknown (")
                && l.ends_with("), so weather-gated offers could not pass")),
        "{explanation:?}"
    );
    assert!(explanation.contains(
        &"personalization: not consented, so habits and the profile were not used".to_string()
    ));
}

#[tokio::test]
async fn a_delivered_offer_is_explained_with_its_copy_exactly_as_shown() {
    let w = world(
        Options::default(),
        &[
            place_offer("Two-for-one", 2.0),
            place_offer("Small treat", 1.0),
        ],
    )
    .await;
    w.app.consent(&w.app_key, "u-1", true, true).await;
    let answer = w.checkin("c-1", "u-1", json!({})).await;
    assert_eq!(answer["decision"], "offer", "{answer}");

    let d = w.decision("c-1").await;
    assert_eq!(
        d["summary"],
        "Delivered “Two-for-one” from chillco at Corner Store 5th Ave."
    );
    let shown = &answer["offer"];
    let delivery = &d["delivery"];
    for field in [
        "title",
        "body",
        "redemption_code",
        "expires_at",
        "delivery_id",
    ] {
        let stored = if field == "delivery_id" {
            &delivery["id"]
        } else {
            &delivery[field]
        };
        assert_eq!(stored, &shown[field], "{field}");
    }
    assert_eq!(delivery["status"], "delivered");
    let winner = candidate(&d, "Two-for-one");
    assert_eq!(winner["outcome"], "delivered");
    // The first line says it went out; each further one is a passing signal of the moment.
    let said = lines(winner);
    assert_eq!(said[0], "delivered: every rule passed", "{winner}");
    assert!(
        said[1..].iter().all(|l| l.starts_with("schedule:")
            || l.starts_with("weather:")
            || l.starts_with("habit:")
            || l.starts_with("audience:")),
        "{winner}"
    );
    let other = candidate(&d, "Small treat");
    assert_eq!(other["outcome"], "not-chosen");
    assert!(
        lines(other)[0].starts_with("eligible, but “Two-for-one” ranked higher (score "),
        "{other}"
    );
    let code = shown["redemption_code"].as_str().unwrap();
    let last = strings(&d["explanation"]).pop().unwrap();
    assert_eq!(
        last,
        format!(
            "delivered: “Two-for-one” (chillco) at Corner Store 5th Ave, shown as “Two-for-one” / “At Corner Store 5th Ave”, code {code}"
        )
    );
    assert_eq!(d["trace"]["answer"], answer, "the raw trace comes along");
}
