//! `spawn_app()`: a server on a free port with its own temporary database and an admin key.
//!
//! About 340 lines: one harness (server, clock, keys, request helpers) shared by every HTTP test.

use chrono::{DateTime, Utc};
use geoffer::auth::{Role, generate_key};
use geoffer::clock::{Clock, ManualClock};
use geoffer::settings::{Overrides, Settings};
use geoffer::startup::Application;
use geoffer::state::AppState;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    pub admin_key: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub db_url: String,
    _dir: tempfile::TempDir,
}

/// How to build a test server.
pub struct Options {
    /// Where the clock starts: by default Tuesday 2026-07-14 15:00 in New York.
    pub now: DateTime<Utc>,
    /// Open-Meteo base URL (default: a closed port, so weather is unknown).
    pub weather_url: String,
    pub weather_budget_ms: u64,
    pub redis_url: Option<String>,
    pub quiet_hours: Option<String>,
    /// The limiter's per-call budget.
    pub limiter_timeout_ms: u64,
    /// Share a database with another instance (replicas); default: a fresh one.
    pub db_url: Option<String>,
    /// Share a Redis key prefix with another instance (replicas); default: a fresh one.
    pub redis_key_prefix: Option<String>,
    /// Last word on any other setting (caps, retention, ...).
    pub tweak: fn(&mut Settings),
}

impl Default for Options {
    fn default() -> Self {
        Self {
            now: "2026-07-14T19:00:00Z".parse().unwrap(),
            weather_url: "http://127.0.0.1:9".into(),
            weather_budget_ms: 250,
            redis_url: None,
            quiet_hours: None,
            db_url: None,
            redis_key_prefix: None,
            limiter_timeout_ms: 50,
            tweak: |_| {},
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(o: Options) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = o
        .db_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("test.db").display()));
    let db_url = db.clone();
    let overrides = Overrides {
        bind: Some("127.0.0.1:0".into()),
        database_url: Some(db),
        weather_url: Some(o.weather_url),
        redis_url: o.redis_url,
        redis_key_prefix: Some(
            o.redis_key_prefix
                .unwrap_or_else(|| format!("test-{}", uuid::Uuid::new_v4().simple())),
        ),
        quiet_hours: o.quiet_hours,
        ..Default::default()
    };
    let mut settings = Settings::load(None, overrides).unwrap();
    settings.weather_budget_ms = o.weather_budget_ms;
    settings.limiter_timeout_ms = o.limiter_timeout_ms;
    (o.tweak)(&mut settings);
    let clock = Arc::new(ManualClock::new(o.now));
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("app builds");
    let port = app.port();
    let state = app.state().clone();
    let admin = generate_key(Role::Admin, None, o.now);
    state.store.create_key(None, &admin.record).await.unwrap();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        admin_key: admin.plaintext,
        // Idle connections are dropped well before the server's 5 s keep-alive closes them:
        // reusing one the server is closing at that moment fails the request (hyper's
        // IncompleteMessage), which a long test under load otherwise runs into.
        client: reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap(),
        state,
        clock,
        db_url,
        _dir: dir,
    }
}

