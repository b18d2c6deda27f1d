//! A geoffer on a free port (temporary SQLite file, in-process hot state, a test clock) with
//! an admin key, and the few API calls the browser tests arrange or check with.

use chrono::{DateTime, Utc};
use geoffer::auth::{Role, generate_key};
use geoffer::clock::{Clock, ManualClock};
use geoffer::demo::DemoWorld;
use geoffer::settings::{Overrides, Settings};
use geoffer::startup::Application;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    pub admin_key: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    /// The outbox's sender: with `webhook_poll_ms = 0` the tests send due messages themselves.
    pub webhook_sender: Arc<geoffer::services::WebhookSender>,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn(None, |_| {}).await.0
}

/// The same with `tweak` applied to the settings (e.g. webhooks to `http://127.0.0.1`).
pub async fn spawn_app_with(tweak: fn(&mut Settings)) -> TestApp {
    spawn(None, tweak).await.0
}

/// The demo (`geoffer serve --demo`): the fixtures' brands, fences and offers loaded through
/// the services, one key per role, and the recorded weather of `fixtures/weather/`.
pub async fn spawn_demo_app() -> (TestApp, DemoWorld) {
    let (app, demo) = spawn(Some(Path::new("fixtures")), |_| {}).await;
    (app, demo.expect("the demo world is loaded"))
}

async fn spawn(demo: Option<&Path>, tweak: fn(&mut Settings)) -> (TestApp, Option<DemoWorld>) {
    let dir = tempfile::tempdir().unwrap();
    let overrides = Overrides {
        bind: Some("127.0.0.1:0".into()),
        database_url: Some(format!(
            "sqlite://{}",
            dir.path().join("console.db").display()
        )),
        // A closed port: weather is unknown, and no test contacts a public host.
        weather_url: Some("http://127.0.0.1:9".into()),
        weather_dir: demo.map(|d| d.join("weather")),
        // Offers go out at any local hour, so a delivery never depends on the test clock.
        quiet_hours: Some("off".into()),
        ..Default::default()
    };
    let mut settings = Settings::load(None, overrides).unwrap();
    tweak(&mut settings);
    // Tuesday 2026-07-14, 15:00 in New York: outside the default quiet hours, and the hour
    // the demo's weather was recorded.
    let now: DateTime<Utc> = "2026-07-14T19:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("app builds");
    let port = app.port();
    let admin = generate_key(Role::Admin, None, now);
    app.state()
        .store
        .create_key(None, &admin.record)
        .await
        .unwrap();
    let world = match demo {
        Some(d) => Some(
            geoffer::demo::load(app.state(), d)
                .await
                .expect("demo loads"),
        ),
        None => None,
    };
    let webhook_sender = app.state().services.webhook_sender.clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let app = TestApp {
        base: format!("http://127.0.0.1:{port}"),
        admin_key: admin.plaintext,
        client: reqwest::Client::new(),
        clock,
        webhook_sender,
        _dir: dir,
    };
    (app, world)
}

impl TestApp {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, key, Some(body))
            .await
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, key, None).await
    }

    /// Creates a brand and returns a brand key for it.
    pub async fn brand_with_key(&self, id: &str) -> String {
        let (s, b) = self
            .post(
                "/v1/brands",
                &self.admin_key,
                json!({"id": id, "name": format!("{} Co", id)}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        self.key("brand", Some(id)).await
    }

    pub async fn key(&self, role: &str, brand: Option<&str>) -> String {
        let (s, b) = self
            .post(
                "/v1/keys",
                &self.admin_key,
                json!({"role": role, "brand": brand}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        b["key"].as_str().unwrap().to_string()
    }

    /// A circle and a polygon with a hole, so the map has something of each to draw.
    pub async fn seed_fences(&self, brand: &str, key: &str) {
        let circle = json!({"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-73.9857, 40.7484]},
            "properties": {"name": "Corner Store 5th Ave", "radius_m": 120,
                "timezone": "America/New_York", "tags": ["corner-store"], "external_id": "store-0042"}});
        let plaza = json!({"type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [
                [[-73.99, 40.75], [-73.98, 40.75], [-73.98, 40.756], [-73.99, 40.756], [-73.99, 40.75]],
                [[-73.987, 40.752], [-73.983, 40.752], [-73.983, 40.754], [-73.987, 40.754], [-73.987, 40.752]]]},
            "properties": {"name": "Plaza with a courtyard", "timezone": "America/New_York",
                "tags": ["plaza"], "external_id": "plaza-1"}});
        for f in [circle, plaza] {
            let (s, b) = self
                .post(&format!("/v1/brands/{brand}/geofences"), key, f)
                .await;
            assert_eq!(s, 201, "{b}");
        }
    }

    /// A check-in by a consenting user at (lat, lon), recorded now by the test clock.
    pub async fn checkin(&self, app_key: &str, id: &str, user: &str, lat: f64, lon: f64) -> Value {
        let (s, b) = self
            .call(
                reqwest::Method::PUT,
                &format!("/v1/users/{user}/consent"),
                app_key,
                Some(json!({"location": true, "personalization": false})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = self
            .post(
                "/v1/checkins",
                app_key,
                json!({"checkin_id": id, "user_id": user, "lat": lat, "lon": lon,
                       "accuracy_m": 15, "recorded_at": self.clock.now().to_rfc3339()}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        b
    }

    /// A delivered offer of `brand` (a new brand with the two seeded fences and an offer
    /// every check-in is eligible for): `user` consents and checks in at (lat, lon) inside
    /// the circle, as `checkin_id` or, while the catalog has not caught up with the new
    /// offer yet, `checkin_id-1`, `-2`, .... Returns the brand key and the delivering id.
    pub async fn delivered_offer(
        &self,
        brand: &str,
        checkin_id: &str,
        user: &str,
        (lat, lon): (f64, f64),
    ) -> (String, String) {
        let key = self.brand_with_key(brand).await;
        self.seed_fences(brand, &key).await;
        let id = self
            .offer_delivered(brand, &key, checkin_id, user, (lat, lon))
            .await;
        (key, id)
    }

    /// The rest of [`Self::delivered_offer`] for a brand that exists with its fences seeded
    /// (and whatever else the test arranged first, e.g. webhook endpoints): the offer, then
    /// check-ins until it is delivered. Returns the delivering check-in id.
    pub async fn offer_delivered(
        &self,
        brand: &str,
        key: &str,
        checkin_id: &str,
        user: &str,
        (lat, lon): (f64, f64),
    ) -> String {
        let (s, b) = self
            .post(
                &format!("/v1/brands/{brand}/offers"),
                key,
                json!({"name": "Always", "title": "Hello", "body": "At {{ fence.name }}", "value": 1.0}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let app_key = self.key("app", None).await;
        let mut last = Value::Null;
        for n in 0..60 {
            let id = if n == 0 {
                checkin_id.to_string()
            } else {
                format!("{checkin_id}-{n}")
            };
            last = self.checkin(&app_key, &id, user, lat, lon).await;
            if last["decision"] == "offer" {
                return id;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no offer delivered: {last}");
    }
}
