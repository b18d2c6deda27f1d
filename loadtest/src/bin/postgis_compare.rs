//! geoffer's fence index vs PostGIS on the same generated world: load time,
//! lookups/s and per-point agreement. Run through `postgis_compare.sh`.
//!
//! `PG_URL="host=127.0.0.1 user=postgres" cargo run --release --bin postgis_compare -- [--fences 200000] [--points 20000] [--seed 42]`
//!
//! PostGIS side: circles are `geography` points matched with
//! `ST_DWithin(geog, pt, radius, use_spheroid => false)` (sphere, like our
//! haversine), areas are `geometry` MultiPolygons matched with `ST_Intersects`
//! (planar lon/lat, boundary inclusive, like ours). Both have GiST indexes.
//!
//! About 370 lines: one comparison program with both sides' loaders.

#[path = "shared/world.rs"]
mod world;

use geoffer::fences::index::{FenceIndex, IndexedFence, Shape, haversine_m};
use postgres::{Client, NoTls};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;
use uuid::Uuid;
use world::{Probe, arg, generate};

const DB: &str = "geoffer_fences";
type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Per point, with `$4` = the largest radius so the GiST index can be used
/// (`ST_DWithin` with a per-row radius cannot drive an index scan).
const QUERY: &str = "
    SELECT id FROM circles
     WHERE ST_DWithin(geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, $4, false)
       AND ST_DWithin(geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, radius_m, false)
       AND $3::float8 <= max_acc
    UNION ALL
    SELECT id FROM areas
     WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) AND $3::float8 <= max_acc";

/// The same lookup for a batch of points (server-side throughput, no round trip per point).
const BATCH: &str = "
    SELECT q.i, m.id
      FROM unnest($1::float8[], $2::float8[], $3::float8[]) WITH ORDINALITY AS q(lon, lat, acc, i)
     CROSS JOIN LATERAL (
        SELECT id FROM circles
         WHERE ST_DWithin(geog, ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)::geography, $4, false)
           AND ST_DWithin(geog, ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)::geography, radius_m, false)
           AND q.acc <= max_acc
        UNION ALL
        SELECT id FROM areas
         WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)) AND q.acc <= max_acc
     ) m";

fn main() -> Res<()> {
    let n_fences: usize = arg("--fences", 200_000);
    let n_points: usize = arg("--points", 20_000);
    let seed: u64 = arg("--seed", 42);
    let url = std::env::var("PG_URL").unwrap_or_else(|_| "host=127.0.0.1 user=postgres".into());
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut add = |k: &str, ours: String, pg: String| {
        eprintln!("  {k}: {ours} | {pg}");
        rows.push((k.into(), ours, pg));
    };

    // Extra probes placed exactly on fence boundaries (polygon vertices, points
    // at exactly r from a circle's centre) to exercise the boundary rules.
    let boundary: usize = arg("--boundary-probes", 0);
    let mut w = generate(n_fences, n_points, seed);
    add_boundary_probes(&mut w, boundary);
    let t = Instant::now();
    let index = FenceIndex::build(w.fences.clone());
    let ours_load = t.elapsed();

    let mut pg = connect(&url)?;
    let t = Instant::now();
    load(&mut pg, &w.fences)?;
    let pg_load = t.elapsed();
    add(
        "load + index build",
        format!("{:.2} s", ours_load.as_secs_f64()),
        format!("{:.2} s (COPY + GiST + ANALYZE)", pg_load.as_secs_f64()),
    );

    // Ours, single thread, all points.
    let t = Instant::now();
    let mut out = Vec::new();
    let ours: Vec<Vec<Uuid>> = w
        .points
        .iter()
        .map(|p| {
            index.query(p.lat, p.lon, p.accuracy_m, &mut out);
            out.iter().map(|m| m.id).collect()
        })
        .collect();
    let ours_rate = w.points.len() as f64 / t.elapsed().as_secs_f64();

    let max_r = w
        .fences
        .iter()
        .map(|f| {
            if let Shape::Circle { radius_m, .. } = f.shape {
                radius_m
            } else {
                0.0
            }
        })
        .fold(0.0, f64::max);
    let stmt = pg.prepare(QUERY)?;
    let t = Instant::now();
    let mut theirs: Vec<Vec<Uuid>> = Vec::with_capacity(w.points.len());
    for p in &w.points {
        let mut ids: Vec<Uuid> = pg
            .query(&stmt, &[&p.lon, &p.lat, &p.accuracy_m, &max_r])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ids.sort();
        ids.dedup();
        theirs.push(ids);
    }
    let pg_rate = w.points.len() as f64 / t.elapsed().as_secs_f64();
    add(
        "lookups/s, 1 thread / 1 connection, one query per point",
        format!("{ours_rate:.0}"),
        format!("{pg_rate:.0} (ours is {:.0}x)", ours_rate / pg_rate),
    );

    let batch_rate = batched(&url, &w.points, max_r)?;
    let ours2 = two_threads(&index, &w.points);
    add(
        "lookups/s, 2 threads / 2 connections, 1000 points per statement",
        format!("{ours2:.0}"),
        format!("{batch_rate:.0} (ours is {:.0}x)", ours2 / batch_rate),
    );

    let report = agreement(&mut pg, &w, &ours, &theirs)?;
    add("points where both agree", report.0, String::new());
    println!("| metric | geoffer FenceIndex | PostGIS 3 / PostgreSQL 15 |\n| --- | --- | --- |");
    for (k, a, b) in &rows {
        println!("| {k} | {a} | {b} |");
    }
    println!(
        "\nfences {} (circles on geography, areas on geometry), points {}, seed {seed}",
        w.fences.len(),
        w.points.len()
    );
    if !report.1.is_empty() {
        println!("\ndifferences:\n{}", report.1);
    }
    Ok(())
}

