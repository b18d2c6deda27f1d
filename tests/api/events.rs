//! Feedback events through HTTP: no creepy retargeting, cool-downs, the usual, results and
//! lift against the holdout, idempotent batches, erasure everywhere.
//!
//! About 600 lines: nine end-to-end scenarios of events and their effect on later decisions.

use crate::helpers::*;
use crate::support::redis_server::RedisServer;
use chrono::Duration;
use geoffer::clock::Clock;
use serde_json::{Value, json};

const CHILL: (f64, f64) = (40.7490, -73.9860);
/// A Lumen showroom on Lexington Ave, 1.2 km from the ChillCo store.
const LUMEN: (f64, f64) = (40.7516, -73.9755);
const BEAN: (f64, f64) = (40.7410, -73.9897);

fn store(name: &str, at: (f64, f64), tag: &str, ext: &str) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [at.1, at.0]},
           "properties": {"name": name, "radius_m": 100, "timezone": "America/New_York", "tags": [tag], "external_id": ext}})
}

fn simple_offer(name: &str, tag: &str, value: f64) -> Value {
    json!({"name": name, "title": name, "body": "{{ habit.usual_item }} at {{ fence.name }}", "value": value,
           "targeting": {"fences": {"tags": [tag]}}, "caps": {"per_person": {"count": 5, "period_days": 30}},
           "redemption": {"code_prefix": "X", "valid_hours": 4}})
}

struct City {
    app: TestApp,
    key: String,
    brands: Vec<String>,
}

async fn city(o: Options, lumen_offers: Vec<Value>) -> City {
    let app = spawn_app_with(o).await;
    let mut brands = Vec::new();
    for (b, at, tag, offers) in [
        (
            "chillco",
            CHILL,
            "corner-store",
            vec![
                simple_offer("Chilled", "corner-store", 1.0),
                simple_offer("Chilled again", "corner-store", 0.9),
            ],
        ),
        (
            "beanline",
            BEAN,
            "cafe",
            vec![simple_offer("Coffee", "cafe", 1.0)],
        ),
        ("lumen", LUMEN, "showroom", lumen_offers),
    ] {
        let k = app.brand_with_key(b).await;
        assert_eq!(
            app.post(
                &format!("/v1/brands/{b}/geofences"),
                &k,
                &store(b, at, tag, "s-1")
            )
            .await
            .status,
            201
        );
        for o in offers {
            let a = app.post(&format!("/v1/brands/{b}/offers"), &k, &o).await;
            assert_eq!(a.status, 201, "{}", a.body);
        }
        brands.push(k);
    }
    let key = app.key("app", None).await;
    City { app, key, brands }
}

impl City {
    async fn events(&self, events: Value) -> Value {
        let a = self
            .app
            .post("/v1/events", &self.key, &json!({"events": events}))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    fn at(&self, hours_ago: i64) -> String {
        (self.app.clock.now() - Duration::hours(hours_ago)).to_rfc3339()
    }
}

#[tokio::test]
async fn after_buying_a_lamp_in_store_nobody_chases_them_with_lamps_but_other_brands_still_can() {
    let lamp = json!({"name": "The Arc lamp", "title": "Arc lamp", "body": "At {{ fence.name }}", "value": 3.0,
                      "targeting": {"fences": {"tags": ["showroom"]}}, "product": {"skus": ["lamp-arc"], "categories": ["lamps"]}});
    let consult = json!({"name": "Lighting consult", "title": "Consult", "body": "At {{ fence.name }}", "value": 2.0,
                         "targeting": {"fences": {"tags": ["showroom"]}, "exclude": {"purchased_categories": ["lamps"], "purchased_within_days": 60}}});
    let c = city(Options::default(), vec![lamp, consult]).await;
    c.app.consent(&c.key, "u-1", true, true).await;
    let r = c.events(json!([{"event_id": "p-1", "user_id": "u-1", "occurred_at": c.at(2), "type": "purchase", "brand": "lumen",
                             "sku": "lamp-arc", "category": "lamps", "amount": 129.0, "currency": "USD", "channel": "in_store"}])).await;
    assert_eq!(r["accepted"], 1, "{r}");
    let a = c
        .app
        .checkin(&c.key, "lumen-1", "u-1", LUMEN.0, LUMEN.1, json!({}))
        .await;
    assert_eq!(a.body["reason"], "no-eligible-offer", "{}", a.body);
    let trace = c.app.trace("lumen-1").await;
    let failed: Vec<String> = trace["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| {
            x["failed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
        })
        .collect();
    assert!(
        failed
            .iter()
            .any(|t| t.starts_with("no retargeting: bought lamp-arc")),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|t| t.starts_with("exclude: bought lamp-arc")),
        "{failed:?}"
    );
    // A quarter of an hour's walk to the ChillCo store (at once would be implausible).
    c.app.clock.advance(std::time::Duration::from_secs(15 * 60));
    let b = c
        .app
        .checkin(&c.key, "chill-1", "u-1", CHILL.0, CHILL.1, json!({}))
        .await;
    assert_eq!(b.body["decision"], "offer", "{}", b.body);
    assert_eq!(b.body["offer"]["brand"], "chillco");
}

