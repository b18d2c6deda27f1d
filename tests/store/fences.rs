//! `FenceStore`: a brand's geofences, scoped by brand, paged by id, upserted by external id.
//!
//! Long (about 330 lines): the trait has seven methods, and each has its contract here.

use crate::fixtures::*;
use chrono::{DateTime, Utc};
use geoffer::domain::BrandId;
use geoffer::fences::{Fence, FenceDraft};
use geoffer::store::{FencePage, Store, StoreError, Upserted};
use uuid::Uuid;

/// Imports `drafts` as the admin, unwrapped.
async fn put(
    s: &dyn Store,
    brand: &BrandId,
    drafts: Vec<FenceDraft>,
    upsert: bool,
    now: DateTime<Utc>,
) -> Vec<(Fence, Upserted)> {
    s.put_fences(&admin(), brand, drafts, upsert, now)
        .await
        .unwrap()
}

fn page(limit: u32) -> FencePage {
    FencePage {
        limit,
        ..Default::default()
    }
}

async fn new_fences_get_ids_and_times_from_the_time_passed_in(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let out = put(
        s,
        &acme,
        vec![fence("A", None, &[]), fence("B", None, &[])],
        false,
        at(10),
    )
    .await;
    assert_eq!(out.len(), 2);
    for (f, how) in &out {
        assert_eq!(*how, Upserted::Created);
        assert_eq!((f.version, f.created_at, f.updated_at), (1, at(10), at(10)));
        let (secs, _) = f.id.get_timestamp().unwrap().to_unix();
        assert_eq!(
            secs as i64,
            at(10).timestamp(),
            "the id carries the time passed in"
        );
        assert_eq!(s.get_fence(&acme, f.id).await.unwrap().as_ref(), Some(f));
    }
    assert!(
        out[0].0.id < out[1].0.id,
        "ids minted together sort in draft order"
    );
}

