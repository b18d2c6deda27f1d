//! Visits (issue 19): enter, dwell and exit in the check-in answer and the trace, debounced at
//! the edge; `dwell` and `exit` triggers fire only then; habits count visits, not pings; a
//! late report rewrites nothing; `visit.entered` / `visit.exited` reach a brand's receiver
//! only for people with personalization consent.

use crate::helpers::*;
use crate::support::redis_server::RedisServer;
use geoffer::clock::Clock;
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const STORE: (f64, f64) = (40.7490, -73.9860);
/// Metres north of the store's centre, as (lat, lon).
fn north(m: f64) -> (f64, f64) {
    (STORE.0 + m / 111_195.0, STORE.1)
}

fn circle(name: &str, radius_m: u32, tag: &str) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [STORE.1, STORE.0]},
        "properties": {"name": name, "radius_m": radius_m, "timezone": "America/New_York",
                       "tags": [tag], "max_accuracy_m": 100}})
}

fn options() -> Options {
    Options {
        // 09:00 in New York: no quiet hours for the next hours.
        now: "2026-07-14T13:00:00Z".parse().unwrap(),
        tweak: |s| {
            s.cap_person_day = 10;
            s.cap_person_week = 10;
            s.cap_person_brand = 10;
            s.webhook_allow_loopback_http = true;
            s.webhook_poll_ms = 0;
        },
        ..Default::default()
    }
}

struct World {
    app: TestApp,
    brand_key: String,
    app_key: String,
    /// Fence ids and names.
    fences: Vec<(String, String)>,
}

/// A shop (50 m) inside its block-away zone (400 m), with the given offers, and people with
/// location consent (personalization as given).
async fn world(offers: &[Value], people: &[(&str, bool)]) -> World {
    world_with(options(), offers, people).await
}

async fn world_with(options: Options, offers: &[Value], people: &[(&str, bool)]) -> World {
    let app = spawn_app_with(options).await;
    let brand_key = app.brand_with_key("chillco").await;
    let mut fences = Vec::new();
    for (name, f) in [
        ("Shop", circle("Shop", 50, "shop")),
        ("Block", circle("Block", 400, "zone")),
    ] {
        let a = app
            .post("/v1/brands/chillco/geofences", &brand_key, &f)
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        fences.push((a.body["id"].as_str().unwrap().to_string(), name.to_string()));
    }
    for o in offers {
        let a = app.post("/v1/brands/chillco/offers", &brand_key, o).await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let app_key = app.key("app", None).await;
    for (user, personalization) in people {
        app.consent(&app_key, user, true, *personalization).await;
    }
    World {
        app,
        brand_key,
        app_key,
        fences,
    }
}

fn triggered(name: &str, trigger: Value) -> Value {
    json!({"name": name, "title": name, "body": "At {{ fence.name }}", "value": 1.0,
        "targeting": {"fences": {"tags": ["shop"]}, "trigger": trigger},
        "caps": {"per_person": {"count": 10, "period_days": 1}}})
}

impl World {
    async fn at(&self, id: &str, user: &str, (lat, lon): (f64, f64), extra: Value) -> Value {
        let a = self
            .app
            .checkin(&self.app_key, id, user, lat, lon, extra)
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    fn wait(&self, minutes: u64) {
        self.app.clock.advance(Duration::from_secs(minutes * 60));
    }
}

/// The answer's events as (type, fence name).
fn events(w: &World, answer: &Value) -> Vec<(String, String)> {
    let names = &w.fences;
    answer["events"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let id = e["fence_id"].as_str().unwrap();
            let name = names
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| id.to_string());
            (e["type"].as_str().unwrap().to_string(), name)
        })
        .collect()
}

/// Events of one kind come by fence id: compare them as a set.
fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

fn ev(kind: &str, fence: &str) -> (String, String) {
    (kind.to_string(), fence.to_string())
}