#[tokio::test]
async fn a_dismissed_brand_stays_silent_for_its_cool_down_while_others_can_still_reach_the_person()
{
    let c = city(Options::default(), vec![]).await;
    c.app.consent(&c.key, "u-1", true, true).await;
    let first = c
        .app
        .checkin(&c.key, "c-1", "u-1", CHILL.0, CHILL.1, json!({}))
        .await;
    let delivery = first.body["offer"]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c.events(json!([{"event_id": "d-1", "user_id": "u-1", "occurred_at": c.at(0), "type": "offer_dismissed", "delivery_id": delivery}])).await;
    assert_eq!(r["results"][0]["status"], "accepted", "{r}");
    // Past the person-brand week, inside the 14-day cool-down.
    c.app
        .clock
        .advance(std::time::Duration::from_secs(8 * 86_400));
    let again = c
        .app
        .checkin(&c.key, "c-2", "u-1", CHILL.0, CHILL.1, json!({}))
        .await;
    assert_eq!(again.body["reason"], "capped", "{}", again.body);
    assert_eq!(
        c.app.trace("c-2").await["limiter"][0]["denial"]["cap"],
        "brand-cooldown"
    );
    // A quarter of an hour's walk to the café (at once would be implausible).
    c.app.clock.advance(std::time::Duration::from_secs(15 * 60));
    let other = c
        .app
        .checkin(&c.key, "b-1", "u-1", BEAN.0, BEAN.1, json!({}))
        .await;
    assert_eq!(other.body["offer"]["brand"], "beanline", "{}", other.body);
    c.app
        .clock
        .advance(std::time::Duration::from_secs(7 * 86_400));
    let later = c
        .app
        .checkin(&c.key, "c-3", "u-1", CHILL.0, CHILL.1, json!({}))
        .await;
    assert_eq!(later.body["offer"]["brand"], "chillco", "{}", later.body);
}

#[tokio::test]
async fn the_usual_item_fills_the_copy() {
    let c = city(Options::default(), vec![]).await;
    c.app.consent(&c.key, "u-1", true, true).await;
    let buy = |id: &str, sku: &str, h: i64| {
        json!({"event_id": id, "user_id": "u-1", "occurred_at": c.at(h), "type": "purchase",
                                                    "brand": "chillco", "sku": sku, "category": "soft-drinks", "channel": "in_store"})
    };
    c.events(json!([
        buy("p1", "cola-330", 100),
        buy("p2", "cola-330", 50),
        buy("p3", "lemonade", 30),
        buy("p4", "cola-330", 10)
    ]))
    .await;
    let a = c
        .app
        .checkin(&c.key, "c-1", "u-1", CHILL.0, CHILL.1, json!({}))
        .await;
    assert_eq!(a.body["offer"]["body"], "cola-330 at chillco", "{}", a.body);
}

