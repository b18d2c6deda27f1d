//! `OfferStore`: a brand's offers, scoped by brand, paged by id, retired on delete.

use crate::fixtures::*;
use geoffer::store::Store;
use uuid::Uuid;

async fn a_created_offer_takes_its_id_and_times_from_the_time_passed_in(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let o = s
        .create_offer(&admin(), &acme, spec("Summer"), at(3))
        .await
        .unwrap();
    assert_eq!(
        (o.version, o.created_at, o.updated_at, &o.brand),
        (1, at(3), at(3), &acme)
    );
    let (secs, _) = o.id.get_timestamp().unwrap().to_unix();
    assert_eq!(secs as i64, at(3).timestamp());
    assert_eq!(s.get_offer(&acme, o.id).await.unwrap(), Some(o.clone()));
    let e = &last_change(s).await;
    assert_eq!(
        (
            e.entity.as_str(),
            e.action.as_str(),
            e.entity_id.clone(),
            e.at
        ),
        ("offer", "create", o.id.to_string(), at(3))
    );
    assert_eq!(e.after.as_ref().unwrap()["name"], "Summer");
}

async fn a_brand_cannot_see_or_change_another_brands_offers(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let beta = brand(s, "beta").await;
    let o = s
        .create_offer(&admin(), &acme, spec("Mine"), at(0))
        .await
        .unwrap();
    let b = brand_key(&beta);
    assert!(s.get_offer(&beta, o.id).await.unwrap().is_none());
    assert!(s.list_offers(&beta, None, 10).await.unwrap().is_empty());
    assert!(
        s.update_offer(&b, &beta, o.id, spec("Theirs"), at(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.delete_offer(&b, &beta, o.id, at(1))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.get_offer(&acme, o.id).await.unwrap().unwrap().spec.name,
        "Mine"
    );
}

async fn offers_are_paged_in_id_order_by_cursor(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            s.create_offer(&admin(), &acme, spec(&format!("O{i}")), at(0))
                .await
                .unwrap()
                .id,
        );
    }
    let first = s.list_offers(&acme, None, 2).await.unwrap();
    let second = s.list_offers(&acme, Some(first[1].id), 2).await.unwrap();
    let third = s.list_offers(&acme, Some(second[1].id), 2).await.unwrap();
    let seen: Vec<Uuid> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|o| o.id)
        .collect();
    ids.sort();
    assert_eq!(seen, ids);
    assert_eq!(third.len(), 1);
}

async fn an_update_makes_the_next_version_and_is_audited_before_and_after(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let o = s
        .create_offer(&admin(), &acme, spec("Old"), at(0))
        .await
        .unwrap();
    let new = s
        .update_offer(&brand_key(&acme), &acme, o.id, spec("New"), at(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (new.id, new.version, new.created_at, new.updated_at),
        (o.id, 2, at(0), at(6))
    );
    assert_eq!(
        s.get_offer(&acme, o.id).await.unwrap().unwrap().spec.name,
        "New"
    );
    let e = &last_change(s).await;
    assert_eq!(
        (e.action.as_str(), e.key_id.as_str(), e.at),
        ("update", "k-acme", at(6))
    );
    assert_eq!(e.before.as_ref().unwrap()["name"], "Old");
    assert_eq!(e.after.as_ref().unwrap()["name"], "New");
}

async fn a_deleted_offer_is_retired_but_still_labelled(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let o = s
        .create_offer(&admin(), &acme, spec("Gone"), at(0))
        .await
        .unwrap();
    let keep = s
        .create_offer(&admin(), &acme, spec("Kept"), at(0))
        .await
        .unwrap();
    let old = s
        .delete_offer(&admin(), &acme, o.id, at(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.id, o.id);
    assert!(s.get_offer(&acme, o.id).await.unwrap().is_none());
    assert_eq!(
        s.list_offers(&acme, None, 10)
            .await
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect::<Vec<_>>(),
        [keep.id]
    );
    assert_eq!(s.all_offers().await.unwrap().len(), 1);
    assert!(
        s.delete_offer(&admin(), &acme, o.id, at(3))
            .await
            .unwrap()
            .is_none(),
        "retired twice"
    );
    let labels = s.offer_labels(&[o.id.to_string()]).await.unwrap();
    assert_eq!(labels[&o.id.to_string()].name, "Gone");
    let e = &last_change(s).await;
    assert_eq!((e.action.as_str(), e.at), ("delete", at(2)));
    assert!(e.before.is_some() && e.after.is_none());
}

async fn updating_an_unknown_offer_is_none(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    assert!(
        s.update_offer(&admin(), &acme, Uuid::now_v7(), spec("X"), at(0))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.delete_offer(&admin(), &acme, Uuid::now_v7(), at(0))
            .await
            .unwrap()
            .is_none()
    );
}

store_tests!(
    a_created_offer_takes_its_id_and_times_from_the_time_passed_in,
    a_brand_cannot_see_or_change_another_brands_offers,
    offers_are_paged_in_id_order_by_cursor,
    an_update_makes_the_next_version_and_is_audited_before_and_after,
    a_deleted_offer_is_retired_but_still_labelled,
    updating_an_unknown_offer_is_none,
);
