//! `ReplayStore`: a brand's recorded decisions and the deliveries a backtest's virtual limiter
//! replays, in time order, a keyset page at a time; and the per-cell, per-hour weather log.

use crate::fixtures::*;
use geoffer::decisions::replay::{LiveDeliveryQuery, MomentQuery};
use geoffer::store::{Erase, Store};
use geoffer::weather::{Condition, GridCell, WeatherLogEntry, hour_of};
use uuid::Uuid;

/// A "none" decision at a fence of `brand`.
fn at_brand(
    checkin: &str,
    user: &str,
    brand: &str,
    mins: i64,
) -> geoffer::decisions::DecisionRecord {
    geoffer::decisions::DecisionRecord {
        brands: vec![brand.to_string()],
        ..decision(checkin, user, at(mins))
    }
}

fn moments(brand: &str, from: i64, to: i64, limit: u32) -> MomentQuery {
    MomentQuery {
        brand: brand.into(),
        from: at(from),
        to: at(to),
        after: None,
        limit,
    }
}

async fn a_brands_moments_come_in_time_order_page_by_page(s: &dyn Store) {
    s.save_decisions(vec![
        at_brand("c3", "u1", "acme", 30),
        at_brand("c1", "u2", "acme", 10),
        at_brand("c2", "u3", "beta", 20),
        delivered("c4", "u1", "acme", Uuid::from_u128(1), at(40)),
        at_brand("c0", "u1", "acme", 0),
    ])
    .await
    .unwrap();
    let mut q = moments("acme", 5, 60, 2);
    let first = s.recorded_moments(&q).await.unwrap();
    assert_eq!(
        first
            .iter()
            .map(|m| m.checkin_id.as_str())
            .collect::<Vec<_>>(),
        ["c1", "c3"],
        "another brand's and those before the period are left out"
    );
    q.after = first.last().map(|m| m.key());
    let second = s.recorded_moments(&q).await.unwrap();
    assert_eq!(second.len(), 1);
    let m = &second[0];
    assert_eq!(
        (m.checkin_id.as_str(), m.user_id.as_str(), m.at, m.delivered),
        ("c4", "u1", at(40), Some(Uuid::from_u128(1)))
    );
    assert_eq!(m.person, person("u1").to_string());
    let trace = m.read_moment();
    assert!(trace.is_some(), "the stored trace reads back typed");
    q.after = Some(m.key());
    assert!(s.recorded_moments(&q).await.unwrap().is_empty());
}

async fn purged_traces_and_erased_people_are_not_replayed(s: &dyn Store) {
    s.save_decisions(vec![
        at_brand("old", "u1", "acme", 0),
        at_brand("c1", "u1", "acme", 50),
        at_brand("c2", "u2", "acme", 60),
    ])
    .await
    .unwrap();
    s.purge_traces(at(30), at(90)).await.unwrap();
    s.erase(&person("u2"), Erase::History).await.unwrap();
    let got = s
        .recorded_moments(&moments("acme", 0, 100, 10))
        .await
        .unwrap();
    assert_eq!(
        got.iter()
            .map(|m| m.checkin_id.as_str())
            .collect::<Vec<_>>(),
        ["c1"]
    );
}

