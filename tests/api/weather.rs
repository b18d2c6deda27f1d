//! Weather context against a local wiremock server speaking Open-Meteo's
//! format. No test reaches the real API.
//!
//! Cache TTLs and the breaker's probe interval run on a `ManualClock`; the per-call
//! budget runs on real time, because a paused tokio clock auto-advances while
//! waiting for sockets and would fire the budget spuriously.
//!
//! About 500 lines: 16 tests, each with its own local upstream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use geoffer::clock::{Clock, ManualClock};
use geoffer::weather::{
    BreakerState, Condition, GridCell, OpenMeteo, OpenMeteoConfig, RecordedWeather, WeatherLookup,
    WeatherProvider, reason,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BERLIN: (f64, f64) = (52.52, 13.405);

/// A real-shaped Open-Meteo `current` response.
fn open_meteo_body(temp: f64, code: u16) -> Value {
    json!({
        "latitude": 52.52, "longitude": 13.419998, "generationtime_ms": 0.04,
        "utc_offset_seconds": 0, "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 38.0,
        "current_units": {"time": "iso8601", "interval": "seconds", "temperature_2m": "°C",
            "apparent_temperature": "°C", "precipitation": "mm", "weather_code": "wmo code", "is_day": ""},
        "current": {"time": "2026-07-14T15:00", "interval": 900, "temperature_2m": temp,
            "apparent_temperature": temp + 1.8, "precipitation": 0.4, "weather_code": code, "is_day": 1}
    })
}

fn forecast() -> wiremock::MockBuilder {
    Mock::given(method("GET")).and(path("/v1/forecast"))
}

fn ok(temp: f64, code: u16) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(open_meteo_body(temp, code))
}

/// Test config: production defaults except the URL and no negative cache,
/// so every failure reaches the upstream (and the breaker).
fn config(server: &MockServer) -> OpenMeteoConfig {
    OpenMeteoConfig {
        base_url: server.uri(),
        negative_ttl: Duration::ZERO,
        ..OpenMeteoConfig::default()
    }
}

fn provider(config: OpenMeteoConfig, clock: &Arc<ManualClock>) -> OpenMeteo {
    OpenMeteo::with_config(config, Arc::clone(clock) as Arc<dyn Clock>).unwrap()
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

fn reason_of(answer: &WeatherLookup) -> &str {
    answer.reason().unwrap_or("known")
}

#[tokio::test]
async fn a_normal_answer_is_mapped_and_asks_for_the_cell_centre() {
    let server = MockServer::start().await;
    let cell = GridCell::of(BERLIN.0, BERLIN.1);
    let (clat, clon) = cell.centre();
    forecast()
        .and(query_param("latitude", clat.to_string()))
        .and(query_param("longitude", clon.to_string()))
        .and(query_param(
            "current",
            "temperature_2m,apparent_temperature,precipitation,weather_code,is_day",
        ))
        .respond_with(ok(31.2, 1))
        .expect(1)
        .mount(&server)
        .await;
    let om = provider(config(&server), &Arc::new(ManualClock::starting_now()));

    let weather = om
        .current(BERLIN.0, BERLIN.1)
        .await
        .known()
        .cloned()
        .expect("known weather");
    assert_eq!(weather.temp_c, 31.2);
    assert_eq!(weather.feels_like_c, 33.0);
    assert_eq!(weather.precipitation_mm, 0.4);
    assert_eq!(weather.condition, Condition::Clear);
    assert!(weather.is_day);
    assert_eq!(
        weather.observed_at.unwrap().to_rfc3339(),
        "2026-07-14T15:00:00+00:00"
    );
}

#[tokio::test]
async fn every_condition_family_is_mapped_from_the_upstream_weather_code() {
    let server = MockServer::start().await;
    let om = provider(config(&server), &Arc::new(ManualClock::starting_now()));
    let families = [
        (0, Condition::Clear),
        (3, Condition::Cloudy),
        (48, Condition::Fog),
        (56, Condition::Drizzle),
        (66, Condition::Rain),
        (81, Condition::Rain),
        (75, Condition::Snow),
        (86, Condition::Snow),
        (99, Condition::Thunderstorm),
    ];
    for (i, (code, want)) in families.into_iter().enumerate() {
        server.reset().await;
        forecast().respond_with(ok(10.0, code)).mount(&server).await;
        // A different cell each time, so the cache never answers.
        let answer = om.current(40.0 + i as f64, 10.0).await;
        assert_eq!(
            answer.known().map(|w| w.condition),
            Some(want),
            "WMO code {code}"
        );
    }
}

#[tokio::test]
async fn a_second_lookup_within_the_ttl_is_served_from_cache_without_a_call() {
    let server = MockServer::start().await;
    forecast()
        .respond_with(ok(25.0, 2))
        .expect(1)
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::starting_now());
    let om = provider(config(&server), &clock);

    let first = om.current(BERLIN.0, BERLIN.1).await;
    clock.advance(Duration::from_secs(14 * 60));
    let second = om.current(BERLIN.0, BERLIN.1).await;
    assert!(first.is_known());
    assert_eq!(first, second);
    let stats = om.stats();
    assert_eq!((stats.hits, stats.misses, stats.upstream_calls), (1, 1, 1));
}