fn add_boundary_probes(w: &mut world::World, n: usize) {
    let r = geoffer::fences::index::EARTH_RADIUS_M;
    for i in 0..n {
        let f = &w.fences[(i * 7_919) % w.fences.len()];
        let (lat, lon) = match &f.shape {
            Shape::Circle { lon, lat, radius_m } => {
                // Spherical destination at exactly `radius_m`, bearing from i.
                let (p1, l1, b, d) = (
                    lat.to_radians(),
                    lon.to_radians(),
                    (i as f64 * 37.0).to_radians(),
                    radius_m / r,
                );
                let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
                let l2 = l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
                (
                    p2.to_degrees(),
                    (l2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0,
                )
            }
            Shape::Area(mp) => {
                let ring = &mp.0[0].exterior().0;
                let c = ring[i % (ring.len() - 1)];
                (c.y, c.x)
            }
        };
        w.points.push(Probe {
            lat,
            lon,
            accuracy_m: 1.0,
        });
    }
}

fn connect(url: &str) -> Res<Client> {
    let mut admin = Client::connect(&format!("{url} dbname=postgres"), NoTls)?;
    if admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DB])?
        .is_none()
    {
        admin.batch_execute(&format!("CREATE DATABASE {DB}"))?;
    }
    let mut c = Client::connect(&format!("{url} dbname={DB}"), NoTls)?;
    c.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis")?;
    Ok(c)
}

fn wkt(mp: &geo::MultiPolygon<f64>) -> String {
    let mut s = String::from("SRID=4326;MULTIPOLYGON(");
    for (i, p) in mp.0.iter().enumerate() {
        s.push_str(if i == 0 { "(" } else { ",(" });
        for (j, ring) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            s.push_str(if j == 0 { "(" } else { ",(" });
            for (k, c) in ring.0.iter().enumerate() {
                // `{}` prints the shortest string that round-trips the f64 exactly.
                let _ = write!(s, "{}{} {}", if k == 0 { "" } else { "," }, c.x, c.y);
            }
            s.push(')');
        }
        s.push(')');
    }
    s.push(')');
    s
}

fn load(c: &mut Client, fences: &[IndexedFence]) -> Res<()> {
    c.batch_execute(
        "DROP TABLE IF EXISTS circles, areas;
         CREATE TABLE circles (id uuid PRIMARY KEY, geog geography(Point, 4326) NOT NULL, radius_m float8 NOT NULL, max_acc real NOT NULL);
         CREATE TABLE areas (id uuid PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL, max_acc real NOT NULL);",
    )?;
    let mut cw = c.copy_in("COPY circles FROM STDIN")?;
    for f in fences {
        if let Shape::Circle { lon, lat, radius_m } = f.shape {
            writeln!(
                cw,
                "{}\tSRID=4326;POINT({lon} {lat})\t{radius_m}\t{}",
                f.id, f.max_accuracy_m
            )?;
        }
    }
    cw.finish()?;
    let mut aw = c.copy_in("COPY areas FROM STDIN")?;
    for f in fences {
        if let Shape::Area(mp) = &f.shape {
            writeln!(aw, "{}\t{}\t{}", f.id, wkt(mp), f.max_accuracy_m)?;
        }
    }
    aw.finish()?;
    c.batch_execute(
        "CREATE INDEX circles_geog ON circles USING gist (geog);
         CREATE INDEX areas_geom ON areas USING gist (geom);
         ANALYZE circles; ANALYZE areas;",
    )?;
    Ok(())
}

