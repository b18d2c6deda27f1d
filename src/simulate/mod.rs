//! `geoffer simulate`: a synthetic city through the real engine on a virtual clock — the
//! standing proof of rarity (docs/simulate.md).
//!
//! The world is the demo's: the fixtures are loaded into a throwaway SQLite database through
//! the demo's loader (the catalog service, as `serve --demo`). People ([`people`]) get
//! consent, follows and interests through the people and event services. Then every
//! check-in of every person, in time order, goes to `Engine::decide` on an engine built with
//! `Engine::off_record_like` from the application's own: the same catalog, store and
//! in-process hot state (caps, habits, consent gate) for the whole run, so caps bind across
//! weeks; seeded seasonal weather; a `ManualClock` set to each check-in's time; and a record
//! kept in memory, read back as typed traces for the report ([`report`]).
//!
//! Deterministic for a seed: seeded generators, ordered maps, no wall clock.

pub mod generated;
pub mod people;
pub mod report;
pub mod world;

use crate::auth::{DEFAULT_APP, Principal, Role};
use crate::checkins::CheckinInput;
use crate::clock::{Clock, ManualClock};
use crate::domain::BrandId;
use crate::events::EventInput;
use crate::people::ConsentInput;
use crate::settings::Settings;
use crate::startup::Application;
use crate::weather::{Climate, SeasonalWeather};
use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use people::{Person, Ping};
use report::{Head, Report, SettingsSeen, Tally};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;
use world::CityMap;

/// Which world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorldKind {
    /// The fixtures' brands, fences and offers.
    Demo,
    /// Many brands and fences around the fixtures' stores, offers mostly on place alone
    /// ([`generated`]).
    Generated,
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The world.
    pub world: WorldKind,
    /// Where the demo world's fixtures are (the generated world clusters around them).
    pub fixtures: PathBuf,
    /// Simulated weeks.
    pub weeks: u32,
    /// The seed.
    pub seed: u64,
    /// People.
    pub people: usize,
    /// The first day (moved back to its Monday).
    pub start: NaiveDate,
    /// Settings the engine runs with (quiet hours, minimum relevance, caps); the database,
    /// Redis and weather settings are replaced by the simulation's own.
    pub settings: Settings,
}

/// Runs the simulation and reports.
pub async fn run(o: &Options) -> anyhow::Result<Report> {
    anyhow::ensure!(o.weeks >= 1 && o.weeks <= 52, "weeks must be 1-52");
    anyhow::ensure!(o.people >= 1, "people must be at least 1");
    let db = TempDb::new()?;
    let dir = match o.world {
        WorldKind::Demo => o.fixtures.clone(),
        WorldKind::Generated => {
            let dir = db.dir.join("world");
            generated::write(o.seed, &o.fixtures, &dir)?;
            dir
        }
    };
    let map = CityMap::from_fixtures(&dir)?;
    let monday = o.start - Duration::days(i64::from(o.start.weekday().num_days_from_monday()));
    let start_utc = map
        .timezone
        .from_local_datetime(&monday.and_hms_opt(0, 0, 0).context("midnight")?)
        .earliest()
        .context("the start in the city's time zone")?
        .with_timezone(&Utc);

    let mut settings = o.settings.clone();
    settings.database_url = crate::settings::Secret::new(db.url());
    settings.redis_url = None;
    settings.bind = "127.0.0.1:0".into();
    settings.weather_dir = Some(o.fixtures.join("weather"));
    // The world is set up the day before the first Monday.
    let clock = Arc::new(ManualClock::new(start_utc - Duration::days(1)));
    let app = Application::build_with_clock(settings, clock.clone()).await?;
    let state = app.state();
    // Seeded ids: holdouts and tie-breaks read offer ids, so the same world needs the same ids.
    let loaded = crate::services::with_seeded_ids(o.seed, crate::demo::load(state, &dir)).await?;
    let catalog = state.engine.catalog().clone();
    wait_for_catalog(&catalog, &map, loaded.offers).await?;

    let people: Vec<Person> = (0..o.people)
        .map(|i| Person::generate(&map, o.seed, i))
        .collect();
    introduce(state, &people, clock.now()).await?;

    let weather = Arc::new(SeasonalWeather::new(
        o.seed,
        Climate::temperate(),
        clock.clone(),
    ));
    let (engine, kept) = state.engine.off_record_like(weather);
    let mut pings: Vec<Ping> = Vec::new();
    for week in 0..o.weeks {
        let week_monday = monday + Duration::weeks(i64::from(week));
        for p in &people {
            pings.extend(p.week(&map, week_monday, week));
        }
    }
    // Global time order; ties by person, then as generated (a stable sort).
    pings.sort_by_key(|p| (p.at, p.person));
    let mut tally = Tally::default();
    let mut seq: BTreeMap<usize, u64> = BTreeMap::new();
    for p in &pings {
        if p.at <= clock.now() {
            clock.advance(std::time::Duration::from_millis(1));
        } else {
            clock.set(p.at);
        }
        let n = seq.entry(p.person).or_default();
        *n += 1;
        let person = &people[p.person];
        let input = CheckinInput {
            checkin_id: format!("{}-{n}", person.user_id),
            user_id: person.user_id.clone(),
            device_id: None,
            lat: p.lat,
            lon: p.lon,
            accuracy_m: p.accuracy_m,
            recorded_at: clock.now(),
            speed_mps: p.speed_mps,
            activity: Some(p.activity),
            app_state: None,
            is_mocked: None,
        };
        tally.checkins += 1;
        if let Err(e) = engine.decide(DEFAULT_APP, input).await {
            let status = e.to_problem().status.to_string();
            *tally.errors.entry(status).or_default() += 1;
        }
        let week = ((p.at - start_utc).num_days().max(0) / 7) as u32;
        for r in kept.take() {
            tally.record(&r, p.person, week.min(o.weeks - 1));
        }
    }
    let config = engine.config().clone();
    let offer_caps: BTreeMap<Uuid, crate::limits::Caps> = loaded
        .brand_keys
        .iter()
        .filter_map(|(b, _)| BrandId::parse(b).ok())
        .flat_map(|b| catalog.offers_of(&b))
        .map(|offer| (offer.id, engine.caps_for(&offer)))
        .collect();
    let head = Head {
        world: match o.world {
            WorldKind::Demo => "demo",
            WorldKind::Generated => "generated",
        }
        .into(),
        seed: o.seed,
        start: monday,
        start_utc,
        people: people.len(),
        personalized: people.iter().filter(|p| p.personalization).count(),
        settings: SettingsSeen {
            quiet_hours: match config.quiet_hours {
                Some((a, b)) => format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60),
                None => "off".into(),
            },
            min_relevance: config.min_relevance,
        },
    };
    let report = tally.report(
        head,
        o.weeks,
        |id| offer_caps.get(id).copied().unwrap_or(config.caps),
        config.caps,
    );
    drop(engine);
    drop(app);
    drop(db);
    Ok(report)
}

