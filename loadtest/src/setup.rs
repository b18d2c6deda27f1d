//! Puts the generated world into a running geoffer through its public API: brands, an app
//! key, fences through the import endpoint and offers.

use crate::caps::{Limits, Window};
use crate::world::World;
use anyhow::{Context, bail};
use serde_json::{Value, json};

/// What setup created.
#[derive(Debug)]
pub struct Created {
    /// The app key the simulated SDK uses.
    pub app_key: String,
    /// Fences imported.
    pub fences: usize,
    /// Offer ids with their per-person caps, for the cap checker.
    pub limits: Limits,
    /// Offers created.
    pub offers: usize,
}

async fn call(
    client: &reqwest::Client,
    req: reqwest::RequestBuilder,
    what: &str,
) -> anyhow::Result<Value> {
    let _ = client;
    let resp = req.send().await.with_context(|| what.to_string())?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{what}: {status}: {body}");
    }
    Ok(body)
}

/// Creates brands, the app key, fences and offers; brands that exist already are reused.
pub async fn upload(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    world: &World,
) -> anyhow::Result<Created> {
    let now = chrono::Utc::now();
    let mut limits = Limits::default();
    let (mut fences, mut offers) = (0, 0);
    for (b, brand) in world.brands.iter().enumerate() {
        let resp = client
            .post(format!("{base}/v1/brands"))
            .bearer_auth(admin)
            .json(&json!({ "id": brand, "name": format!("Load test brand {b}") }))
            .send()
            .await?;
        if !resp.status().is_success() && resp.status().as_u16() != 409 {
            bail!("create brand {brand}: {}", resp.status());
        }
        let body = world.import_body(b);
        let n = body["features"].as_array().map_or(0, Vec::len);
        if n > 0 {
            let req = client
                .post(format!("{base}/v1/brands/{brand}/geofences/import"))
                .bearer_auth(admin)
                .json(&body);
            call(client, req, &format!("import {n} fences of {brand}")).await?;
            fences += n;
        }
        for offer in world.offers(b, now) {
            let req = client
                .post(format!("{base}/v1/brands/{brand}/offers"))
                .bearer_auth(admin)
                .json(&offer);
            let created = call(client, req, &format!("offer of {brand}")).await?;
            let id = created["id"].as_str().context("offer id")?.to_string();
            let pp = &offer["caps"]["per_person"];
            let count = pp["count"].as_u64().unwrap_or(1) as usize;
            let days = pp["period_days"].as_i64().unwrap_or(3650);
            limits
                .person_offer
                .insert(id, Window::per_days(count, days));
            offers += 1;
        }
    }
    let req = client
        .post(format!("{base}/v1/keys"))
        .bearer_auth(admin)
        .json(&json!({ "role": "app", "app": "loadtest" }));
    let key = call(client, req, "create the app key").await?;
    Ok(Created {
        app_key: key["key"].as_str().context("key")?.to_string(),
        fences,
        limits,
        offers,
    })
}