/// PostGIS throughput without per-point round trips: 2 connections, 1000 points per statement.
fn batched(url: &str, points: &[Probe], max_r: f64) -> Res<f64> {
    let t = Instant::now();
    std::thread::scope(|s| -> Res<()> {
        let handles: Vec<_> = points
            .chunks(points.len().div_ceil(2))
            .map(|half| {
                s.spawn(move || -> Result<(), String> {
                    let mut c = Client::connect(&format!("{url} dbname={DB}"), NoTls)
                        .map_err(|e| e.to_string())?;
                    let stmt = c.prepare(BATCH).map_err(|e| e.to_string())?;
                    for chunk in half.chunks(1000) {
                        let lon: Vec<f64> = chunk.iter().map(|p| p.lon).collect();
                        let lat: Vec<f64> = chunk.iter().map(|p| p.lat).collect();
                        let acc: Vec<f64> = chunk.iter().map(|p| p.accuracy_m).collect();
                        c.query(&stmt, &[&lon, &lat, &acc, &max_r])
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "batch thread panicked")??;
        }
        Ok(())
    })?;
    Ok(points.len() as f64 / t.elapsed().as_secs_f64())
}

/// Our lookups/s on two threads over the same points (3 passes each).
fn two_threads(index: &FenceIndex, points: &[Probe]) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut out = Vec::new();
                for _ in 0..3 {
                    for p in points {
                        index.query(p.lat, p.lon, p.accuracy_m, &mut out);
                    }
                }
            });
        }
    });
    (6 * points.len()) as f64 / t.elapsed().as_secs_f64()
}

/// Counts agreeing points and explains differences with both sides'
/// distances: a per-kind tally plus the first few cases in detail.
fn agreement(
    c: &mut Client,
    w: &world::World,
    ours: &[Vec<Uuid>],
    theirs: &[Vec<Uuid>],
) -> Res<(String, String)> {
    const SHOWN: usize = 8;
    let by_id: HashMap<Uuid, &IndexedFence> = w.fences.iter().map(|f| (f.id, f)).collect();
    let (mut same, mut details) = (0usize, String::new());
    let mut tally: HashMap<String, (usize, f64)> = HashMap::new();
    let matches: usize = ours.iter().map(Vec::len).sum();
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        if a == b {
            same += 1;
            continue;
        }
        let p = w.points[i];
        let only_ours = a
            .iter()
            .filter(|x| !b.contains(x))
            .map(|x| (x, "only geoffer"));
        let only_pg = b
            .iter()
            .filter(|x| !a.contains(x))
            .map(|x| (x, "only PostGIS"));
        for (id, side) in only_ours.chain(only_pg) {
            let (kind, gap, why) = match &by_id[id].shape {
                Shape::Circle { lon, lat, radius_m } => {
                    let pg: f64 = c
                        .query_one(
                            "SELECT ST_Distance(geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, false) FROM circles WHERE id = $3",
                            &[&p.lon, &p.lat, id],
                        )?
                        .get(0);
                    let ours_d = haversine_m(*lat, *lon, p.lat, p.lon);
                    let why = format!(
                        "r {radius_m} m, haversine {ours_d:.9} m, PostGIS sphere {pg:.9} m"
                    );
                    ("circle", (ours_d - radius_m).abs(), why)
                }
                Shape::Area(_) => {
                    let d: f64 = c
                        .query_one(
                            "SELECT ST_Distance(ST_Boundary(geom), ST_SetSRID(ST_MakePoint($1, $2), 4326)) FROM areas WHERE id = $3",
                            &[&p.lon, &p.lat, id],
                        )?
                        .get(0);
                    (
                        "polygon",
                        d,
                        format!("planar distance to the boundary {d:e} degrees"),
                    )
                }
            };
            let t = tally.entry(format!("{side}, {kind}")).or_insert((0, 0.0));
            t.0 += 1;
            t.1 = t.1.max(gap);
            if details.lines().count() < SHOWN {
                let _ = writeln!(
                    details,
                    "- point {i} ({}, {}): {side} {id}: {why}",
                    p.lat, p.lon
                );
            }
        }
    }
    let mut summary = format!("{same} / {} ({matches} matches in total)", ours.len());
    for (k, (n, gap)) in &tally {
        let _ = write!(summary, "; {k}: {n} (max distance from boundary {gap:.2e})");
    }
    Ok((summary, details))
}