/// Waits until the catalog holds every offer the loader created (it follows the change
/// feed, so it catches up a moment after the services answered).
async fn wait_for_catalog(
    catalog: &crate::catalog::Catalog,
    map: &CityMap,
    offers: usize,
) -> anyhow::Result<()> {
    let mut brands: Vec<&str> = map.fences.iter().map(|f| f.brand.as_str()).collect();
    brands.dedup();
    let brands: Vec<BrandId> = brands
        .into_iter()
        .filter_map(|b| BrandId::parse(b).ok())
        .collect();
    for _ in 0..500 {
        let live: usize = brands.iter().map(|b| catalog.offers_of(b).len()).sum();
        let mut hits = Vec::new();
        let f = &map.fences[map.fences.len() - 1];
        catalog.lookup(f.lat, f.lon, 10.0, &mut hits);
        if live >= offers && !hits.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    anyhow::bail!("the catalog did not load the demo world within 5 s")
}

/// Gives every person their consent (through the people service) and their follows and
/// interests (as events, through the event service).
async fn introduce(
    state: &crate::state::AppState,
    people: &[Person],
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let problem = |e: crate::error::ApiError| anyhow::anyhow!("{}", e.to_problem().detail);
    let mut events = Vec::new();
    for p in people {
        let yes = ConsentInput {
            location: true,
            personalization: p.personalization,
        };
        state
            .services
            .people
            .change_consent(DEFAULT_APP, &p.user_id, &yes)
            .await
            .map_err(problem)?;
        let at = (now - Duration::hours(1)).to_rfc3339();
        for b in &p.follows {
            events.push(EventInput(serde_json::json!({
                "event_id": format!("{}-follow-{b}", p.user_id),
                "user_id": p.user_id, "occurred_at": at, "type": "follow", "brand": b,
            })));
        }
        if !p.interests.is_empty() {
            events.push(EventInput(serde_json::json!({
                "event_id": format!("{}-traits", p.user_id),
                "user_id": p.user_id, "occurred_at": at, "type": "traits",
                "interests": p.interests,
            })));
        }
    }
    let app = Principal {
        key_id: "simulate".into(),
        role: Role::App,
        brand: None,
        app: Some(DEFAULT_APP.into()),
    };
    for batch in events.chunks(crate::events::MAX_BATCH) {
        state
            .services
            .events
            .ingest(&app, batch)
            .await
            .map_err(problem)?;
    }
    Ok(())
}

/// A throwaway SQLite database, removed when dropped.
struct TempDb {
    dir: PathBuf,
}

impl TempDb {
    fn new() -> anyhow::Result<Self> {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "geoffer-simulate-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self { dir })
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.dir.join("simulate.db").display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