#[tokio::test]
async fn enter_dwell_exit_come_once_in_order_and_dwell_and_exit_offers_fire_only_then() {
    let dwell = triggered("Stay", json!({"type": "dwell", "min_minutes": 15}));
    let exit = triggered("Thanks", json!({"type": "exit", "within_minutes": 30}));
    let w = world(&[dwell, exit], &[("u-1", false)]).await;

    let a = w.at("c-1", "u-1", STORE, json!({})).await;
    assert_eq!(
        sorted(events(&w, &a)),
        vec![ev("enter", "Block"), ev("enter", "Shop")],
        "{a}"
    );
    assert_eq!(a["decision"], "none", "no dwell yet: {a}");
    w.wait(5);
    let a = w.at("c-2", "u-1", STORE, json!({})).await;
    assert!(a.get("events").is_none(), "{a}");
    assert_eq!(a["decision"], "none");
    w.wait(5);
    let a = w.at("c-3", "u-1", STORE, json!({})).await;
    assert_eq!(
        sorted(events(&w, &a)),
        vec![ev("dwell", "Block"), ev("dwell", "Shop")]
    );
    assert_eq!(a["decision"], "none", "the offer wants 15 minutes: {a}");
    w.wait(5);
    let a = w.at("c-4", "u-1", STORE, json!({})).await;
    assert!(a.get("events").is_none(), "{a}");
    assert_eq!(a["decision"], "offer", "{a}");
    assert_eq!(a["offer"]["title"], "Stay");
    w.wait(2);
    // 150 m north: out of the shop by more than the margin, still in the block.
    let a = w.at("c-5", "u-1", north(150.0), json!({})).await;
    assert_eq!(events(&w, &a), vec![ev("exit", "Shop")]);
    assert_eq!(a["decision"], "offer", "{a}");
    assert_eq!(a["offer"]["title"], "Thanks");
    w.wait(2);
    let a = w.at("c-6", "u-1", north(150.0), json!({})).await;
    assert!(a.get("events").is_none(), "each event once: {a}");

    // Support reads each event with why.
    let trace = w.app.trace("c-5").await;
    let visits = trace["visits"].as_array().expect("visits in the trace");
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0]["event"], "exit");
    assert!(
        visits[0]["why"]
            .as_str()
            .unwrap()
            .contains("farther from its edge than the exit margin"),
        "{trace}"
    );
    let rules = trace["candidates"].to_string();
    assert!(rules.contains("trigger.exit"), "{rules}");
}

#[tokio::test]
async fn pacing_on_the_boundary_with_30_m_accuracy_is_one_visit_not_twenty() {
    let w = world(&[], &[("u-1", true)]).await;
    let mut all = Vec::new();
    for i in 0..20 {
        // 10 m inside the shop's edge, then 15 m outside it: within the 30 m margin.
        let spot = if i % 2 == 0 { north(40.0) } else { north(65.0) };
        let a = w
            .at(&format!("c-{i}"), "u-1", spot, json!({"accuracy_m": 30}))
            .await;
        all.extend(events(&w, &a));
        w.wait(1);
    }
    let shop: Vec<_> = all.iter().filter(|(_, f)| f == "Shop").cloned().collect();
    assert_eq!(shop, vec![ev("enter", "Shop"), ev("dwell", "Shop")]);
    // Habits count one visit.
    let trace = w.app.trace("c-18").await;
    let fences = trace["fences"].as_array().unwrap();
    let shop = fences.iter().find(|f| f["name"] == "Shop").unwrap();
    assert_eq!(shop["habit_fence"]["visits_7d"], 1, "{shop}");
}

#[tokio::test]
async fn habits_count_two_visits_when_an_exit_separates_them_within_three_hours() {
    let w = world(&[], &[("u-1", true)]).await;
    w.at("c-1", "u-1", STORE, json!({})).await;
    w.wait(20);
    let a = w.at("c-2", "u-1", north(150.0), json!({})).await;
    assert_eq!(events(&w, &a)[0], ev("exit", "Shop"), "{a}");
    // Back within the 30 min timeout of the block: its visit (and the brand's) goes on.
    w.wait(25);
    let a = w.at("c-3", "u-1", STORE, json!({})).await;
    assert_eq!(events(&w, &a), vec![ev("enter", "Shop")]);
    let trace = w.app.trace("c-3").await;
    let fences = trace["fences"].as_array().unwrap();
    let shop = fences.iter().find(|f| f["name"] == "Shop").unwrap();
    assert_eq!(shop["habit_fence"]["visits_7d"], 2, "{shop}");
    // The block was never left: one visit to it, and to the brand.
    let block = fences.iter().find(|f| f["name"] == "Block").unwrap();
    assert_eq!(block["habit_fence"]["visits_7d"], 1, "{block}");
    assert_eq!(block["habit_brand"]["visits_7d"], 1, "{block}");
}

