//! `PeopleStore`: consent, the profile, and what each level of erasure removes.

use crate::fixtures::*;
use geoffer::audit::{ReadQuery, ReadRecord};
use geoffer::decisions::DeliveryFilter;
use geoffer::events::EventKind;
use geoffer::people::ConsentInput;
use geoffer::store::{Applied, Erase, Store};
use serde_json::json;
use uuid::Uuid;

fn consent(location: bool, personalization: bool) -> ConsentInput {
    ConsentInput {
        location,
        personalization,
    }
}

/// A person with a profile (follow, traits, purchase), a delivery, a decision, a consent and
/// a support read naming them. Returns the delivered decision's delivery id.
async fn someone(s: &dyn Store, user: &str) -> Uuid {
    let p = person(user);
    s.put_consent("default", user, &consent(true, true), at(0))
        .await
        .unwrap();
    let offer = Uuid::from_u128(1);
    let d = delivered(&format!("c-{user}"), user, "acme", offer, at(1));
    let id = delivery_id(&d);
    s.save_decisions(vec![d]).await.unwrap();
    let follow = EventKind::Follow { brand: bid("acme") };
    let traits = EventKind::Traits {
        interests: vec!["coffee".into()],
        tier: None,
    };
    for (eid, kind) in [
        ("f", follow),
        ("t", traits),
        ("p", purchase("acme", "sku-1")),
        ("o", EventKind::Opened { delivery_id: id }),
    ] {
        let ev = event(&format!("{eid}-{user}"), user, kind, at(2));
        s.apply_event("default", &p, &ev, &json!({}), at(2))
            .await
            .unwrap();
    }
    s.record_read(&ReadRecord {
        at: at(3),
        key_id: "k-support".into(),
        role: "support".into(),
        brand: None,
        what: "timeline",
        app: Some("default".into()),
        subject: Some(user.into()),
        query: format!("user_id={user}"),
    })
    .await
    .unwrap();
    id
}

/// Whether the event `eid` of `user` is still kept: sending it again is then a duplicate.
async fn kept(s: &dyn Store, user: &str, eid: &str, kind: EventKind) -> bool {
    let ev = event(&format!("{eid}-{user}"), user, kind, at(2));
    s.apply_event("default", &person(user), &ev, &json!({}), at(20))
        .await
        .unwrap()
        == Applied::Duplicate
}

async fn someone_who_never_answered_has_no_consent(s: &dyn Store) {
    assert!(s.get_consent("default", "u1").await.unwrap().is_none());
}

async fn a_consent_answer_is_kept_with_the_time_it_was_given(s: &dyn Store) {
    let c = s
        .put_consent("default", "u1", &consent(true, false), at(4))
        .await
        .unwrap();
    assert_eq!(
        (c.location, c.personalization, c.updated_at),
        (true, false, Some(at(4)))
    );
    s.put_consent("default", "u1", &consent(false, false), at(8))
        .await
        .unwrap();
    let got = s.get_consent("default", "u1").await.unwrap().unwrap();
    assert_eq!(
        (got.user_id.as_str(), got.location, got.updated_at),
        ("u1", false, Some(at(8)))
    );
    assert!(
        s.get_consent("other-app", "u1").await.unwrap().is_none(),
        "user ids are scoped by app"
    );
}

async fn every_consent_answer_stays_in_the_history(s: &dyn Store) {
    s.put_consent("default", "u1", &consent(true, true), at(1))
        .await
        .unwrap();
    s.put_consent("default", "u1", &consent(true, false), at(2))
        .await
        .unwrap();
    let q = timeline_of("u1");
    let rows = s.timeline(&q).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.kind.as_str(), r.at))
            .collect::<Vec<_>>(),
        [("consent", at(1)), ("consent", at(2))]
    );
    assert_eq!(
        rows[1].detail,
        json!({"location": true, "personalization": false})
    );
}

async fn the_profile_holds_follows_interests_and_purchases_since_the_time_asked(s: &dyn Store) {
    let p = person("u1");
    for (i, sku) in ["old", "mid", "new"].iter().enumerate() {
        let ev = event(
            &format!("p{i}"),
            "u1",
            purchase("acme", sku),
            at(10 * i as i64),
        );
        s.apply_event("default", &p, &ev, &json!({}), at(30))
            .await
            .unwrap();
    }
    let ev = event("f", "u1", EventKind::Follow { brand: bid("acme") }, at(0));
    s.apply_event("default", &p, &ev, &json!({}), at(30))
        .await
        .unwrap();
    let profile = s.profile(&p, at(10)).await.unwrap();
    assert_eq!(profile.follows, [bid("acme")]);
    let skus: Vec<_> = profile
        .purchases
        .iter()
        .map(|x| (x.sku.clone().unwrap(), x.at))
        .collect();
    assert_eq!(
        skus,
        [("new".to_string(), at(20)), ("mid".to_string(), at(10))],
        "since is inclusive, newest first"
    );
    assert!(
        s.profile(&person("u2"), t0())
            .await
            .unwrap()
            .purchases
            .is_empty()
    );
}

