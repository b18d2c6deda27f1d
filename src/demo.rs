//! `serve --demo`: a fresh embedded database loaded from `fixtures/`, keys printed, and
//! copy-paste curl commands. The fixtures go through the API's own services, so the same
//! validation, store writes and change-feed publishes.

use crate::api::extract::parse_json;
use crate::auth::{Principal, Role};
use crate::offers::OfferSpec;
use crate::people::ConsentInput;
use crate::services::catalog::{ImportInput, NewBrand};
use crate::state::AppState;
use anyhow::Context;
use std::path::Path;

/// The consented demo person the printed check-ins speak for.
pub const DEMO_USER: &str = "demo-user";

/// Where the demo database lives; replaced on every `--demo` start.
const DEMO_DB: &str = "data/demo.db";

/// Removes any previous demo database and returns the URL of a fresh one.
pub fn fresh_database_url() -> anyhow::Result<String> {
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{DEMO_DB}{suffix}");
        if Path::new(&path).exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing {path}"))?;
        }
    }
    Ok(format!("sqlite://{DEMO_DB}"))
}

/// Keys and names created for the demo.
pub struct DemoWorld {
    /// Admin key.
    pub admin_key: String,
    /// (brand id, brand key).
    pub brand_keys: Vec<(String, String)>,
    /// App key (check-ins).
    pub app_key: String,
    /// Support key.
    pub support_key: String,
    /// Fences loaded.
    pub fences: usize,
    /// Offers loaded.
    pub offers: usize,
}

/// Loads brands, fences and offers from `dir` and creates one key per role, through the same
/// services (and so the same validation) as the API.
pub async fn load(state: &AppState, dir: &Path) -> anyhow::Result<DemoWorld> {
    let (catalog, people) = (&state.services.catalog, &state.services.people);
    let admin = catalog.bootstrap_key(Role::Admin, None).await?;
    let actor = Principal {
        key_id: admin.record.id.clone(),
        role: Role::Admin,
        brand: None,
        app: None,
    };
    let brands: Vec<NewBrand> = read_json(&dir.join("brands.json"))?;
    let (mut fences, mut offers, mut brand_keys) = (0, 0, Vec::new());
    for b in brands {
        let brand = catalog.create_brand(&actor, b).await?;
        let id = brand.id.to_string();
        let key = catalog
            .bootstrap_key(Role::Brand, Some(brand.id.clone()))
            .await?;
        brand_keys.push((id.clone(), key.plaintext));

        let path = dir.join("geofences").join(format!("{id}.geojson"));
        let fc: ImportInput = read_json(&path)?;
        let imported = catalog
            .import_fences(&actor, &id, &fc)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_problem().detail))?;
        fences += imported.ids.len();

        let path = dir.join("offers").join(format!("{id}.json"));
        let specs: Vec<OfferSpec> = read_json(&path)?;
        for (i, spec) in specs.into_iter().enumerate() {
            catalog.create_offer(&actor, &id, spec).await.map_err(|e| {
                let p = e.to_problem();
                anyhow::anyhow!("{} offer {i}: {} {:?}", path.display(), p.detail, p.errors)
            })?;
            offers += 1;
        }
    }
    let app = catalog.bootstrap_key(Role::App, None).await?;
    // The demo person has said yes, so the printed check-in works without a consent step.
    let yes = ConsentInput {
        location: true,
        personalization: true,
    };
    people
        .change_consent(crate::auth::DEFAULT_APP, DEMO_USER, &yes)
        .await?;
    let support = catalog.bootstrap_key(Role::Support, None).await?;
    Ok(DemoWorld {
        admin_key: admin.plaintext,
        brand_keys,
        app_key: app.plaintext,
        support_key: support.plaintext,
        fences,
        offers,
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    parse_json(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Prints the keys and three curl commands to stdout.
pub fn print_instructions(w: &DemoWorld, port: u16) {
    let base = format!("http://127.0.0.1:{port}");
    let (brand, brand_key) = w.brand_keys.first().cloned().unwrap_or_default();
    println!(
        "\ngeoffer demo: {} fences and {} offers loaded from fixtures/\n",
        w.fences, w.offers
    );
    println!("keys (demo only):");
    println!("  admin    {}", w.admin_key);
    for (b, k) in &w.brand_keys {
        println!("  brand    {k}   ({b})");
    }
    println!("  app      {}", w.app_key);
    println!("  support  {}\n", w.support_key);
    println!("# 0. the console: open it in a browser and sign in with the {brand} brand key above");
    println!("{base}/console");
    println!(
        "#    Try it: click a point on the map to see what a test person would get there (nothing is recorded)"
    );
    println!("{base}/console/brands/{brand}/try\n");
    println!("# 1. a brand lists its fences");
    println!(
        "curl -s -H 'Authorization: Bearer {brand_key}' '{base}/v1/brands/{brand}/geofences?limit=2'\n"
    );
    let checkin = |id: &str, lat: f64, lon: f64| {
        format!(
            "curl -s -X POST -H 'Authorization: Bearer {}' -H 'content-type: application/json' '{base}/v1/checkins' \\\n  \
             -d \"{{\\\"checkin_id\\\":\\\"{id}\\\",\\\"user_id\\\":\\\"{DEMO_USER}\\\",\\\"lat\\\":{lat},\\\"lon\\\":{lon},\\\"accuracy_m\\\":15,\\\"recorded_at\\\":\\\"$(date -u +%FT%TZ)\\\"}}\"",
            w.app_key
        )
    };
    println!("# 2. a check-in a block from ChillCo 5th Ave & 34th St: gets an offer");
    println!("{}\n", checkin("demo-1", 40.7490, -73.9860));
    println!("# 3. a check-in in the middle of the Hudson River: no fence, no offer, nothing kept");
    println!("{}\n", checkin("demo-2", 40.7600, -74.0200));
    println!("# then: why did the first one get its offer? (support key)");
    println!(
        "curl -s -H 'Authorization: Bearer {}' '{base}/v1/decisions/demo-1'\n",
        w.support_key
    );
    println!(
        "(demo mode: quiet hours are off so the check-in works at any hour; production default 21:00-08:00 local)"
    );
}