#[tokio::test]
async fn replaying_a_batch_changes_nothing_and_bad_events_do_not_sink_good_ones() {
    let c = city(Options::default(), vec![]).await;
    c.app.consent(&c.key, "u-1", true, true).await;
    c.app.consent(&c.key, "u-2", true, false).await;
    let batch = json!([
        {"event_id": "f-1", "user_id": "u-1", "occurred_at": c.at(1), "type": "follow", "brand": "chillco"},
        {"event_id": "t-1", "user_id": "u-1", "occurred_at": c.at(1), "type": "traits", "interests": ["cold-drinks", "lighting"], "tier": "gold"},
        {"event_id": "p-1", "user_id": "u-1", "occurred_at": c.at(1), "type": "purchase", "brand": "chillco", "sku": "cola-330", "channel": "online"},
        {"event_id": "bad", "user_id": "u-1", "occurred_at": c.at(1), "type": "purchase", "brand": "chillco", "sku": "cola-330", "channel": "drone"},
        {"event_id": "no-consent", "user_id": "u-2", "occurred_at": c.at(1), "type": "follow", "brand": "chillco"},
        {"event_id": "ghost", "user_id": "u-1", "occurred_at": c.at(1), "type": "offer_opened", "delivery_id": "00000000-0000-0000-0000-000000000000"}
    ]);
    let first = c.events(batch.clone()).await;
    assert_eq!(
        (first["accepted"].as_u64(), first["rejected"].as_u64()),
        (Some(3), Some(3)),
        "{first}"
    );
    let statuses: Vec<u64> = first["results"].as_array().unwrap()[3..]
        .iter()
        .map(|r| r["problem"]["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![422, 403, 404]);
    assert_eq!(
        first["results"][3]["problem"]["errors"][0]["pointer"],
        "/events/3/channel"
    );
    let tables = ["events", "follows", "interests", "traits", "purchases"];
    let mut before = Vec::new();
    for t in tables {
        before.push(c.app.count_rows(t).await);
    }
    let again = c.events(batch).await;
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(3)),
        "{again}"
    );
    for (t, n) in tables.iter().zip(before) {
        assert_eq!(c.app.count_rows(t).await, n, "{t} changed on replay");
    }
}