async fn erasing_the_profile_keeps_history_and_consent(s: &dyn Store) {
    let id = someone(s, "u1").await;
    s.erase(&person("u1"), Erase::Profile).await.unwrap();
    let profile = s.profile(&person("u1"), t0()).await.unwrap();
    assert!(
        profile.follows.is_empty() && profile.interests.is_empty() && profile.purchases.is_empty()
    );
    assert!(
        !kept(s, "u1", "p", purchase("acme", "sku-1")).await,
        "profile events go"
    );
    assert!(
        kept(s, "u1", "o", EventKind::Opened { delivery_id: id }).await,
        "delivery events stay"
    );
    assert_eq!(s.decisions_by_checkin("c-u1").await.unwrap().len(), 1);
    assert_eq!(s.get_delivery(id).await.unwrap().unwrap().user_id, "u1");
    assert!(s.get_consent("default", "u1").await.unwrap().is_some());
}

async fn erasing_history_removes_decisions_and_events_and_de_identifies_deliveries(s: &dyn Store) {
    let id = someone(s, "u1").await;
    someone(s, "u2").await;
    s.erase(&person("u1"), Erase::History).await.unwrap();
    assert!(s.decisions_by_checkin("c-u1").await.unwrap().is_empty());
    assert!(s.prior_decision("default", "c-u1").await.unwrap().is_none());
    assert!(
        s.profile(&person("u1"), t0())
            .await
            .unwrap()
            .follows
            .is_empty()
    );
    assert!(
        !kept(s, "u1", "p", purchase("acme", "sku-1")).await,
        "every event goes"
    );
    let d = s
        .get_delivery(id)
        .await
        .unwrap()
        .expect("the delivery stays, for the brand's counts");
    assert_eq!((d.user_id.as_str(), d.device_id.clone()), ("erased", None));
    assert_ne!(d.checkin_id, "c-u1");
    let mine = DeliveryFilter {
        person: Some(person("u1").to_string()),
        ..Default::default()
    };
    assert!(s.list_deliveries(&mine, None, 10).await.unwrap().is_empty());
    let reads = s
        .list_reads(&ReadQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let subjects: Vec<_> = reads.iter().map(|r| r.subject.clone().unwrap()).collect();
    assert_eq!(
        subjects,
        ["u2", "erased"],
        "the read log no longer names u1"
    );
    assert!(
        s.get_consent("default", "u1").await.unwrap().is_some(),
        "consent stays"
    );
    assert_eq!(
        s.decisions_by_checkin("c-u2").await.unwrap().len(),
        1,
        "others are untouched"
    );
    assert_eq!(
        s.profile(&person("u2"), t0()).await.unwrap().follows.len(),
        1
    );
}

async fn erasing_everything_removes_consent_and_its_history_too(s: &dyn Store) {
    someone(s, "u1").await;
    s.erase(&person("u1"), Erase::Everything).await.unwrap();
    assert!(s.get_consent("default", "u1").await.unwrap().is_none());
    let q = timeline_of("u1");
    assert!(s.timeline(&q).await.unwrap().is_empty());
    assert!(s.decisions_by_checkin("c-u1").await.unwrap().is_empty());
}

async fn an_erasure_receipt_is_kept(s: &dyn Store) {
    s.record_erasure(&Uuid::new_v4().to_string(), at(1))
        .await
        .unwrap();
    s.record_erasure(&Uuid::new_v4().to_string(), at(1))
        .await
        .unwrap();
}

store_tests!(
    someone_who_never_answered_has_no_consent,
    a_consent_answer_is_kept_with_the_time_it_was_given,
    every_consent_answer_stays_in_the_history,
    the_profile_holds_follows_interests_and_purchases_since_the_time_asked,
    erasing_the_profile_keeps_history_and_consent,
    erasing_history_removes_decisions_and_events_and_de_identifies_deliveries,
    erasing_everything_removes_consent_and_its_history_too,
    an_erasure_receipt_is_kept,
);