/// A response read once: status, headers of interest, JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl TestApp {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.send(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: &Value) -> Answer {
        self.send(Method::PUT, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Answer {
        self.send(Method::DELETE, path, Some(key), None).await
    }

    /// Creates a brand and returns a brand key for it.
    pub async fn brand_with_key(&self, id: &str) -> String {
        let a = self
            .post(
                "/v1/brands",
                &self.admin_key,
                &json!({"id": id, "name": id.to_uppercase()}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        self.key("brand", Some(id)).await
    }

    pub async fn key(&self, role: &str, brand: Option<&str>) -> String {
        let a = self
            .post(
                "/v1/keys",
                &self.admin_key,
                &json!({"role": role, "brand": brand}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["key"].as_str().unwrap().to_string()
    }

    /// Number of audit entries, a cheap "did anything change" probe.
    pub async fn audit_count(&self) -> usize {
        let a = self
            .get("/v1/audit/changes?limit=1000", &self.admin_key)
            .await;
        a.body["items"].as_array().map_or(0, Vec::len)
    }
}

pub async fn read(res: Response) -> Answer {
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        content_type,
        body,
    }
}

/// Asserts a problem+json answer with this status and returns its body.
pub fn assert_problem(a: &Answer, status: u16) -> &Value {
    assert_eq!(a.status.as_u16(), status, "body: {}", a.body);
    assert!(
        a.content_type.starts_with("application/problem+json"),
        "content type {}",
        a.content_type
    );
    for field in ["type", "title", "status", "detail"] {
        assert!(
            a.body.get(field).is_some(),
            "problem lacks `{field}`: {}",
            a.body
        );
    }
    assert_eq!(a.body["status"], status);
    &a.body
}

/// The pointers named in a validation problem.
pub fn pointers(body: &Value) -> Vec<String> {
    body["errors"].as_array().map_or_else(Vec::new, |e| {
        e.iter()
            .filter_map(|x| x["pointer"].as_str().map(str::to_string))
            .collect()
    })
}

pub fn circle_fence() -> Value {
    json!({ "type": "Feature",
        "geometry": { "type": "Point", "coordinates": [-73.9857, 40.7484] },
        "properties": { "name": "Corner Store 5th Ave", "radius_m": 120,
                        "timezone": "America/New_York", "tags": ["corner-store"],
                        "external_id": "store-0042", "max_accuracy_m": 100 } })
}

pub fn polygon_fence(ring: Value) -> Value {
    json!({ "type": "Feature",
        "geometry": { "type": "Polygon", "coordinates": [ring] },
        "properties": { "name": "Plaza", "timezone": "America/New_York", "tags": ["plaza"] } })
}

pub fn square_ring() -> Value {
    json!([
        [-73.99, 40.75],
        [-73.98, 40.75],
        [-73.98, 40.76],
        [-73.99, 40.76],
        [-73.99, 40.75]
    ])
}

pub fn offer() -> Value {
    json!({ "name": "Chilled drink on hot days", "status": "active",
      "title": "Ice-cold ChillCo is waiting",
      "body": "It's {{ weather.temp_c | round }}°C. Your usual {{ habit.usual_item }} is {{ distance_m }} m away at {{ fence.name }}.",
      "value": 1.0, "valid_from": "2026-06-01T00:00:00Z", "valid_until": "2027-06-01T00:00:00Z",
      "targeting": {
        "fences": { "ids": [], "tags": ["corner-store"] },
        "schedule": { "days": ["mon","tue","wed","thu","fri","sat","sun"], "hours": [{ "from": "11:00", "to": "19:00" }] },
        "weather": { "min_temp_c": 28, "max_temp_c": null, "conditions": ["clear","cloudy"] },
        "habit": { "min_visits_per_week": 2, "scope": "fence", "min_days_since_visit": null, "min_dwell_s": null },
        "audience": { "follows_brand": true, "interests_any": ["cold-drinks"] },
        "exclude": { "purchased_categories": ["soft-drinks"], "purchased_within_days": 30 },
        "max_speed_mps": 7 },
      "caps": { "per_person": { "count": 1, "period_days": 30 } },
      "budget": { "total": 10000, "daily": 500 },
      "holdout_pct": 10,
      "redemption": { "code_prefix": "CHILL", "valid_hours": 4 } })
}

impl TestApp {
    /// Writes follows and interests straight into the profile tables, as the events feed will.
    pub async fn seed_profile(&self, user: &str, follows: &[&str], interests: &[&str]) {
        let pool = sqlx::SqlitePool::connect(&self.db_url).await.unwrap();
        let person = geoffer::people::PersonId::of(geoffer::auth::DEFAULT_APP, user);
        for b in follows {
            sqlx::query("INSERT INTO follows (person, brand_id, since) VALUES (?, ?, 0)")
                .bind(person.as_str())
                .bind(*b)
                .execute(&pool)
                .await
                .unwrap();
        }
        for i in interests {
            sqlx::query("INSERT INTO interests (person, interest) VALUES (?, ?)")
                .bind(person.as_str())
                .bind(*i)
                .execute(&pool)
                .await
                .unwrap();
        }
    }

    /// Rows in a table (for "nothing was stored" checks).
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        if self.db_url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&self.db_url).await.unwrap();
            return sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .unwrap();
        }
        let pool = sqlx::SqlitePool::connect(&self.db_url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .unwrap()
    }

    /// Gives `user` consent (an app key is created once per call site).
    pub async fn consent(&self, app_key: &str, user: &str, location: bool, personalization: bool) {
        let a = self
            .put(
                &format!("/v1/users/{user}/consent"),
                app_key,
                &json!({"location": location, "personalization": personalization}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
    }

    /// Posts a check-in recorded now (by the test clock) plus `extra` fields.
    pub async fn checkin(
        &self,
        app_key: &str,
        id: &str,
        user: &str,
        lat: f64,
        lon: f64,
        extra: Value,
    ) -> Answer {
        let mut body = json!({"checkin_id": id, "user_id": user, "lat": lat, "lon": lon, "accuracy_m": 15,
                              "recorded_at": self.clock.now().to_rfc3339()});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        self.post("/v1/checkins", app_key, &body).await
    }

    /// The trace of a recorded decision, via the support API.
    pub async fn trace(&self, checkin_id: &str) -> Value {
        let a = self
            .get(&format!("/v1/decisions/{checkin_id}"), &self.admin_key)
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["trace"].clone()
    }
}