#[tokio::test]
async fn nonsensical_transitions_are_conflicts() {
    let c = city(Options::default(), vec![]).await;
    c.app.consent(&c.key, "u-1", true, true).await;
    c.app.consent(&c.key, "u-2", true, true).await;
    let a = c
        .app
        .checkin(&c.key, "c-1", "u-1", CHILL.0, CHILL.1, json!({}))
        .await;
    let d = a.body["offer"]["delivery_id"].as_str().unwrap().to_string();
    let code = a.body["offer"]["redemption_code"]
        .as_str()
        .unwrap()
        .to_string();
    let ev = |id: &str, user: &str, kind: &str, h: i64| json!({"event_id": id, "user_id": user, "occurred_at": c.at(h), "type": kind, "delivery_id": d});
    let r = c.events(json!([ev("x-1", "u-2", "offer_opened", 0), ev("o-1", "u-1", "offer_opened", 0),
                            {"event_id": "r-bad", "user_id": "u-1", "occurred_at": c.at(0), "type": "offer_redeemed", "delivery_id": d, "redemption_code": "X-WRONG"},
                            {"event_id": "r-1", "user_id": "u-1", "occurred_at": c.at(0), "type": "offer_redeemed", "delivery_id": d, "redemption_code": code},
                            ev("r-2", "u-1", "offer_redeemed", 0)])).await;
    let outcome: Vec<(String, Option<u64>)> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["status"].as_str().unwrap().to_string(),
                x["problem"]["status"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        outcome,
        vec![
            ("rejected".into(), Some(409)),
            ("accepted".into(), None),
            ("rejected".into(), Some(409)),
            ("accepted".into(), None),
            ("rejected".into(), Some(409))
        ]
    );
    // Resent after the delivery moved on, the accepted events are duplicates, not conflicts.
    let resent = c
        .events(json!([ev("o-1", "u-1", "offer_opened", 0),
            {"event_id": "r-1", "user_id": "u-1", "occurred_at": c.at(0), "type": "offer_redeemed", "delivery_id": d, "redemption_code": code}]))
        .await;
    assert_eq!(
        (resent["duplicates"].as_u64(), resent["rejected"].as_u64()),
        (Some(2), Some(0)),
        "{resent}"
    );
    // An expired code cannot be redeemed.
    c.app
        .clock
        .advance(std::time::Duration::from_secs(2 * 86_400));
    let b = c
        .app
        .checkin(&c.key, "c-2", "u-2", CHILL.0, CHILL.1, json!({}))
        .await;
    let d2 = b.body["offer"]["delivery_id"].as_str().unwrap().to_string();
    c.app
        .clock
        .advance(std::time::Duration::from_secs(5 * 3_600));
    let late = c.events(json!([{"event_id": "late", "user_id": "u-2", "occurred_at": c.at(0), "type": "offer_redeemed", "delivery_id": d2}])).await;
    assert_eq!(late["results"][0]["problem"]["status"], 409, "{late}");
    assert!(
        late["results"][0]["problem"]["detail"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn racing_events_on_one_delivery_apply_once_each_and_end_redeemed() {
    let c = city(Options::default(), vec![]).await;
    c.app.consent(&c.key, "u-1", true, true).await;
    let a = c
        .app
        .checkin(&c.key, "c-1", "u-1", CHILL.0, CHILL.1, json!({}))
        .await;
    let d = a.body["offer"]["delivery_id"].as_str().unwrap().to_string();
    let open = |id: &str| json!([{"event_id": id, "user_id": "u-1", "occurred_at": c.at(0), "type": "offer_opened", "delivery_id": d}]);
    let redeem = json!([{"event_id": "r-1", "user_id": "u-1", "occurred_at": c.at(0), "type": "offer_redeemed", "delivery_id": d}]);
    // The same open sent four times at once, another open and the redemption, all racing.
    let answers = futures_util::future::join_all(vec![
        c.events(open("o-1")),
        c.events(open("o-1")),
        c.events(open("o-1")),
        c.events(open("o-1")),
        c.events(open("o-2")),
        c.events(redeem.clone()),
    ])
    .await;
    let status = |a: &Value| {
        a["results"][0]["status"]
            .as_str()
            .unwrap_or("?")
            .to_string()
    };
    let o1: Vec<String> = answers[..4].iter().map(status).collect();
    // An open that loses the race to the redemption is a conflict (nothing can be opened
    // once redeemed); otherwise exactly one copy is applied and the others are duplicates.
    let applied = o1.iter().filter(|s| *s == "accepted").count();
    assert!(applied <= 1, "applied twice: {o1:?}");
    if applied == 0 {
        assert!(o1.iter().all(|s| s == "rejected"), "{o1:?}");
    } else {
        assert!(o1.iter().all(|s| s != "rejected"), "{o1:?}");
    }
    assert_eq!(status(&answers[5]), "accepted", "{}", answers[5]);
    let o2 = status(&answers[4]);
    assert!(["accepted", "rejected"].contains(&o2.as_str()), "{o2}");
    // Every accepted event is kept once; rejected ones are not kept.
    let kept = applied + usize::from(o2 == "accepted") + 1;
    assert_eq!(c.app.count_rows("events").await, kept as i64);
    let support = c.app.key("support", None).await;
    let delivery = c.app.get(&format!("/v1/deliveries/{d}"), &support).await;
    assert_eq!(delivery.body["status"], "redeemed", "{}", delivery.body);
}

#[tokio::test]
async fn results_and_lift_equal_a_hand_computation() {
    let mut held = simple_offer("Half held out", "showroom", 1.0);
    held["holdout_pct"] = json!(50);
    let c = city(Options::default(), vec![held]).await;
    let (mut treated, mut control) = (Vec::new(), Vec::new());
    for i in 0..40 {
        let u = format!("u-{i}");
        c.app.consent(&c.key, &u, true, true).await;
        let a = c
            .app
            .checkin(&c.key, &format!("c-{i}"), &u, LUMEN.0, LUMEN.1, json!({}))
            .await;
        match (a.body["decision"].as_str(), a.body["reason"].as_str()) {
            (Some("offer"), _) => treated.push((
                u,
                a.body["offer"]["delivery_id"].as_str().unwrap().to_string(),
            )),
            (_, Some("held-out")) => control.push(u),
            other => panic!("{other:?}: {}", a.body),
        }
    }
    assert!(
        treated.len() >= 8 && control.len() >= 8,
        "{} / {}",
        treated.len(),
        control.len()
    );
    // Every third treated person redeems; every other one buys two days later (converts);
    // every fourth control person buys two days later; everyone in control with i % 5 == 0
    // buys only after the window (does not count).
    let mut events = Vec::new();
    for (i, (u, d)) in treated.iter().enumerate() {
        events.push(json!({"event_id": format!("open-{u}"), "user_id": u, "occurred_at": c.at(0), "type": "offer_opened", "delivery_id": d}));
        if i % 3 == 0 {
            events.push(json!({"event_id": format!("red-{u}"), "user_id": u, "occurred_at": c.at(0), "type": "offer_redeemed", "delivery_id": d}));
        }
    }
    c.events(Value::Array(events)).await;
    let now = c.app.clock.now();
    let buy = |u: &str, days: i64| {
        json!({"event_id": format!("buy-{u}-{days}"), "user_id": u, "occurred_at": (now + Duration::days(days)).to_rfc3339(),
                                          "type": "purchase", "brand": "lumen", "category": "lamps", "channel": "in_store"})
    };
    let mut later = Vec::new();
    for (i, (u, _)) in treated.iter().enumerate() {
        if i % 2 == 0 {
            later.push((u.clone(), 2));
        }
    }
    for (i, u) in control.iter().enumerate() {
        if i % 4 == 0 {
            later.push((u.clone(), 2));
        }
        if i % 5 == 0 {
            later.push((u.clone(), 9));
        }
    }
    c.app
        .clock
        .advance(std::time::Duration::from_secs(10 * 86_400));
    c.events(Value::Array(
        later.iter().map(|(u, d)| buy(u, *d)).collect(),
    ))
    .await;
    let nt = treated.len() as f64;
    let kt = (0..treated.len())
        .filter(|i| i % 3 == 0 || i % 2 == 0)
        .count() as f64;
    let nc = control.len() as f64;
    let kc = (0..control.len()).filter(|i| i % 4 == 0).count() as f64;
    let (pt, pc) = (kt / nt, kc / nc);
    let se = (pt * (1.0 - pt) / nt + pc * (1.0 - pc) / nc).sqrt();
    let offers = c.app.get("/v1/brands/lumen/offers", &c.brands[2]).await;
    let id = offers.body["items"][0]["id"].as_str().unwrap();
    let r = c
        .app
        .get(
            &format!("/v1/brands/lumen/offers/{id}/results"),
            &c.brands[2],
        )
        .await
        .body;
    assert_eq!(r["treated"]["deliveries"].as_f64(), Some(nt), "{r}");
    assert_eq!(r["treated"]["opens"].as_f64(), Some(nt));
    assert_eq!(
        r["treated"]["redemptions"].as_u64(),
        Some((0..treated.len()).filter(|i| i % 3 == 0).count() as u64)
    );
    assert_eq!(r["treated"]["conversions"].as_f64(), Some(kt));
    assert_eq!(r["control"]["held_out"].as_f64(), Some(nc));
    assert_eq!(r["control"]["conversions"].as_f64(), Some(kc));
    let close = |a: &Value, b: f64| assert!((a.as_f64().unwrap() - b).abs() < 1e-9, "{a} vs {b}");
    close(&r["lift"]["absolute"], pt - pc);
    close(
        &r["lift"]["absolute_ci95"][0],
        pt - pc - 1.959_963_984_540_054 * se,
    );
    close(
        &r["lift"]["absolute_ci95"][1],
        pt - pc + 1.959_963_984_540_054 * se,
    );
    close(&r["lift"]["relative"], (pt - pc) / pc);
    // Fewer than 30 in a group: the sentence says it is too early to tell.
    assert_eq!(r["verdict"], "not-enough-data", "{r}");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .starts_with("Not enough data yet: "),
        "{r}"
    );
    // The daily series: the last 30 days up to today (UTC), adding up to the totals, each
    // thing on the day it happened (the purchases two days after the deliveries).
    let today = c.app.clock.now().date_naive();
    assert_eq!(r["period"]["to"], today.to_string(), "{r}");
    assert_eq!(r["period"]["time_zone"], "UTC");
    let daily = r["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30);
    assert_eq!(daily[29]["date"], today.to_string());
    let sum = |k: &str| daily.iter().map(|d| d[k].as_u64().unwrap()).sum::<u64>() as f64;
    assert_eq!(
        (sum("deliveries"), sum("opens"), sum("conversions")),
        (nt, nt, kt)
    );
    let on = |date: chrono::NaiveDate| {
        daily
            .iter()
            .find(|d| d["date"] == date.to_string())
            .unwrap()
            .clone()
    };
    let sent = now.date_naive();
    assert_eq!(on(sent)["deliveries"].as_f64(), Some(nt));
    assert_eq!(
        on(sent + Duration::days(2))["conversions"].as_u64(),
        Some(
            (0..treated.len())
                .filter(|i| i % 3 != 0 && i % 2 == 0)
                .count() as u64
        )
    );
    // A period asked for: its days only.
    let path = format!("/v1/brands/lumen/offers/{id}/results");
    let asked = c
        .app
        .get(
            &format!("{path}?from={sent}&to={}", sent + Duration::days(2)),
            &c.brands[2],
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert_eq!(asked.body["daily"].as_array().unwrap().len(), 3);
    assert_eq!(asked.body["daily"][0]["deliveries"].as_f64(), Some(nt));
    // Periods that cannot be read, or that are backwards or too long, are 400s naming the
    // parameter.
    for (query, pointer) in [
        ("from=2026-13-01", "/query/from"),
        ("to=yesterday", "/query/to"),
        ("from=2026-07-10&to=2026-07-01", "/query/to"),
        ("from=2025-01-01&to=2026-07-01", "/query/from"),
        ("to=-262000-01-01", "/query/to"),
        ("to=+262142-12-31", "/query/to"),
    ] {
        let bad = c.app.get(&format!("{path}?{query}"), &c.brands[2]).await;
        assert_problem(&bad, 400);
        assert_eq!(pointers(&bad.body), [pointer], "{query}: {}", bad.body);
    }
    assert_problem(
        &c.app.get(&format!("{path}?days=7"), &c.brands[2]).await,
        400,
    );
    // Another brand cannot read them.
    assert_problem(
        &c.app
            .get(
                &format!("/v1/brands/lumen/offers/{id}/results"),
                &c.brands[0],
            )
            .await,
        404,
    );
}

#[tokio::test]
async fn withdrawing_personalization_erases_the_profile_and_stops_using_it() {
    let c = city(Options::default(), vec![]).await;
    c.app.consent(&c.key, "u-1", true, true).await;
    c.events(json!([{"event_id": "f", "user_id": "u-1", "occurred_at": c.at(1), "type": "follow", "brand": "chillco"},
                    {"event_id": "p", "user_id": "u-1", "occurred_at": c.at(1), "type": "purchase", "brand": "chillco", "sku": "cola", "channel": "online"}])).await;
    c.app.consent(&c.key, "u-1", true, false).await;
    for t in ["follows", "purchases", "interests"] {
        assert_eq!(c.app.count_rows(t).await, 0, "{t}");
    }
    let r = c.events(json!([{"event_id": "f2", "user_id": "u-1", "occurred_at": c.at(0), "type": "follow", "brand": "chillco"}])).await;
    assert_eq!(r["results"][0]["problem"]["status"], 403);
}

/// Every text cell of every table, for "nothing holds this person" checks.
async fn store_mentions(app: &TestApp, needles: &[&str]) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != '_sqlx_migrations'")
        .fetch_all(&pool).await.unwrap();
    let mut hits = Vec::new();
    for t in tables {
        let sql = format!("SELECT * FROM {t}");
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            use sqlx::{Column, Row};
            for col in row.columns() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(col.ordinal())
                    && needles.iter().any(|n| text.contains(n))
                {
                    hits.push(format!("{t}.{}: {text}", col.name()));
                }
            }
        }
    }
    hits
}

#[tokio::test]
async fn erasure_leaves_no_row_and_no_redis_key_that_holds_the_person() {
    let redis = RedisServer::start();
    let c = city(
        Options {
            redis_url: Some(redis.url()),
            ..Default::default()
        },
        vec![],
    )
    .await;
    let user = "erase-me-7f3a";
    c.app.consent(&c.key, user, true, true).await;
    let a = c
        .app
        .checkin(
            &c.key,
            "c-1",
            user,
            CHILL.0,
            CHILL.1,
            json!({"device_id": "dev-erase-me"}),
        )
        .await;
    let d = a.body["offer"]["delivery_id"].as_str().unwrap().to_string();
    c.app
        .checkin(&c.key, "c-2", user, BEAN.0, BEAN.1, json!({}))
        .await;
    c.events(json!([{"event_id": "f", "user_id": user, "occurred_at": c.at(0), "type": "follow", "brand": "chillco"},
                    {"event_id": "p", "user_id": user, "occurred_at": c.at(0), "type": "purchase", "brand": "chillco", "sku": "cola", "channel": "online"},
                    {"event_id": "t", "user_id": user, "occurred_at": c.at(0), "type": "traits", "interests": ["lighting"]},
                    {"event_id": "x", "user_id": user, "occurred_at": c.at(0), "type": "offer_dismissed", "delivery_id": d}])).await;
    let person = geoffer::people::PersonId::of(geoffer::auth::DEFAULT_APP, user);
    let needles = [user, person.as_str(), "dev-erase-me"];
    assert!(
        !store_mentions(&c.app, &needles).await.is_empty(),
        "the test must see the person before erasure"
    );
    let redis_keys = |pattern: String| {
        let out = std::process::Command::new("redis-cli")
            .args(["-u", &redis.url(), "--scan", "--pattern", &pattern])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(
        !redis_keys(format!("*{}*", person.as_str())).is_empty(),
        "the test must see Redis state before erasure"
    );
    // Support looked at the person: the read log names them too, until erasure.
    let support = c.app.key("support", None).await;
    assert_eq!(
        c.app
            .get(&format!("/v1/users/{user}/timeline"), &support)
            .await
            .status,
        200
    );
    assert_eq!(c.app.get("/v1/decisions/c-1", &support).await.status, 200);
    let del = c.app.delete(&format!("/v1/users/{user}"), &c.key).await;
    assert_eq!(del.status, 202, "{}", del.body);
    assert!(del.body["receipt"].as_str().is_some());
    assert_eq!(store_mentions(&c.app, &needles).await, Vec::<String>::new());
    for n in needles {
        assert_eq!(redis_keys(format!("*{n}*")), Vec::<String>::new(), "{n}");
    }
    // The delivery remains as a de-identified count (the café check-in was capped for the day).
    assert_eq!(c.app.count_rows("deliveries").await, 1);
    // And the id is unconsented again.
    assert_problem(
        &c.app
            .checkin(&c.key, "c-3", user, CHILL.0, CHILL.1, json!({}))
            .await,
        403,
    );
}
