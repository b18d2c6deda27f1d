//! `EventStore`: events applied once, delivery transitions, and the counts behind results.

use crate::fixtures::*;
use geoffer::decisions::DecisionRecord;
use geoffer::events::EventKind;
use geoffer::store::{Applied, Store, StoreError};
use serde_json::json;
use uuid::Uuid;

async fn apply(
    s: &dyn Store,
    user: &str,
    id: &str,
    kind: EventKind,
) -> Result<Applied, StoreError> {
    let ev = event(id, user, kind, at(5));
    s.apply_event(
        "default",
        &person(user),
        &ev,
        &json!({"event_id": id}),
        at(6),
    )
    .await
}

/// One delivery to `user`, saved; returns its record.
async fn one_delivery(s: &dyn Store, user: &str) -> DecisionRecord {
    let d = delivered("c1", user, "acme", Uuid::from_u128(1), at(0));
    s.save_decisions(vec![d.clone()]).await.unwrap();
    d
}

fn redeem(d: &DecisionRecord, code: &str) -> EventKind {
    EventKind::Redeemed {
        delivery_id: delivery_id(d),
        redemption_code: Some(code.into()),
    }
}

async fn an_event_is_applied_once_and_its_resend_is_a_duplicate(s: &dyn Store) {
    let first = apply(s, "u1", "e1", purchase("acme", "sku")).await.unwrap();
    assert_eq!(
        first,
        Applied::Accepted {
            brand: Some("acme".into())
        }
    );
    assert_eq!(
        apply(s, "u1", "e1", purchase("acme", "sku")).await.unwrap(),
        Applied::Duplicate
    );
    assert_eq!(
        s.profile(&person("u1"), t0())
            .await
            .unwrap()
            .purchases
            .len(),
        1
    );
}

async fn the_same_event_id_from_another_app_is_another_event(s: &dyn Store) {
    apply(s, "u1", "e1", purchase("acme", "sku")).await.unwrap();
    let ev = event("e1", "u1", purchase("acme", "sku"), at(5));
    let other = s
        .apply_event(
            "other",
            &geoffer::people::PersonId::of("other", "u1"),
            &ev,
            &json!({}),
            at(6),
        )
        .await
        .unwrap();
    assert!(matches!(other, Applied::Accepted { .. }));
}

async fn follows_and_unfollows_change_the_profile(s: &dyn Store) {
    apply(s, "u1", "f1", EventKind::Follow { brand: bid("acme") })
        .await
        .unwrap();
    apply(s, "u1", "f2", EventKind::Follow { brand: bid("beta") })
        .await
        .unwrap();
    apply(s, "u1", "f3", EventKind::Unfollow { brand: bid("acme") })
        .await
        .unwrap();
    assert_eq!(
        s.profile(&person("u1"), t0()).await.unwrap().follows,
        [bid("beta")]
    );
}

async fn traits_replace_the_interests_and_are_applied_once(s: &dyn Store) {
    let t = |i: &[&str]| EventKind::Traits {
        interests: i.iter().map(|x| x.to_string()).collect(),
        tier: Some("gold".into()),
    };
    assert_eq!(
        apply(s, "u1", "t1", t(&["tea", "cake"])).await.unwrap(),
        Applied::Accepted { brand: None }
    );
    apply(s, "u1", "t2", t(&["coffee"])).await.unwrap();
    assert_eq!(
        apply(s, "u1", "t1", t(&["tea"])).await.unwrap(),
        Applied::Duplicate
    );
    assert_eq!(
        s.profile(&person("u1"), t0()).await.unwrap().interests,
        ["coffee"]
    );
}