#[tokio::test]
async fn a_late_report_feeds_nothing_into_visits_and_says_so() {
    let w = world(&[], &[("u-1", false)]).await;
    let start = w.app.clock.now();
    w.at("c-1", "u-1", STORE, json!({})).await;
    w.wait(8);
    let a = w.at("c-2", "u-1", north(150.0), json!({})).await;
    assert_eq!(events(&w, &a), vec![ev("exit", "Shop")]);
    w.wait(1);
    // A batched report from before the exit, back in the shop: it rewrites nothing.
    let late = (start + chrono::Duration::minutes(4)).to_rfc3339();
    let a = w
        .at("c-3", "u-1", STORE, json!({"recorded_at": late}))
        .await;
    assert!(a.get("events").is_none(), "{a}");
    let trace = w.app.trace("c-3").await;
    assert!(
        trace["notes"].to_string().contains("late report"),
        "{trace}"
    );
    // The exit stands: the next report in the shop is a new visit.
    let a = w.at("c-4", "u-1", STORE, json!({})).await;
    assert_eq!(events(&w, &a), vec![ev("enter", "Shop")]);
}

#[tokio::test]
async fn a_dwell_or_exit_trigger_out_of_range_is_refused_and_an_unknown_one_too() {
    let w = world(&[], &[]).await;
    for (trigger, status, pointer) in [
        (
            json!({"type": "dwell", "min_minutes": 0}),
            422,
            Some("/targeting/trigger/min_minutes"),
        ),
        (
            json!({"type": "exit", "within_minutes": 500}),
            422,
            Some("/targeting/trigger/within_minutes"),
        ),
        (
            json!({"type": "linger"}),
            422,
            Some("/targeting/trigger/type"),
        ),
        (json!({"type": "dwell"}), 422, None),
    ] {
        let a = w
            .app
            .post(
                "/v1/brands/chillco/offers",
                &w.brand_key,
                &triggered("Bad", trigger.clone()),
            )
            .await;
        let body = assert_problem(&a, status);
        if let Some(p) = pointer {
            assert_eq!(pointers(body), vec![p.to_string()], "{trigger}: {body}");
        }
    }
    // A valid one reads back as it was written.
    let a = w
        .app
        .post(
            "/v1/brands/chillco/offers",
            &w.brand_key,
            &triggered("Good", json!({"type": "exit", "within_minutes": 20})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_str().unwrap();
    let a = w
        .app
        .get(&format!("/v1/brands/chillco/offers/{id}"), &w.brand_key)
        .await;
    assert_eq!(
        a.body["targeting"]["trigger"],
        json!({"type": "exit", "within_minutes": 20}),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn visit_webhooks_reach_the_brand_only_for_people_with_personalization_consent() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let w = world(&[], &[("u-p", true), ("u-n", false)]).await;
    let a = w
        .app
        .post(
            "/v1/brands/chillco/webhooks",
            &w.brand_key,
            &json!({"url": format!("{}/hooks", receiver.uri()),
                    "event_types": ["visit.entered", "visit.exited"]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    for user in ["u-p", "u-n"] {
        w.at(&format!("{user}-1"), user, STORE, json!({})).await;
    }
    w.wait(5);
    for user in ["u-p", "u-n"] {
        w.at(&format!("{user}-2"), user, north(150.0), json!({}))
            .await;
    }
    assert_eq!(
        delivered(&w, &receiver).await,
        vec![
            ("visit.entered".into(), "Block".into(), "u-p".into()),
            ("visit.entered".into(), "Shop".into(), "u-p".into()),
            ("visit.exited".into(), "Shop".into(), "u-p".into()),
        ]
    );
}

/// Sends what the outbox holds now; returns every request the receiver got, as (type, fence
/// name, user), sorted. None carries a coordinate.
async fn delivered(w: &World, receiver: &MockServer) -> Vec<(String, String, String)> {
    while w
        .app
        .state
        .services
        .webhook_sender
        .send_due()
        .await
        .unwrap()
        > 0
    {}
    let names = &w.fences;
    let name = |id: &str| names.iter().find(|(i, _)| i == id).unwrap().1.clone();
    let mut got: Vec<(String, String, String)> = receiver
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let text = String::from_utf8_lossy(&r.body).to_string();
            assert!(!text.contains("40.7") && !text.contains("-73.9"), "{text}");
            let body: Value = serde_json::from_str(&text).unwrap();
            (
                body["type"].as_str().unwrap().to_string(),
                name(body["data"]["fence_id"].as_str().unwrap()),
                body["data"]["user_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    got
}

/// A check-in outside every fence closes the open visits, an exit offer fires at it, the
/// brand's receiver gets `visit.exited`, a retry is answered alike, and the record it leaves
/// holds the fences and times only: no coordinates anywhere.
async fn outside_every_fence_closes_the_visit(options: Options) {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let exit = triggered("Thanks", json!({"type": "exit", "within_minutes": 30}));
    let w = world_with(options, &[exit], &[("u-1", true), ("u-2", true)]).await;
    let a = w
        .app
        .post(
            "/v1/brands/chillco/webhooks",
            &w.brand_key,
            &json!({"url": format!("{}/hooks", receiver.uri()), "event_types": ["visit.exited"]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    w.at("c-1", "u-1", STORE, json!({})).await;
    w.wait(5);
    // 1 km north: 600 m beyond the block's edge, in no fence at all.
    let far = north(1000.0);
    let a = w.at("c-2", "u-1", far, json!({})).await;
    assert_eq!(
        sorted(events(&w, &a)),
        vec![ev("exit", "Block"), ev("exit", "Shop")],
        "{a}"
    );
    assert_eq!(a["decision"], "offer", "thanks for coming by: {a}");
    assert_eq!(a["offer"]["title"], "Thanks");
    // A retry is answered from the record, events included; it closes nothing twice.
    let again = w.at("c-2", "u-1", far, json!({})).await;
    assert_eq!(again, a);
    assert_eq!(
        delivered(&w, &receiver).await,
        vec![
            ("visit.exited".into(), "Block".into(), "u-1".into()),
            ("visit.exited".into(), "Shop".into(), "u-1".into()),
        ]
    );
    // The record: the fences left and the times, nothing about where the report was.
    let record = w.app.get("/v1/decisions/c-2", &w.app.admin_key).await.body;
    let text = record.to_string();
    let (lat, lon) = (format!("{:.2}", far.0), format!("{:.2}", far.1));
    assert!(!text.contains(&lat) && !text.contains(&lon), "{text}");
    assert!(record["trace"]["context"].get("location_rounded").is_none());
    assert!(record["trace"].get("fences").is_none(), "{record}");
    assert_eq!(record["trace"]["visits"].as_array().unwrap().len(), 2);
    assert!(
        record["trace"]["candidates"]
            .to_string()
            .contains("trigger.exit"),
        "{record}"
    );
    // Nothing open any more: the next report out there is a plain no-fence, and keeps nothing.
    w.wait(1);
    let decisions = w.app.count_rows("decisions").await;
    let a = w.at("c-3", "u-1", far, json!({})).await;
    assert_eq!(
        (a["reason"].as_str(), a.get("events")),
        (Some("no-fence"), None)
    );
    // Someone who never had a visit: the same.
    let a = w.at("c-4", "u-2", far, json!({})).await;
    assert_eq!(
        (a["reason"].as_str(), a.get("events")),
        (Some("no-fence"), None)
    );
    assert_eq!(w.app.count_rows("decisions").await, decisions);
    // Consent still comes first out there: a stranger is refused, invalid report or not.
    let a = w
        .app
        .checkin(&w.app_key, "c-5", "stranger", far.0, far.1, json!({}))
        .await;
    assert_problem(&a, 403);
    let a = w
        .app
        .checkin(&w.app_key, "c-6", "stranger", 91.0, far.1, json!({}))
        .await;
    assert_problem(&a, 403);
}

#[tokio::test]
async fn a_checkin_outside_every_fence_closes_the_visit_and_an_exit_offer_fires_there() {
    outside_every_fence_closes_the_visit(options()).await;
}

#[tokio::test]
async fn a_checkin_outside_every_fence_closes_the_visit_with_redis_too() {
    let redis = RedisServer::start();
    outside_every_fence_closes_the_visit(Options {
        redis_url: Some(redis.url()),
        ..options()
    })
    .await;
}
