//! CSV and NDJSON exports stream the same rows as the JSON pages, in batches, for any size.

use super::world::*;
use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// RFC 4180: quoted cells may hold commas, doubled quotes and line breaks; lines end in CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

async fn export(app: &TestApp, key: &str, query: &str, accept: &str) -> (String, String) {
    let res = app
        .client
        .get(format!("{}/v1/deliveries?{query}", app.base))
        .bearer_auth(key)
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    (ct, res.text().await.unwrap())
}

async fn pages(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let (mut out, mut cursor) = (Vec::new(), String::new());
    loop {
        let page = app
            .get(&format!("/v1/deliveries?limit=1000&{query}{cursor}"), key)
            .await;
        out.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

#[tokio::test]
async fn csv_and_ndjson_exports_round_trip_to_the_rows_of_the_json_pages() {
    let app = spawn_app().await;
    let key = app.key("support", None).await;
    let start: DateTime<Utc> = "2026-07-01T12:00:00Z".parse().unwrap();
    // More rows than one export batch, with copy that needs quoting.
    let titles = [
        "Plain",
        "Two, for one",
        "Say \"cheese\"",
        "Line\nbreak",
        "Café ☕",
    ];
    let batch: Vec<_> = (0..2_345)
        .map(|i| {
            let brand = if i % 3 == 0 { "beanline" } else { "chillco" };
            delivered(
                brand,
                "u-1",
                start + Duration::milliseconds(i * 250),
                titles[(i % 5) as usize],
            )
        })
        .collect();
    app.state.store.save_decisions(batch).await.unwrap();

    for query in ["", "brand=beanline"] {
        let json = pages(&app, &key, query).await;
        assert_eq!(json.len(), if query.is_empty() { 2_345 } else { 782 });

        let (ct, ndjson) = export(&app, &key, query, "application/x-ndjson").await;
        assert_eq!(ct, "application/x-ndjson");
        let lines: Vec<Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, json, "NDJSON {query}");

        let (ct, csv) = export(&app, &key, query, "text/csv").await;
        assert_eq!(ct, "text/csv; charset=utf-8");
        let rows = parse_csv(&csv);
        assert_eq!(rows[0], geoffer::support::export::COLUMNS);
        let as_text: Vec<Vec<String>> = json
            .iter()
            .map(|d| {
                rows[0]
                    .iter()
                    .map(|c| match &d[c.as_str()] {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(rows[1..], as_text[..], "CSV {query}");
    }
}

#[tokio::test]
async fn an_export_in_a_format_we_cannot_produce_is_refused_with_a_problem() {
    let app = spawn_app().await;
    let key = app.key("support", None).await;
    let res = app
        .client
        .get(format!("{}/v1/deliveries", app.base))
        .bearer_auth(&key)
        .header("accept", "application/pdf")
        .send()
        .await
        .unwrap();
    let a = read(res).await;
    let p = assert_problem(&a, 406);
    assert!(p["detail"].as_str().unwrap().contains("text/csv"), "{p}");
    assert_eq!(app.count_rows("audit_reads").await, 0);
}