#[tokio::test]
async fn an_expired_entry_is_refreshed_from_upstream() {
    let server = MockServer::start().await;
    forecast()
        .respond_with(ok(20.0, 0))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    forecast()
        .respond_with(ok(27.0, 0))
        .expect(1)
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::starting_now());
    let om = provider(config(&server), &clock);

    assert_eq!(
        om.current(BERLIN.0, BERLIN.1).await.known().unwrap().temp_c,
        20.0
    );
    clock.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(
        om.current(BERLIN.0, BERLIN.1).await.known().unwrap().temp_c,
        27.0
    );
}

#[tokio::test]
async fn two_points_in_the_same_five_km_cell_share_one_call() {
    let server = MockServer::start().await;
    forecast()
        .respond_with(ok(22.0, 1))
        .expect(1)
        .mount(&server)
        .await;
    let om = provider(config(&server), &Arc::new(ManualClock::starting_now()));
    let (clat, clon) = GridCell::of(BERLIN.0, BERLIN.1).centre();
    // ~3.5 km apart, both inside the cell around Berlin's centre.
    let a = (clat - 0.01, clon - 0.02);
    let b = (clat + 0.01, clon + 0.02);
    assert_eq!(GridCell::of(a.0, a.1), GridCell::of(b.0, b.1));

    let answer_a = om.current(a.0, a.1).await;
    let answer_b = om.current(b.0, b.1).await;
    assert!(answer_a.is_known());
    assert_eq!(answer_a, answer_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_misses_for_one_cell_make_exactly_one_upstream_request() {
    let server = MockServer::start().await;
    forecast()
        .respond_with(ok(30.0, 1).set_delay(Duration::from_millis(150)))
        .expect(1)
        .mount(&server)
        .await;
    let config = OpenMeteoConfig {
        budget: Duration::from_secs(2),
        ..config(&server)
    };
    let om = provider(config, &Arc::new(ManualClock::starting_now()));

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let om = om.clone();
        tasks.spawn(async move { om.current(BERLIN.0 + i as f64 * 0.0001, BERLIN.1).await });
    }
    while let Some(answer) = tasks.join_next().await {
        assert_eq!(answer.unwrap().known().map(|w| w.temp_c), Some(30.0));
    }
    let stats = om.stats();
    assert_eq!((stats.upstream_calls, stats.coalesced), (1, 19));
}

#[tokio::test]
async fn a_slow_upstream_answers_timeout_within_budget_and_still_fills_the_cache() {
    let server = MockServer::start().await;
    forecast()
        .respond_with(ok(33.0, 0).set_delay(Duration::from_millis(500)))
        .expect(1)
        .mount(&server)
        .await;
    let budget = Duration::from_millis(250);
    let om = provider(
        OpenMeteoConfig {
            budget,
            ..config(&server)
        },
        &Arc::new(ManualClock::starting_now()),
    );

    let started = Instant::now();
    let answer = om.current(BERLIN.0, BERLIN.1).await;
    let took = started.elapsed();
    assert_eq!(reason_of(&answer), reason::TIMEOUT);
    assert!(took < budget + Duration::from_millis(50), "took {took:?}");
    assert_eq!(om.stats().timeouts, 1);

    // The upstream call kept running in the background and cached its answer.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        om.current(BERLIN.0, BERLIN.1)
            .await
            .known()
            .map(|w| w.temp_c),
        Some(33.0)
    );
    assert_eq!(om.stats().hits, 1);
}

