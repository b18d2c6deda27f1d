//! `SupportStore`: deliveries newest first by keyset, offer labels, timelines oldest first.

use crate::fixtures::*;
use chrono::Duration;
use geoffer::decisions::{DecisionRecord, DeliveryFilter, DeliveryKey, TimelineKey};
use geoffer::store::Store;
use std::collections::HashSet;
use uuid::Uuid;

/// 30 deliveries in threes sharing a millisecond, two brands and five users.
async fn seed(s: &dyn Store) -> Vec<DecisionRecord> {
    let batch: Vec<_> = (0..30)
        .map(|i| {
            let brand = if i % 3 == 0 { "beta" } else { "acme" };
            let offer = Uuid::from_u128(if i % 3 == 0 { 2 } else { 1 });
            delivered(
                &format!("c{i}"),
                &format!("u{}", i % 5),
                brand,
                offer,
                t0() + Duration::seconds(i / 3),
            )
        })
        .collect();
    s.save_decisions(batch.clone()).await.unwrap();
    batch
}

async fn deliveries_page_newest_first_without_repeats_or_gaps(s: &dyn Store) {
    let seeded = seed(s).await;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .list_deliveries(&DeliveryFilter::default(), after, 4)
            .await
            .unwrap();
        seen.extend(page.iter().cloned());
        match page.last() {
            Some(last) if page.len() == 4 => after = Some(DeliveryKey::of(last)),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 30);
    let ids: HashSet<Uuid> = seen.iter().map(|d| d.id).collect();
    assert_eq!(ids, seeded.iter().map(delivery_id).collect());
    let keys: Vec<(i64, Uuid)> = seen
        .iter()
        .map(|d| (d.created_at.timestamp_millis(), d.id))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "(created_at, id) descending"
    );
}

async fn deliveries_are_filtered_by_brand_person_offer_status_and_time(s: &dyn Store) {
    seed(s).await;
    let count =
        |f: DeliveryFilter| async move { s.list_deliveries(&f, None, 100).await.unwrap().len() };
    assert_eq!(
        count(DeliveryFilter {
            brand: Some("beta".into()),
            ..Default::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(DeliveryFilter {
            person: Some(person("u0").to_string()),
            ..Default::default()
        })
        .await,
        6
    );
    assert_eq!(
        count(DeliveryFilter {
            offer_id: Some(Uuid::from_u128(1)),
            ..Default::default()
        })
        .await,
        20
    );
    assert_eq!(
        count(DeliveryFilter {
            fence_id: Some(Uuid::from_u128(8)),
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(DeliveryFilter {
            status: Some("opened".into()),
            ..Default::default()
        })
        .await,
        0
    );
    let window = DeliveryFilter {
        from: Some(t0() + Duration::seconds(2)),
        to: Some(t0() + Duration::seconds(4)),
        ..Default::default()
    };
    assert_eq!(count(window).await, 6, "from inclusive, to exclusive");
}

async fn a_delivery_is_read_by_id(s: &dyn Store) {
    let seeded = seed(s).await;
    let d = s
        .get_delivery(delivery_id(&seeded[4]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            d.checkin_id.as_str(),
            d.user_id.as_str(),
            d.brand.as_str(),
            d.status.as_str()
        ),
        ("c4", "u4", "acme", "delivered")
    );
    assert_eq!(d.redemption_code.as_deref(), Some("CODE-c4"));
    assert!(s.get_delivery(Uuid::new_v4()).await.unwrap().is_none());
}

async fn offer_labels_name_known_offers_and_leave_unknown_ones_out(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let o = s
        .create_offer(&admin(), &acme, spec("Drinks"), t0())
        .await
        .unwrap();
    let labels = s
        .offer_labels(&[o.id.to_string(), Uuid::new_v4().to_string()])
        .await
        .unwrap();
    assert_eq!(labels.len(), 1);
    let l = &labels[&o.id.to_string()];
    assert_eq!((l.brand.as_str(), l.name.as_str()), ("acme", "Drinks"));
}

async fn a_timeline_pages_oldest_first_across_consent_decisions_and_deliveries(s: &dyn Store) {
    s.put_consent(
        "default",
        "u1",
        &geoffer::people::ConsentInput {
            location: true,
            personalization: true,
        },
        at(0),
    )
    .await
    .unwrap();
    s.save_decisions(vec![
        delivered("c1", "u1", "acme", Uuid::from_u128(1), at(1)),
        decision("c2", "u1", at(2)),
        decision("c3", "u2", at(2)),
    ])
    .await
    .unwrap();
    let all = s.timeline(&timeline_of("u1")).await.unwrap();
    let kinds: Vec<_> = all.iter().map(|r| (r.kind.as_str(), r.at)).collect();
    assert_eq!(
        kinds,
        [
            ("consent", at(0)),
            ("decision", at(1)),
            ("delivery", at(1)),
            ("decision", at(2))
        ]
    );
    let mut q = timeline_of("u1");
    q.limit = 2;
    let first = s.timeline(&q).await.unwrap();
    q.after = Some(TimelineKey::of(&first[1]));
    let second = s.timeline(&q).await.unwrap();
    assert_eq!(first.into_iter().chain(second).collect::<Vec<_>>(), all);
    let mut window = timeline_of("u1");
    window.from = Some(at(1));
    window.to = Some(at(2));
    assert_eq!(s.timeline(&window).await.unwrap().len(), 2);
}

async fn a_brands_timeline_holds_only_its_decisions_and_deliveries(s: &dyn Store) {
    s.put_consent(
        "default",
        "u1",
        &geoffer::people::ConsentInput {
            location: true,
            personalization: true,
        },
        at(0),
    )
    .await
    .unwrap();
    s.save_decisions(vec![
        delivered("c1", "u1", "acme", Uuid::from_u128(1), at(1)),
        delivered("c2", "u1", "beta", Uuid::from_u128(2), at(2)),
    ])
    .await
    .unwrap();
    let mut q = timeline_of("u1");
    q.brand = Some("beta".into());
    let rows = s.timeline(&q).await.unwrap();
    let kinds: Vec<_> = rows.iter().map(|r| (r.kind.as_str(), r.at)).collect();
    assert_eq!(
        kinds,
        [("decision", at(2)), ("delivery", at(2))],
        "no consent, nothing of acme"
    );
}

store_tests!(
    deliveries_page_newest_first_without_repeats_or_gaps,
    deliveries_are_filtered_by_brand_person_offer_status_and_time,
    a_delivery_is_read_by_id,
    offer_labels_name_known_offers_and_leave_unknown_ones_out,
    a_timeline_pages_oldest_first_across_consent_decisions_and_deliveries,
    a_brands_timeline_holds_only_its_decisions_and_deliveries,
);