async fn a_brand_cannot_see_or_change_another_brands_fences(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let beta = brand(s, "beta").await;
    let out = put(s, &acme, vec![fence("A", None, &["x"])], false, at(0)).await;
    let id = out[0].0.id;
    let b = brand_key(&beta);
    assert!(s.get_fence(&beta, id).await.unwrap().is_none());
    assert!(s.list_fences(&beta, &page(10)).await.unwrap().is_empty());
    assert!(
        s.update_fence(&b, &beta, id, fence("Z", None, &[]), at(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.delete_fence(&b, &beta, id, at(1))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.missing_fences(&beta, &[id]).await.unwrap(), [id]);
    assert!(s.missing_fences(&acme, &[id]).await.unwrap().is_empty());
    let kept = s.get_fence(&acme, id).await.unwrap().unwrap();
    assert_eq!((kept.draft.name.as_str(), kept.version), ("A", 1));
}

async fn fences_are_paged_in_id_order_by_cursor_and_filtered_by_tag(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let drafts = (0..7)
        .map(|i| {
            fence(
                &format!("F{i}"),
                None,
                if i % 2 == 0 { &["even"] } else { &["odd"] },
            )
        })
        .collect();
    let all = put(s, &acme, drafts, false, at(0)).await;
    let mut seen = Vec::new();
    let mut p = page(3);
    loop {
        let got = s.list_fences(&acme, &p).await.unwrap();
        seen.extend(got.iter().map(|f| f.id));
        match got.last() {
            Some(last) if got.len() == 3 => p.after = Some(last.id),
            _ => break,
        }
    }
    let mut want: Vec<Uuid> = all.iter().map(|(f, _)| f.id).collect();
    want.sort();
    assert_eq!(seen, want);
    let even = s
        .list_fences(
            &acme,
            &FencePage {
                tag: Some("even".into()),
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        even.iter()
            .map(|f| f.draft.name.as_str())
            .collect::<Vec<_>>(),
        ["F0", "F2", "F4", "F6"]
    );
}

async fn an_upsert_replaces_by_external_id_keeping_id_and_creation_time(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let first = put(
        s,
        &acme,
        vec![fence("Old", Some("store-1"), &[])],
        true,
        at(0),
    )
    .await;
    let old = &first[0].0;
    let out = put(
        s,
        &acme,
        vec![
            fence("New", Some("store-1"), &["t"]),
            fence("Other", Some("store-2"), &[]),
        ],
        true,
        at(5),
    )
    .await;
    assert_eq!(out[0].1, Upserted::Updated);
    assert_eq!(out[1].1, Upserted::Created);
    let new = &out[0].0;
    assert_eq!(
        (new.id, new.created_at, new.updated_at, new.version),
        (old.id, at(0), at(5), 2)
    );
    let stored = s.get_fence(&acme, old.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.draft.name.as_str(), stored.draft.tags.clone()),
        ("New", vec!["t".to_string()])
    );
    assert_eq!(s.list_fences(&acme, &page(10)).await.unwrap().len(), 2);
}

async fn the_same_external_id_in_another_brand_is_another_fence(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let beta = brand(s, "beta").await;
    put(
        s,
        &acme,
        vec![fence("A", Some("store-1"), &[])],
        true,
        at(0),
    )
    .await;
    let out = put(
        s,
        &beta,
        vec![fence("B", Some("store-1"), &[])],
        true,
        at(1),
    )
    .await;
    assert_eq!(out[0].1, Upserted::Created);
    assert_eq!(
        s.list_fences(&acme, &page(10)).await.unwrap()[0].draft.name,
        "A"
    );
}

async fn without_upsert_an_existing_external_id_is_a_conflict_and_nothing_is_written(
    s: &dyn Store,
) {
    let acme = brand(s, "acme").await;
    put(
        s,
        &acme,
        vec![fence("A", Some("store-1"), &[])],
        false,
        at(0),
    )
    .await;
    let err = s
        .put_fences(
            &admin(),
            &acme,
            vec![fence("New", None, &[]), fence("Dup", Some("store-1"), &[])],
            false,
            at(1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let left = s.list_fences(&acme, &page(10)).await.unwrap();
    assert_eq!(
        left.iter()
            .map(|f| f.draft.name.as_str())
            .collect::<Vec<_>>(),
        ["A"]
    );
    let log = changes(s, Some("acme"), 10).await;
    assert_eq!(
        log.iter().filter(|e| e.entity == "geofence").count(),
        1,
        "the failed import left no audit entry"
    );
}

async fn an_update_makes_the_next_version_and_is_audited_before_and_after(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let id = put(s, &acme, vec![fence("A", None, &[])], false, at(0)).await[0]
        .0
        .id;
    let who = brand_key(&acme);
    let new = s
        .update_fence(&who, &acme, id, fence("B", None, &["t"]), at(9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (new.id, new.version, new.created_at, new.updated_at),
        (id, 2, at(0), at(9))
    );
    assert_eq!(s.get_fence(&acme, id).await.unwrap().unwrap(), new);
    let log = changes(s, Some("acme"), 1).await;
    let e = &log[0];
    assert_eq!(
        (e.action.as_str(), e.entity.as_str(), e.entity_id.clone()),
        ("update", "geofence", id.to_string())
    );
    assert_eq!(
        (e.key_id.as_str(), e.role.as_str(), e.at),
        ("k-acme", "brand", at(9))
    );
    assert_eq!(e.before.as_ref().unwrap()["properties"]["name"], "A");
    assert_eq!(e.after.as_ref().unwrap()["properties"]["name"], "B");
}

async fn updating_or_deleting_an_unknown_fence_is_none(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let id = Uuid::now_v7();
    assert!(
        s.update_fence(&admin(), &acme, id, fence("A", None, &[]), at(0))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.delete_fence(&admin(), &acme, id, at(0))
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_deleted_fence_is_gone_and_its_deletion_audited(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let id = put(s, &acme, vec![fence("A", None, &["t"])], false, at(0)).await[0]
        .0
        .id;
    let old = s
        .delete_fence(&admin(), &acme, id, at(4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.id, id);
    assert!(s.get_fence(&acme, id).await.unwrap().is_none());
    assert!(s.all_fences().await.unwrap().is_empty());
    let tagged = FencePage {
        tag: Some("t".into()),
        limit: 10,
        after: None,
    };
    assert!(s.list_fences(&acme, &tagged).await.unwrap().is_empty());
    let e = &last_change(s).await;
    assert_eq!((e.action.as_str(), e.at), ("delete", at(4)));
    assert!(e.before.is_some() && e.after.is_none());
}

async fn all_fences_holds_every_brands_fences(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let beta = brand(s, "beta").await;
    put(s, &acme, vec![fence("A", None, &[])], false, at(0)).await;
    put(
        s,
        &beta,
        vec![fence("B", None, &[]), fence("C", None, &[])],
        false,
        at(0),
    )
    .await;
    let mut names: Vec<String> = s
        .all_fences()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.draft.name)
        .collect();
    names.sort();
    assert_eq!(names, ["A", "B", "C"]);
}

store_tests!(
    new_fences_get_ids_and_times_from_the_time_passed_in,
    a_brand_cannot_see_or_change_another_brands_fences,
    fences_are_paged_in_id_order_by_cursor_and_filtered_by_tag,
    an_upsert_replaces_by_external_id_keeping_id_and_creation_time,
    the_same_external_id_in_another_brand_is_another_fence,
    without_upsert_an_existing_external_id_is_a_conflict_and_nothing_is_written,
    an_update_makes_the_next_version_and_is_audited_before_and_after,
    updating_or_deleting_an_unknown_fence_is_none,
    a_deleted_fence_is_gone_and_its_deletion_audited,
    all_fences_holds_every_brands_fences,
);