#[tokio::test]
async fn an_upstream_500_is_unknown_and_not_cached_as_success() {
    let server = MockServer::start().await;
    forecast()
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .expect(2)
        .mount(&server)
        .await;
    let om = provider(config(&server), &Arc::new(ManualClock::starting_now()));

    for _ in 0..2 {
        assert_eq!(
            reason_of(&om.current(BERLIN.0, BERLIN.1).await),
            reason::UPSTREAM_ERROR
        );
    }
    assert_eq!(om.stats().upstream_errors, 2);
}

#[tokio::test]
async fn a_short_negative_cache_spares_the_upstream_after_a_failure() {
    let server = MockServer::start().await;
    forecast()
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let clock = Arc::new(ManualClock::starting_now());
    let config = OpenMeteoConfig {
        negative_ttl: Duration::from_secs(5),
        ..config(&server)
    };
    let om = provider(config, &clock);

    assert_eq!(
        reason_of(&om.current(BERLIN.0, BERLIN.1).await),
        reason::UPSTREAM_ERROR
    );
    assert_eq!(
        reason_of(&om.current(BERLIN.0, BERLIN.1).await),
        reason::UPSTREAM_ERROR
    );
    assert_eq!(om.stats().negative_hits, 1);
}

#[tokio::test]
async fn garbage_bodies_are_unknown_bad_response() {
    let server = MockServer::start().await;
    let om = provider(config(&server), &Arc::new(ManualClock::starting_now()));
    let bodies = [
        "<html>502 Bad Gateway</html>",
        "{\"current\": {\"temperature_2m\": null, \"weather_code\": 1}}",
        "{\"current\": {\"temperature_2m\": 20.0, \"weather_code\": 42}}",
        "{\"error\": true, \"reason\": \"Cannot initialize WeatherVariable\"}",
    ];
    for (i, body) in bodies.into_iter().enumerate() {
        server.reset().await;
        forecast()
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
        let answer = om.current(30.0 + i as f64, 10.0).await;
        assert_eq!(reason_of(&answer), reason::BAD_RESPONSE, "{body}");
    }
}

/// Opens the breaker of `om` with `n` failing calls against `server`.
async fn trip(om: &OpenMeteo, server: &MockServer, n: usize) {
    forecast()
        .respond_with(ResponseTemplate::new(500))
        .mount(server)
        .await;
    for _ in 0..n {
        assert_eq!(
            reason_of(&om.current(BERLIN.0, BERLIN.1).await),
            reason::UPSTREAM_ERROR
        );
    }
}

#[tokio::test]
async fn the_breaker_opens_after_five_failures_and_then_makes_no_network_calls() {
    let server = MockServer::start().await;
    let om = provider(config(&server), &Arc::new(ManualClock::starting_now()));
    trip(&om, &server, 5).await;
    assert_eq!(om.stats().breaker_state, BreakerState::Open);

    for i in 0..10 {
        let started = Instant::now();
        let answer = om.current(BERLIN.0 + i as f64, BERLIN.1).await;
        assert_eq!(reason_of(&answer), reason::CIRCUIT_OPEN);
        assert!(started.elapsed() < Duration::from_millis(50));
    }
    assert_eq!(requests(&server).await, 5);
    let stats = om.stats();
    assert_eq!((stats.breaker_opens, stats.breaker_rejections), (1, 10));
}