async fn live_deliveries_hold_caps_from_before_and_leave_the_brands_own_to_the_replay(
    s: &dyn Store,
) {
    let old_acme = delivered("a0", "u1", "acme", Uuid::from_u128(1), at(0));
    let old_beta = delivered("b0", "u1", "beta", Uuid::from_u128(2), at(1));
    let recent_beta = delivered("b1", "u2", "beta", Uuid::from_u128(2), at(100));
    let in_acme = delivered("a1", "u3", "acme", Uuid::from_u128(1), at(200));
    let in_beta = delivered("b2", "u3", "beta", Uuid::from_u128(2), at(210));
    // Beta's offer went out at a check-in that also matched an acme fence: acme's replay
    // decides that check-in again, so it is not a live delivery to it.
    let mut shared = delivered("b3", "u4", "beta", Uuid::from_u128(2), at(220));
    shared.brands = vec!["acme".into(), "beta".into()];
    let after = delivered("b4", "u4", "beta", Uuid::from_u128(2), at(400));
    s.save_decisions(vec![
        old_acme.clone(),
        old_beta,
        recent_beta.clone(),
        in_acme,
        in_beta.clone(),
        shared,
        after,
    ])
    .await
    .unwrap();
    let mut q = LiveDeliveryQuery {
        brand: "acme".into(),
        since: at(50),
        from: at(150),
        to: at(300),
        after: None,
        limit: 2,
    };
    let mut got = Vec::new();
    loop {
        let page = s.live_deliveries(&q).await.unwrap();
        q.after = page.last().map(|d| (d.at.timestamp_millis(), d.id));
        let done = page.len() < 2;
        got.extend(page);
        if done {
            break;
        }
    }
    let ids: Vec<Uuid> = got.iter().map(|d| d.id).collect();
    assert_eq!(
        ids,
        [
            delivery_id(&old_acme),
            delivery_id(&recent_beta),
            delivery_id(&in_beta)
        ],
        "acme's own however old, every brand's since `since`, none of acme's check-ins in the period"
    );
    let d = &got[1];
    assert_eq!(
        (
            d.brand.as_str(),
            d.user_id.as_str(),
            d.checkin_id.as_str(),
            d.at
        ),
        ("beta", "u2", "b1", at(100))
    );
    assert_eq!(d.person, person("u2").to_string());
    assert_eq!(d.offer_id, Uuid::from_u128(2));
}

fn logged(cell: GridCell, mins: i64, temp_c: f64, condition: Condition) -> WeatherLogEntry {
    WeatherLogEntry {
        hour: hour_of(at(mins)),
        cell_row: cell.row,
        cell_col: cell.col,
        temp_c,
        feels_like_c: temp_c + 1.5,
        precipitation_mm: 0.25,
        condition: condition.as_str().to_string(),
        is_day: false,
    }
}

async fn the_weather_log_keeps_the_first_answer_of_each_cell_hour_until_retention(s: &dyn Store) {
    let (nyc, london) = (GridCell::of(40.749, -73.986), GridCell::of(51.5, -0.12));
    let first = [
        logged(nyc, 0, 31.5, Condition::Clear),
        logged(london, 0, 18.0, Condition::Rain),
        logged(nyc, 60, 29.0, Condition::Cloudy),
    ];
    assert_eq!(s.record_weather(&first).await.unwrap(), 3);
    // The same cell-hours again (another replica, or a write retried): the first stay.
    let again = [
        logged(nyc, 0, 10.0, Condition::Snow),
        logged(london, 120, 17.0, Condition::Drizzle),
    ];
    assert_eq!(s.record_weather(&again).await.unwrap(), 1);
    assert_eq!(s.record_weather(&[]).await.unwrap(), 0);
    let mut hour0 = s.weather_log(hour_of(at(0))).await.unwrap();
    hour0.sort_by_key(|e| (e.cell_row, e.cell_col));
    let mut want = vec![first[0].clone(), first[1].clone()];
    want.sort_by_key(|e| (e.cell_row, e.cell_col));
    assert_eq!(hour0, want, "every cell of the hour, as written");
    assert_eq!(
        s.weather_log(hour_of(at(60))).await.unwrap(),
        [first[2].clone()]
    );
    assert!(s.weather_log(hour_of(at(180))).await.unwrap().is_empty());
    assert_eq!(s.purge_weather_log(hour_of(at(60))).await.unwrap(), 2);
    assert!(s.weather_log(hour_of(at(0))).await.unwrap().is_empty());
    assert_eq!(s.weather_log(hour_of(at(60))).await.unwrap().len(), 1);
    assert_eq!(s.weather_log(hour_of(at(120))).await.unwrap().len(), 1);
}

store_tests!(
    the_weather_log_keeps_the_first_answer_of_each_cell_hour_until_retention,
    a_brands_moments_come_in_time_order_page_by_page,
    purged_traces_and_erased_people_are_not_replayed,
    live_deliveries_hold_caps_from_before_and_leave_the_brands_own_to_the_replay,
);