async fn an_event_about_an_unknown_delivery_is_not_found(s: &dyn Store) {
    let err = apply(
        s,
        "u1",
        "o1",
        EventKind::Opened {
            delivery_id: Uuid::new_v4(),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn an_event_about_someone_elses_delivery_is_a_conflict(s: &dyn Store) {
    let d = one_delivery(s, "u1").await;
    let err = apply(
        s,
        "u2",
        "o1",
        EventKind::Opened {
            delivery_id: delivery_id(&d),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        s.get_delivery(delivery_id(&d))
            .await
            .unwrap()
            .unwrap()
            .status,
        "delivered"
    );
}

async fn a_delivery_moves_opened_then_redeemed_and_no_further(s: &dyn Store) {
    let d = one_delivery(s, "u1").await;
    let id = delivery_id(&d);
    let opened = apply(s, "u1", "o1", EventKind::Opened { delivery_id: id })
        .await
        .unwrap();
    assert_eq!(
        opened,
        Applied::Accepted {
            brand: Some("acme".into())
        }
    );
    assert_eq!(s.get_delivery(id).await.unwrap().unwrap().status, "opened");
    let wrong = apply(s, "u1", "r0", redeem(&d, "WRONG")).await.unwrap_err();
    assert!(matches!(wrong, StoreError::Conflict(_)), "{wrong:?}");
    apply(s, "u1", "r1", redeem(&d, "CODE-c1")).await.unwrap();
    assert_eq!(
        s.get_delivery(id).await.unwrap().unwrap().status,
        "redeemed"
    );
    let again = apply(s, "u1", "o2", EventKind::Dismissed { delivery_id: id })
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again:?}");
    assert_eq!(
        apply(s, "u1", "r1", redeem(&d, "CODE-c1")).await.unwrap(),
        Applied::Duplicate,
        "a resend is not a conflict"
    );
}

async fn a_code_redeemed_after_it_expired_is_a_conflict(s: &dyn Store) {
    let d = one_delivery(s, "u1").await;
    let late = event("r1", "u1", redeem(&d, "CODE-c1"), at(5 * 60));
    let err = s
        .apply_event("default", &person("u1"), &late, &json!({}), at(5 * 60))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn offer_results_count_deliveries_their_fates_conversions_and_the_holdout(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let offer = s
        .create_offer(&admin(), &acme, spec("Drinks"), t0())
        .await
        .unwrap()
        .id;
    let ds: Vec<_> = (0..4)
        .map(|i| delivered(&format!("c{i}"), &format!("u{i}"), "acme", offer, at(0)))
        .collect();
    let mut held = decision("h1", "h1", at(0));
    held.reason = Some("held-out".into());
    held.offer_id = Some(offer);
    let mut held_again = decision("h2", "h1", at(1));
    held_again.reason = Some("held-out".into());
    held_again.offer_id = Some(offer);
    let mut batch = ds.clone();
    batch.extend([held, held_again, {
        let mut h = decision("h3", "h2", at(0));
        h.reason = Some("held-out".into());
        h.offer_id = Some(offer);
        h
    }]);
    s.save_decisions(batch).await.unwrap();
    apply(
        s,
        "u0",
        "o",
        EventKind::Opened {
            delivery_id: delivery_id(&ds[0]),
        },
    )
    .await
    .unwrap();
    apply(
        s,
        "u1",
        "d",
        EventKind::Dismissed {
            delivery_id: delivery_id(&ds[1]),
        },
    )
    .await
    .unwrap();
    apply(s, "u2", "r", redeem(&ds[2], "CODE-c2"))
        .await
        .unwrap();
    // u3 buys within the window, h1 (held out) too; h2 buys from another brand.
    apply(s, "u3", "p3", purchase("acme", "sku")).await.unwrap();
    apply(s, "h1", "ph1", purchase("acme", "sku"))
        .await
        .unwrap();
    apply(s, "h2", "ph2", purchase("beta", "sku"))
        .await
        .unwrap();
    let r = s
        .offer_results(offer, chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        (r.deliveries, r.opened, r.dismissed, r.redeemed),
        (4, 1, 1, 1)
    );
    assert_eq!(r.conversions, 2, "the redemption and u3's purchase");
    assert_eq!(
        (r.holdout, r.holdout_conversions),
        (2, 1),
        "each held-out person once"
    );
    let narrow = s
        .offer_results(offer, chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        (narrow.conversions, narrow.holdout_conversions),
        (1, 0),
        "purchases after the window do not count"
    );
}

async fn offer_daily_counts_each_thing_on_the_utc_day_it_happened(s: &dyn Store) {
    let acme = brand(s, "acme").await;
    let offer = s
        .create_offer(&admin(), &acme, spec("Drinks"), t0())
        .await
        .unwrap()
        .id;
    let other = s
        .create_offer(&admin(), &acme, spec("Other"), t0())
        .await
        .unwrap()
        .id;
    // t0 is 2026-07-14T19:00Z: three deliveries on the 14th (the last at 23:30), one on the
    // 15th, one before the period (the 12th), and one of another offer.
    let day = |d: i64, mins: i64| at(d * 24 * 60 + mins);
    let ds = [
        delivered("c0", "u0", "acme", offer, day(0, 240)),
        delivered("c1", "u1", "acme", offer, day(0, 10)),
        delivered("c2", "u2", "acme", offer, day(0, 270)),
        delivered("c3", "u3", "acme", offer, day(1, 0)),
        delivered("c4", "u4", "acme", offer, day(-2, 0)),
        delivered("c5", "u5", "acme", other, day(0, 0)),
    ];
    s.save_decisions(ds.to_vec()).await.unwrap();
    let opened = |i: usize| EventKind::Opened {
        delivery_id: delivery_id(&ds[i]),
    };
    let events = [
        // u0 opens at 23:05 on the 14th and redeems at 00:20 on the 15th.
        (0, event("o0", "u0", opened(0), day(0, 245))),
        (0, event("r0", "u0", redeem(&ds[0], "CODE-c0"), day(0, 320))),
        // u1 dismisses on the 14th; u2 opens at 02:00 on the 15th.
        (
            1,
            event(
                "x1",
                "u1",
                EventKind::Dismissed {
                    delivery_id: delivery_id(&ds[1]),
                },
                day(0, 20),
            ),
        ),
        (2, event("o2", "u2", opened(2), day(0, 420))),
        // u4, delivered before the period, opens on the 14th: counted on the 14th.
        (4, event("o4", "u4", opened(4), day(0, 30))),
        // u3 buys 25 hours after the delivery: a conversion on the 16th (7-day window).
        (3, event("p3", "u3", purchase("acme", "sku"), day(2, 60))),
        // u5's delivery is another offer's.
        (5, event("o5", "u5", opened(5), day(0, 5))),
    ];
    for (i, ev) in &events {
        s.apply_event(
            "default",
            &person(&ds[*i].user_id),
            ev,
            &json!({}),
            ev.occurred_at,
        )
        .await
        .unwrap();
    }
    let from = "2026-07-13T00:00:00Z".parse().unwrap();
    let to = "2026-07-17T00:00:00Z".parse().unwrap();
    let days = s
        .offer_daily(offer, from, to, chrono::Duration::days(7))
        .await
        .unwrap();
    let got: Vec<_> = days
        .iter()
        .map(|d| {
            (
                d.date.to_string(),
                [
                    d.deliveries,
                    d.opens,
                    d.dismissals,
                    d.redemptions,
                    d.conversions,
                ],
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("2026-07-14".to_string(), [3, 2, 1, 0, 0]),
            ("2026-07-15".to_string(), [1, 1, 0, 1, 1]),
            ("2026-07-16".to_string(), [0, 0, 0, 0, 1]),
        ],
        "only days with something on them, each thing on its own UTC day"
    );
    // Conversions need the window: a purchase 25 hours later is none within a day.
    let narrow = s
        .offer_daily(offer, from, to, chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(narrow.iter().map(|d| d.conversions).sum::<u64>(), 1);
    // The period's ends: the 15th alone.
    let one = s
        .offer_daily(
            offer,
            "2026-07-15T00:00:00Z".parse().unwrap(),
            "2026-07-16T00:00:00Z".parse().unwrap(),
            chrono::Duration::days(7),
        )
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].date.to_string(), "2026-07-15");
}

store_tests!(
    an_event_is_applied_once_and_its_resend_is_a_duplicate,
    the_same_event_id_from_another_app_is_another_event,
    follows_and_unfollows_change_the_profile,
    traits_replace_the_interests_and_are_applied_once,
    an_event_about_an_unknown_delivery_is_not_found,
    an_event_about_someone_elses_delivery_is_a_conflict,
    a_delivery_moves_opened_then_redeemed_and_no_further,
    a_code_redeemed_after_it_expired_is_a_conflict,
    offer_results_count_deliveries_their_fates_conversions_and_the_holdout,
    offer_daily_counts_each_thing_on_the_utc_day_it_happened,
);