#[tokio::test]
async fn a_probe_a_second_after_opening_notices_the_recovered_upstream() {
    let server = MockServer::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    let om = provider(config(&server), &clock);
    trip(&om, &server, 5).await;

    server.reset().await;
    forecast().respond_with(ok(24.0, 2)).mount(&server).await;
    clock.advance(Duration::from_millis(900));
    assert_eq!(
        reason_of(&om.current(BERLIN.0, BERLIN.1).await),
        reason::CIRCUIT_OPEN
    );
    clock.advance(Duration::from_millis(100));
    assert!(om.current(BERLIN.0, BERLIN.1).await.is_known(), "probe");
    assert_eq!(om.stats().breaker_state, BreakerState::Closed);
    assert!(om.current(-33.87, 151.21).await.is_known(), "closed again");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_failed_probe_keeps_the_breaker_open_until_the_next_probe() {
    let server = MockServer::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    let om = provider(config(&server), &clock);
    trip(&om, &server, 5).await;

    clock.advance(Duration::from_secs(1));
    assert_eq!(
        reason_of(&om.current(BERLIN.0, BERLIN.1).await),
        reason::UPSTREAM_ERROR
    );
    assert_eq!(
        reason_of(&om.current(BERLIN.0, BERLIN.1).await),
        reason::CIRCUIT_OPEN
    );
    assert_eq!(requests(&server).await, 6);
    let stats = om.stats();
    assert_eq!(
        stats.breaker_opens, 1,
        "a failed probe is not a new opening"
    );
    assert_eq!(stats.breaker_state, BreakerState::Open);
}

#[tokio::test]
async fn concurrent_callers_send_one_probe_and_weather_returns_within_two_seconds_of_recovery() {
    let server = MockServer::start().await;
    let clock = Arc::new(ManualClock::starting_now());
    // Production defaults, negative cache included: recovery must show through it too.
    let om = provider(
        OpenMeteoConfig {
            base_url: server.uri(),
            ..OpenMeteoConfig::default()
        },
        &clock,
    );
    // Down: every call fails (the negative cache answers repeats) until the breaker opens.
    forecast()
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    for i in 0..5 {
        let answer = om.current(BERLIN.0 + i as f64, BERLIN.1).await;
        assert_eq!(reason_of(&answer), reason::UPSTREAM_ERROR);
    }
    assert_eq!(om.stats().breaker_state, BreakerState::Open);
    // Still down a second later: twenty callers in twenty cells, one probe, and it fails.
    clock.advance(Duration::from_secs(1));
    let answers = futures_util::future::join_all(
        (0..20).map(|i| om.current(BERLIN.0 + 0.2 * f64::from(i), BERLIN.1)),
    )
    .await;
    assert!(answers.iter().all(|a| !a.is_known()));
    assert_eq!(
        requests(&server).await,
        6,
        "twenty concurrent callers, one probe"
    );

    // The upstream recovers; the next probe is due a second later and the answer with it.
    server.reset().await;
    forecast()
        .respond_with(ok(31.0, 0).set_delay(Duration::from_millis(50)))
        .mount(&server)
        .await;
    clock.advance(Duration::from_secs(1));
    let answers =
        futures_util::future::join_all((0..20).map(|_| om.current(BERLIN.0, BERLIN.1))).await;
    assert!(
        answers.iter().all(WeatherLookup::is_known),
        "the probe's answer is shared by the callers waiting on its cell"
    );
    assert_eq!(requests(&server).await, 1, "one probe");
    assert_eq!(om.stats().breaker_state, BreakerState::Closed);
}

#[tokio::test]
async fn the_providers_work_behind_a_trait_object() {
    let server = MockServer::start().await;
    forecast().respond_with(ok(18.0, 61)).mount(&server).await;
    let live: Arc<dyn WeatherProvider> =
        Arc::new(OpenMeteo::new(&server.uri(), Duration::from_millis(250)).unwrap());
    assert_eq!(live.name(), "open-meteo");
    assert_eq!(
        live.current(BERLIN.0, BERLIN.1)
            .await
            .known()
            .unwrap()
            .condition,
        Condition::Rain
    );
    assert_eq!(live.stats().upstream_calls, 1);

    let recorded: Arc<dyn WeatherProvider> =
        Arc::new(RecordedWeather::from_json_str(&open_meteo_body(5.0, 71).to_string()).unwrap());
    assert_eq!(recorded.name(), "recorded");
    assert_eq!(recorded.stats(), Default::default());
}

#[tokio::test]
async fn a_directory_of_recordings_serves_offline_runs() {
    let dir = std::env::temp_dir().join(format!("geoffer-weather-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut berlin = open_meteo_body(31.2, 1);
    berlin["location"] = json!({"name": "Berlin Mitte", "lat": 52.52, "lon": 13.405});
    std::fs::write(dir.join("berlin.json"), berlin.to_string()).unwrap();
    let sydney = json!({"latitude": -33.87, "longitude": 151.21, "current": open_meteo_body(12.0, 95)["current"]});
    std::fs::write(dir.join("sydney.json"), sydney.to_string()).unwrap();
    std::fs::write(dir.join("README.txt"), "not a recording").unwrap();

    let loaded = RecordedWeather::from_dir(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let recorded = loaded.unwrap();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        recorded.current(52.50, 13.39).await.known().unwrap().temp_c,
        31.2
    );
    let storm = recorded.current(-33.9, 151.2).await;
    assert_eq!(storm.known().unwrap().condition, Condition::Thunderstorm);
    assert_eq!(
        reason_of(&recorded.current(0.0, 0.0).await),
        reason::NO_RECORDING
    );
}
